/*
 * conf.c: loads a settings table (conf.h) from the environment and from the
 * file named by PIPECHAT_CONF, the environment winning.
 *
 * The file is read once into a small array of KEY=VALUE pairs (unknown keys
 * are ignored: one file may serve all three programs). Every row is then
 * converted and checked, and every problem is written to errbuf, so an
 * operator sees all mistakes at once. Not a command-line parser, and not
 * where secrets come from (those are files of their own, token.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"

#define CONF_FILE_MAX  (64 * 1024)
#define CONF_FILE_KEYS 256
#define CONF_STR_MAX   4096

struct conf_pair {
	const char *key;
	const char *value;
};

struct conf_file {
	char *text; /* the file, cut into NUL-terminated keys and values */
	struct conf_pair pairs[CONF_FILE_KEYS];
	size_t npairs;
};

struct conf_errs {
	char *buf;
	size_t len, cap;
	int count;
};

static void conf_err(struct conf_errs *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
conf_err(struct conf_errs *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->count++;
	if (e->buf == NULL || e->cap == 0 || e->len + 1 >= e->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	e->len += (size_t)n;
	if (e->len >= e->cap - 1) {
		e->len = e->cap - 1;
		return;
	}
	e->buf[e->len++] = '\n';
	e->buf[e->len] = '\0';
}

static int
conf_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Trims p[0..*len) in place: returns the new start and updates *len. */
static char *
conf_trim(char *p, size_t *len)
{
	while (*len > 0 && conf_isspace((unsigned char)p[0])) {
		p++;
		(*len)--;
	}
	while (*len > 0 && conf_isspace((unsigned char)p[*len - 1]))
		(*len)--;
	return p;
}

static enum pc_err
conf_file_read(const char *path, struct conf_file *f, struct conf_errs *errs)
{
	char *text = NULL, *line, *next, *eq, *key, *val;
	size_t len = 0, klen, vlen;
	ssize_t n;
	int fd = -1, lineno = 0;
	enum pc_err e = PC_ERR_INVALID;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		conf_err(errs, "PIPECHAT_CONF: cannot open %s: %s", path,
		         strerror(errno));
		goto out;
	}
	if ((text = malloc(CONF_FILE_MAX + 1)) == NULL) {
		e = PC_ERR_NOMEM;
		goto out;
	}
	while (len <= CONF_FILE_MAX) {
		n = read(fd, text + len, CONF_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_err(errs, "PIPECHAT_CONF: cannot read %s: %s",
			         path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		conf_err(errs, "PIPECHAT_CONF: %s is larger than %d bytes",
		         path, CONF_FILE_MAX);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		conf_err(errs, "PIPECHAT_CONF: %s holds a NUL byte", path);
		goto out;
	}
	e = PC_OK;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		len = strlen(line);
		line = conf_trim(line, &len);
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "export", 6) == 0 &&
		    (line[6] == ' ' || line[6] == '\t')) {
			line += 7;
			len -= 7;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			conf_err(errs,
			         "PIPECHAT_CONF: %s:%d: expected KEY=VALUE",
			         path, lineno);
			e = PC_ERR_INVALID;
			continue;
		}
		*eq = '\0';
		klen = (size_t)(eq - line);
		key = conf_trim(line, &klen);
		key[klen] = '\0';
		vlen = strlen(eq + 1);
		val = conf_trim(eq + 1, &vlen);
		if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') &&
		    val[vlen - 1] == val[0]) {
			val++;
			vlen -= 2;
		}
		val[vlen] = '\0';
		if (klen == 0) {
			conf_err(errs, "PIPECHAT_CONF: %s:%d: empty key", path,
			         lineno);
			e = PC_ERR_INVALID;
			continue;
		}
		if (f->npairs == CONF_FILE_KEYS) {
			conf_err(errs, "PIPECHAT_CONF: %s: more than %d keys",
			         path, CONF_FILE_KEYS);
			e = PC_ERR_INVALID;
			break;
		}
		f->pairs[f->npairs].key = key;
		f->pairs[f->npairs].value = val;
		f->npairs++;
	}
	f->text = text;
	text = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return e;
}

/* The last occurrence in the file wins, as when a shell sources it. */
static const char *
conf_file_get(const struct conf_file *f, const char *key)
{
	size_t i = f->npairs;

	while (i-- > 0)
		if (strcmp(f->pairs[i].key, key) == 0)
			return f->pairs[i].value;
	return NULL;
}

static const struct {
	const char *word;
	int value;
} conf_bools[] = {
        {"1", 1}, {"true", 1},  {"yes", 1}, {"on", 1},
        {"0", 0}, {"false", 0}, {"no", 0},  {"off", 0},
};

static const char *const conf_levels[] = {
        [PC_LOG_ERR] = "err",
        [PC_LOG_WARN] = "warn",
        [PC_LOG_INFO] = "info",
        [PC_LOG_DEBUG] = "debug",
};

enum pc_err
pc_conf_log_level(const char *s, enum pc_log_level *out)
{
	size_t i;

	if (s == NULL)
		s = "info";
	for (i = 0; i < sizeof(conf_levels) / sizeof(conf_levels[0]); i++)
		if (strcasecmp(s, conf_levels[i]) == 0) {
			*out = (enum pc_log_level)i;
			return PC_OK;
		}
	return PC_ERR_INVALID;
}

/* Walks the comma-separated items of list, trimmed of spaces and tabs; calls
 * fn on each (also on empty ones) and stops when it returns non-zero. */
static int
conf_list_walk(const char *list,
               int (*fn)(const char *item, size_t len, void *arg), void *arg)
{
	const char *p = list, *end;
	size_t len;
	int r;

	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((r = fn(p, len, arg)) != 0)
			return r;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

struct conf_match {
	const char *item;
	size_t len;
};

static int
conf_list_match(const char *item, size_t len, void *arg)
{
	const struct conf_match *m = arg;

	return len == m->len && memcmp(item, m->item, len) == 0;
}

int
pc_conf_list_has(const char *list, const char *item, size_t item_len)
{
	struct conf_match m = {item, item_len};

	if (list == NULL || item == NULL || item_len == 0)
		return 0;
	return conf_list_walk(list, conf_list_match, &m);
}

static int
conf_item_addr(const char *item, size_t len, void *arg)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];

	(void)arg;
	if (len == 0 || len >= sizeof(tmp))
		return 1;
	memcpy(tmp, item, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1 ||
	    inet_pton(AF_INET6, tmp, bin) == 1)
		return 0;
	return 1;
}

/* scheme://host[:port]: host is a DNS name, an IPv4 address or [IPv6]. */
static int
conf_item_origin(const char *item, size_t len, void *arg)
{
	size_t i, hostlen, portlen;
	long port;

	(void)arg;
	if (len > 7 && strncmp(item, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && strncmp(item, "https://", 8) == 0)
		i = 8;
	else
		return 1;
	if (item[i] == '[') {
		for (i++; i < len && item[i] != ']'; i++)
			if (!isxdigit((unsigned char)item[i]) &&
			    item[i] != ':' && item[i] != '.')
				return 1;
		if (i == len)
			return 1;
		i++;
	} else {
		for (hostlen = 0; i < len && item[i] != ':'; i++, hostlen++)
			if (!isalnum((unsigned char)item[i]) &&
			    item[i] != '-' && item[i] != '.')
				return 1;
		if (hostlen == 0)
			return 1;
	}
	if (i == len)
		return 0;
	if (item[i] != ':')
		return 1;
	port = 0;
	for (i++, portlen = 0; i < len; i++, portlen++) {
		if (!isdigit((unsigned char)item[i]) || portlen >= 5)
			return 1;
		port = port * 10 + (item[i] - '0');
	}
	return portlen == 0 || port < 1 || port > 65535;
}

char *
pc_conf_default_origins(int64_t port)
{
	char *s = NULL;

	if (asprintf(&s, "http://127.0.0.1:%lld,http://localhost:%lld",
	             (long long)port, (long long)port) < 0)
		return NULL;
	return s;
}

/* Converts one value of row r into the field; reports and returns non-zero on
 * a bad value. `origin` says where it came from, for the message. */
static int
conf_set(const struct pc_conf_row *r, const char *v, const char *origin,
         void *out, struct conf_errs *errs)
{
	char *field = (char *)out + r->offset;
	long long ll;
	char *end, *copy;
	size_t i, len, maxlen;
	enum pc_log_level lvl;
	int bad;

	switch (r->type) {
	case PC_CONF_INT:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (!(isdigit((unsigned char)v[0]) ||
		      ((v[0] == '-' || v[0] == '+') &&
		       isdigit((unsigned char)v[1]))) ||
		    *end != '\0' || errno == ERANGE) {
			conf_err(errs, "%s (%s, %s): not an integer: \"%.40s\"",
			         r->env, r->name, origin, v);
			return 1;
		}
		if (ll < r->min || ll > r->max) {
			conf_err(errs, "%s (%s, %s): %lld is outside %lld-%lld",
			         r->env, r->name, origin, ll, (long long)r->min,
			         (long long)r->max);
			return 1;
		}
		*(int64_t *)(void *)field = ll;
		return 0;
	case PC_CONF_BOOL:
		for (i = 0; i < sizeof(conf_bools) / sizeof(conf_bools[0]); i++)
			if (strcasecmp(v, conf_bools[i].word) == 0) {
				*(int *)(void *)field = conf_bools[i].value;
				return 0;
			}
		conf_err(errs, "%s (%s, %s): not a boolean (yes/no): \"%.40s\"",
		         r->env, r->name, origin, v);
		return 1;
	case PC_CONF_LOG_LEVEL:
		if (pc_conf_log_level(v, &lvl) != PC_OK) {
			conf_err(errs,
			         "%s (%s, %s): not err/warn/info/debug: "
			         "\"%.40s\"",
			         r->env, r->name, origin, v);
			return 1;
		}
		*(enum pc_log_level *)(void *)field = lvl;
		return 0;
	case PC_CONF_STR:
	case PC_CONF_ADDR_LIST:
	case PC_CONF_ORIGIN_LIST:
		len = strlen(v);
		maxlen = r->max > 0 ? (size_t)r->max : CONF_STR_MAX;
		if (len > maxlen || (r->min > 0 && len < (size_t)r->min)) {
			conf_err(errs,
			         "%s (%s, %s): length %zu is outside "
			         "%lld-%zu bytes",
			         r->env, r->name, origin, len,
			         (long long)(r->min > 0 ? r->min : 0), maxlen);
			return 1;
		}
		bad = 0;
		if (r->type == PC_CONF_ADDR_LIST && len > 0)
			bad = conf_list_walk(v, conf_item_addr, NULL);
		else if (r->type == PC_CONF_ORIGIN_LIST)
			bad = conf_list_walk(v, conf_item_origin, NULL);
		if (bad) {
			conf_err(errs, "%s (%s, %s): %s: \"%.200s\"", r->env,
			         r->name, origin,
			         r->type == PC_CONF_ADDR_LIST
			                 ? "every item must be an IP address"
			                 : "every item must be "
			                   "http(s)://host[:port]",
			         v);
			return 1;
		}
		if ((copy = strdup(v)) == NULL) {
			conf_err(errs, "%s: out of memory", r->env);
			return 1;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		return 0;
	}
	conf_err(errs, "%s (%s): unknown setting type", r->env, r->name);
	return 1;
}

enum pc_err
pc_conf_load(const struct pc_conf_row *rows, size_t nrows, void *out,
             char *errbuf, size_t errlen)
{
	struct conf_file file;
	struct conf_errs errs;
	const char *path, *v, *origin;
	size_t i;
	enum pc_err e = PC_OK;

	memset(&file, 0, sizeof(file));
	memset(&errs, 0, sizeof(errs));
	errs.buf = errbuf;
	errs.cap = errlen;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	path = getenv("PIPECHAT_CONF");
	if (path != NULL && path[0] != '\0' &&
	    conf_file_read(path, &file, &errs) == PC_ERR_NOMEM) {
		e = PC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nrows; i++) {
		const struct pc_conf_row *r = &rows[i];

		origin = "environment";
		v = getenv(r->env);
		if (v == NULL || v[0] == '\0') {
			origin = "settings file";
			v = conf_file_get(&file, r->env);
		}
		if (v == NULL || v[0] == '\0') {
			origin = "default";
			v = r->def;
		}
		if (v == NULL) {
			if (r->required)
				conf_err(&errs, "%s (%s) is required", r->env,
				         r->name);
			continue;
		}
		conf_set(r, v, origin, out, &errs);
	}
	if (errs.count > 0)
		e = PC_ERR_INVALID;
out:
	if (e != PC_OK)
		pc_conf_free(rows, nrows, out);
	free(file.text);
	return e;
}

void
pc_conf_free(const struct pc_conf_row *rows, size_t nrows, void *out)
{
	size_t i;
	char **field;

	if (out == NULL)
		return;
	for (i = 0; i < nrows; i++) {
		if (rows[i].type != PC_CONF_STR &&
		    rows[i].type != PC_CONF_ADDR_LIST &&
		    rows[i].type != PC_CONF_ORIGIN_LIST)
			continue;
		field = (char **)(void *)((char *)out + rows[i].offset);
		free(*field);
		*field = NULL;
	}
}

/* A setting whose variable names a token or password is shown as set or
 * unset, never printed. */
static int
conf_is_secretish(const char *env)
{
	return strstr(env, "TOKEN") != NULL || strstr(env, "SECRET") != NULL ||
	       strstr(env, "PASSWORD") != NULL;
}

void
pc_conf_print(const struct pc_conf_row *rows, size_t nrows, const void *in)
{
	const char *field, *s;
	size_t i;
	int lvl;

	for (i = 0; i < nrows; i++) {
		field = (const char *)in + rows[i].offset;
		printf("%-32s ", rows[i].env);
		switch (rows[i].type) {
		case PC_CONF_INT:
			printf("%lld",
			       (long long)*(
			               const int64_t *)(const void *)field);
			break;
		case PC_CONF_BOOL:
			printf("%s", *(const int *)(const void *)field ? "yes"
			                                               : "no");
			break;
		case PC_CONF_LOG_LEVEL:
			lvl = (int)*(
			        const enum pc_log_level *)(const void *)field;
			printf("%s", lvl >= 0 && lvl <= PC_LOG_DEBUG
			                     ? conf_levels[lvl]
			                     : "?");
			break;
		default:
			s = *(char *const *)(const void *)field;
			if (s == NULL)
				printf("(unset)");
			else if (conf_is_secretish(rows[i].env))
				printf("(set)");
			else
				printf("\"%s\"", s);
			break;
		}
		printf("  # %s\n", rows[i].name);
	}
}

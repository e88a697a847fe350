/*
 * auth.c: pipe -> principal records and the user -> pipes index (auth.h).
 * A session's pipes are found by a scan: revocation is rare, and a second
 * index would be one more thing to keep right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "online.h"
#include "idmap.h"
#include "log.h"

#define AUTH_TOKEN_MAX 4096

struct auth_user {
	int64_t id;
	uint32_t *pipes;
	size_t n, cap;
};

static struct {
	const struct pc_secret *secret;
	struct idmap pipes; /* id -> struct auth_pipe */
	struct idmap users; /* id -> struct auth_user (authenticated pipes) */
	size_t nauth;
} au;

void
auth_init(const struct pc_secret *secret)
{
	au.secret = secret;
}

static void
auth_user_remove(int64_t user, uint32_t pipe)
{
	struct auth_user *u = idmap_get(&au.users, user);
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		if (u->pipes[i] == pipe) {
			u->pipes[i] = u->pipes[--u->n];
			au.nauth--;
			online_touch(user);
			break;
		}
	}
	if (u->n == 0) {
		idmap_del(&au.users, user);
		free(u->pipes);
		free(u);
	}
}

void
auth_fini(void)
{
	int64_t key;
	void *val;
	size_t pos = 0;

	while (idmap_next(&au.pipes, &pos, &key, &val)) {
		memset(val, 0, sizeof(struct auth_pipe));
		free(val);
	}
	pos = 0;
	while (idmap_next(&au.users, &pos, &key, &val)) {
		free(((struct auth_user *)val)->pipes);
		free(val);
	}
	idmap_free(&au.pipes);
	idmap_free(&au.users);
	au.nauth = 0;
}

enum pc_err
auth_token(const char *token, size_t len, time_t now, struct pc_principal *out)
{
	char buf[AUTH_TOKEN_MAX + 1];
	enum pc_err e;

	if (len == 0 || len > AUTH_TOKEN_MAX ||
	    memchr(token, '\0', len) != NULL)
		return PC_ERR_UNAUTHENTICATED;
	memcpy(buf, token, len);
	buf[len] = '\0';
	e = pc_token_verify(au.secret, buf, now, out);
	memset(buf, 0, len);
	return e == PC_OK ? PC_OK : PC_ERR_UNAUTHENTICATED;
}

enum pc_err
auth_begin(uint32_t pipe, uint64_t req_id, const struct pc_principal *who,
           int batch)
{
	struct auth_pipe *p = idmap_get(&au.pipes, pipe);

	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return PC_ERR_NOMEM;
		if (idmap_put(&au.pipes, pipe, p) != PC_OK) {
			free(p);
			return PC_ERR_NOMEM;
		}
	} else if (p->state == AUTH_OK)
		auth_user_remove(p->who.user_id, pipe);
	p->id = pipe;
	p->state = AUTH_PENDING;
	p->req_id = req_id;
	p->who = *who;
	p->batch = batch;
	return PC_OK;
}

enum pc_err
auth_accept(uint32_t pipe, const char *username, int64_t max_sockets)
{
	struct auth_pipe *p = idmap_get(&au.pipes, pipe);
	struct auth_user *u;
	uint32_t *g;
	size_t cap;

	if (p == NULL || p->state != AUTH_PENDING)
		return PC_ERR_NOT_FOUND;
	u = idmap_get(&au.users, p->who.user_id);
	if (u != NULL && (int64_t)u->n >= max_sockets) {
		auth_forget(pipe);
		return PC_ERR_LIMIT_REACHED;
	}
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return PC_ERR_NOMEM;
		u->id = p->who.user_id;
		if (idmap_put(&au.users, u->id, u) != PC_OK) {
			free(u);
			return PC_ERR_NOMEM;
		}
	}
	if (u->n == u->cap) {
		cap = u->cap * 2 + 4;
		if ((g = realloc(u->pipes, cap * sizeof(*g))) == NULL) {
			if (u->n == 0) {
				idmap_del(&au.users, u->id);
				free(u->pipes);
				free(u);
			}
			return PC_ERR_NOMEM;
		}
		u->pipes = g;
		u->cap = cap;
	}
	u->pipes[u->n++] = pipe;
	au.nauth++;
	online_touch(u->id);
	snprintf(p->who.username, sizeof(p->who.username), "%s", username);
	p->state = AUTH_OK;
	return PC_OK;
}

struct auth_pipe *
auth_get(uint32_t pipe)
{
	return idmap_get(&au.pipes, pipe);
}

void
auth_forget(uint32_t pipe)
{
	struct auth_pipe *p = idmap_del(&au.pipes, pipe);

	if (p == NULL)
		return;
	if (p->state == AUTH_OK)
		auth_user_remove(p->who.user_id, pipe);
	memset(p, 0, sizeof(*p));
	free(p);
}

size_t
auth_user_pipes(int64_t user, const uint32_t **pipes)
{
	struct auth_user *u = idmap_get(&au.users, user);

	if (u == NULL) {
		*pipes = NULL;
		return 0;
	}
	*pipes = u->pipes;
	return u->n;
}

size_t
auth_session_pipes(const char *sid, uint32_t *out, size_t max)
{
	int64_t key;
	void *val;
	size_t pos = 0, n = 0;
	struct auth_pipe *p;

	while (idmap_next(&au.pipes, &pos, &key, &val)) {
		p = val;
		if (p->state != AUTH_OK || strcmp(p->who.sid, sid) != 0)
			continue;
		if (n < max)
			out[n] = p->id;
		n++;
	}
	return n;
}

size_t
auth_count(void)
{
	return au.nauth;
}

size_t
auth_user_count(void)
{
	return au.users.len;
}

int
auth_next_user(size_t *pos, int64_t *user, int64_t *npipes)
{
	int64_t key;
	void *val;

	if (!idmap_next(&au.users, pos, &key, &val))
		return 0;
	*user = key;
	*npipes = (int64_t)((struct auth_user *)val)->n;
	return 1;
}

/*
 * conf.h: settings tables.
 *
 * Each program declares one table of rows (name, environment variable, type,
 * bounds, default, required, where in the program's settings struct the value
 * goes) and loads it once at start. Values come from the environment, which
 * overrides a settings file named by PIPECHAT_CONF (KEY=VALUE lines, # comments).
 * Every error is reported together; after loading the struct is treated as
 * const. Rows shared by several programs are macros here so they are spelled
 * once (PC_CONF_ROW_ORIGINS, ...).
 */
#ifndef PIPECHAT_CONF_H
#define PIPECHAT_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

enum pc_conf_type {
	PC_CONF_STR,  /* char * (malloc'd; NULL when unset and no default) */
	PC_CONF_INT,  /* int64_t within [min, max] */
	PC_CONF_BOOL, /* int: 0/1 from 0/1/true/false/yes/no/on/off */
};

struct pc_conf_row {
	const char *name;        /* short human name, e.g. "port" */
	const char *env;         /* PIPECHAT_PORT */
	enum pc_conf_type type;
	int64_t min, max;        /* PC_CONF_INT bounds; PC_CONF_STR: max length (0 = 4096) */
	const char *def;         /* default as text, or NULL */
	int required;            /* non-zero: unset and no default is an error */
	size_t offset;           /* offsetof(struct settings, field) */
	const char *help;        /* one line for -h and the docs */
};

/*
 * Fills `out` (a zeroed struct of the program's own type) from the table.
 * On error writes every problem, one per line, into errbuf and returns
 * PC_ERR_INVALID; fields already set are freed with pc_conf_free.
 */
enum pc_err pc_conf_load(const struct pc_conf_row *rows, size_t nrows, void *out,
    char *errbuf, size_t errlen);
/* Frees the strings pc_conf_load set. */
void pc_conf_free(const struct pc_conf_row *rows, size_t nrows, void *out);
/* Prints name, variable, value (secrets are never settings) for `-n`. */
void pc_conf_print(const struct pc_conf_row *rows, size_t nrows, const void *in);

/*
 * A list setting such as PIPECHAT_ORIGINS ("a,b,c") split into items.
 * pc_conf_list_has compares whole items, exactly (no prefix match).
 */
int pc_conf_list_has(const char *list, const char *item, size_t item_len);

#endif

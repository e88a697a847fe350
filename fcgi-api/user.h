/*
 * user.h: other users as a handler sees them: finding one by username, and
 * whether one blocks another (contract section 8).
 *
 * A deleted account is never found by name (its row stays for its messages'
 * sake, renamed, see README.md), and someone who blocks the caller is
 * answered exactly like someone who does not exist, so a block does not leak.
 * Not for the caller's own account (session.h) or for answers (resp.h).
 */
#ifndef PIPECHAT_API_USER_H
#define PIPECHAT_API_USER_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "valid.h"

struct user_ref {
	int64_t id;
	char username[PC_USERNAME_MAX + 1]; /* as registered */
};

/*
 * The live user whose username is name, ignoring case. PC_OK and *out;
 * PC_ERR_NOT_FOUND when name is not a well-formed username or nobody live
 * has it; PC_ERR_UNAVAILABLE.
 */
enum pc_err user_lookup(struct db *db, const char *name, struct user_ref *out);

/*
 * user_lookup, then the rule "someone who blocks you cannot be invited,
 * DMed or called by you": PC_ERR_NOT_FOUND also when that user blocks
 * viewer_id.
 */
enum pc_err user_lookup_reachable(struct db *db, int64_t viewer_id,
                                  const char *name, struct user_ref *out);

/* Adds {id, username} under key to obj (key NULL: obj is an array). Returns
 * 0 on ENOMEM. */
int user_add_json(cJSON *obj, const char *key, int64_t id,
                  const char *username);

#endif

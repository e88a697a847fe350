/*
 * password.h: argon2id password hashes (libsodium), with a cap on how many
 * are computed at once.
 *
 * Each hash costs PASSWORD_MEMLIMIT bytes of memory and about 14 ms of CPU
 * (FACTS.md), so a flood of logins could take all memory; a counting
 * semaphore (PIPECHAT_HASH_CONCURRENCY) makes extra requests wait their
 * turn instead. A dummy hash made at start lets a login for an unknown user
 * cost the same time as a wrong password. Process-wide state, set up once
 * before the request threads start; the functions are thread-safe.
 */
#ifndef PIPECHAT_API_PASSWORD_H
#define PIPECHAT_API_PASSWORD_H

#include <stddef.h>
#include <sodium.h>

#include "err.h"

#define PASSWORD_OPSLIMIT 2
#define PASSWORD_MEMLIMIT (19U * 1024U * 1024U) /* OWASP's argon2id minimum */
#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Calls sodium_init, sets the cap and makes the dummy hash. Before threads.
 * PC_OK, PC_ERR_SYSTEM, PC_ERR_NOMEM. */
enum pc_err password_init(int concurrency);
/* Releases what password_init made. After the threads are joined. */
void password_fini(void);

/* Hashes pw (len bytes) into out (PASSWORD_HASH_MAX, NUL-terminated).
 * PC_OK or PC_ERR_NOMEM. Waits for a slot. */
enum pc_err password_hash(const char *pw, size_t len,
                          char out[PASSWORD_HASH_MAX]);
/* Non-zero when pw matches hash. Waits for a slot. */
int password_verify(const char *hash, const char *pw, size_t len);
/* Verifies pw against the dummy hash (always 0), taking the same time. */
int password_verify_dummy(const char *pw, size_t len);

#endif

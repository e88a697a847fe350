/*
 * ice.h: the ICE servers GET /api/config hands to browsers (contract section
 * 3): the STUN URLs for everyone, and for a signed-in user the TURN URLs
 * with a short-lived credential in coturn's REST-API scheme
 * (use-auth-secret): username "<expiry unix time>:<user id>", credential
 * base64(HMAC-SHA1(static-auth-secret, username)).
 *
 * The TURN secret is read once at start (ice_open, before the request
 * threads) into this file's statics, read-only afterwards, and wiped by
 * ice_close. Not here: who is signed in (session.h), the rest of the config
 * answer (h_meta.c).
 */
#ifndef PIPECHAT_API_ICE_H
#define PIPECHAT_API_ICE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "err.h"
#include "settings.h"

#define ICE_HMAC_LEN       20 /* SHA-1 */
#define ICE_CREDENTIAL_LEN 29 /* base64 of 20 bytes (28) and the NUL */
#define ICE_USERNAME_LEN   48 /* two int64 in decimal, ':' and the NUL */

/*
 * Non-zero when list (borrowed, may be NULL: the empty list) is a
 * comma-separated list of STUN URLs (turn == 0: stun: or stuns:) or TURN
 * URLs (turn != 0: turn: or turns:), each item trimmed of spaces, in the
 * RFC 7064/7065 shape: scheme, host (name, IPv4 or [IPv6]), optional
 * :port (1-65535) and, for TURN only, an optional ?transport=udp|tcp.
 * No empty item, no "//", nothing else.
 */
int ice_urls_ok(const char *list, int turn);

/*
 * The coturn credential of username under key (keylen bytes, borrowed):
 * base64 (original alphabet, padded) of HMAC-SHA1(key, username) into out
 * (out_size >= ICE_CREDENTIAL_LEN). PC_OK, PC_ERR_INVALID (buffer too
 * small, empty key), PC_ERR_INTERNAL (libcrypto failed). out is written
 * only on success.
 */
enum pc_err ice_credential(const unsigned char *key, size_t keylen,
                           const char *username, char *out, size_t out_size);

/*
 * Reads the TURN secret from set->turn_secret_file when TURN URLs are set
 * (nothing to do otherwise). The file must be a regular file of mode 0600
 * or stricter, at least 32 bytes once trailing spaces and line ends are
 * cut (they are: coturn's static-auth-secret is the text of one line).
 * Before the request threads start. PC_OK, PC_ERR_SYSTEM (errno set),
 * PC_ERR_INVALID (too short, too long or readable by others). set is
 * borrowed and must outlive every ice_servers_add call.
 */
enum pc_err ice_open(const struct api_settings *set);
/* Wipes the secret; after the request threads are joined. Idempotent. */
void ice_close(void);

/* Non-zero when signed-in users get a TURN entry (ice_open loaded one). */
int ice_has_turn(void);

/*
 * Appends to the array arr the STUN entry {"urls":[…]} (when STUN URLs are
 * set) and, when user_id > 0 and ice_has_turn(), the TURN entry
 * {"urls":[…],"username":…,"credential":…} valid until now + the TURN TTL.
 * Thread-safe after ice_open. PC_OK, PC_ERR_NOMEM, PC_ERR_INTERNAL; arr may
 * hold a part of the entries on error (the caller drops the whole tree).
 */
enum pc_err ice_servers_add(cJSON *arr, int64_t user_id, time_t now);

#endif

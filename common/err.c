/*
 * err.c: the table behind err.h: for every enum pc_err its public code, HTTP
 * status and default sentence. Indexed by the enum, so a lookup is an array
 * access and a missing row is caught by the unit test that walks the table.
 * Not a logger, and not where errors are decided: callers pick the error.
 */
#include <stddef.h>
#include <string.h>

#include "err.h"

struct err_row {
	const char *code;
	int status;
	const char *message;
};

/* Internal errors answer 503 "unavailable": a client never learns why. */
static const struct err_row err_rows[PC_ERR__MAX] = {
        [PC_OK] = {"ok", 200, "OK."},
        [PC_ERR_BAD_JSON] = {"bad_json", 400, "The request is not valid JSON."},
        [PC_ERR_UNAUTHENTICATED] =
                {"unauthenticated", 401,
                 "Sign in first: the session is missing, invalid or expired."},
        [PC_ERR_INVALID_CREDENTIALS] = {"invalid_credentials", 401,
                                        "Wrong username or password."},
        [PC_ERR_FORBIDDEN_ORIGIN] =
                {"forbidden_origin", 403,
                 "Requests from this origin are not allowed."},
        [PC_ERR_FORBIDDEN] = {"forbidden", 403,
                              "You are not allowed to do that."},
        [PC_ERR_NOT_FOUND] = {"not_found", 404, "Not found."},
        [PC_ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405,
                                       "This method is not allowed here."},
        [PC_ERR_CONFLICT] =
                {"conflict", 409,
                 "That conflicts with something that already exists."},
        [PC_ERR_NOT_PRIVATE] = {"not_private", 409,
                                "Only private rooms take invitations."},
        [PC_ERR_CANNOT_LEAVE_DIRECT] =
                {"cannot_leave_direct", 409,
                 "A direct conversation cannot be left, renamed or deleted."},
        [PC_ERR_ALREADY_MEMBER] = {"already_member", 409,
                                   "That user is already a member."},
        [PC_ERR_ALREADY_INVITED] = {"already_invited", 409,
                                    "That user is already invited."},
        [PC_ERR_TOO_LARGE] = {"too_large", 413, "The request is too large."},
        [PC_ERR_UNSUPPORTED_MEDIA_TYPE] =
                {"unsupported_media_type", 415,
                 "Send the body as application/json."},
        [PC_ERR_INVALID] = {"invalid", 422, "A field is missing or invalid."},
        [PC_ERR_RATE_LIMITED] = {"rate_limited", 429,
                                 "Too many requests; slow down."},
        [PC_ERR_TOO_MANY_ATTEMPTS] = {"too_many_attempts", 429,
                                      "Too many attempts; try again later."},
        [PC_ERR_UNAVAILABLE] =
                {"unavailable", 503,
                 "The service is unavailable; try again shortly."},
        [PC_ERR_UNKNOWN_TYPE] = {"unknown_type", 400, "Unknown frame type."},
        [PC_ERR_BAD_BODY] =
                {"bad_body", 422,
                 "A message must be 1-4000 characters of valid UTF-8 with no "
                 "control characters."},
        [PC_ERR_BAD_SINCE] =
                {"bad_since", 422,
                 "since must be between 0 and the room's last seq."},
        [PC_ERR_NOT_MEMBER] = {"not_member", 403,
                               "You are not a member of this room."},
        [PC_ERR_NOT_REACHABLE] = {"not_reachable", 404,
                                  "That user cannot be reached."},
        [PC_ERR_LIMIT_REACHED] =
                {"limit_reached", 429,
                 "A limit on open sockets or joined rooms was reached."},
        [PC_ERR_SESSION_REVOKED] = {"session_revoked", 401,
                                    "This session was signed out."},
        [PC_ERR_SESSION_EXPIRED] = {"session_expired", 401,
                                    "This session expired; sign in again."},
        [PC_ERR_NOMEM] = {"unavailable", 503,
                          "The service is unavailable; try again shortly."},
        [PC_ERR_SYSTEM] = {"unavailable", 503,
                           "The service is unavailable; try again shortly."},
        [PC_ERR_INTERNAL] = {"unavailable", 503,
                             "The service is unavailable; try again shortly."},
};

/* Out-of-range values (a corrupted enum) are treated as internal errors. */
static const struct err_row *
err_row(enum pc_err e)
{
	if ((unsigned)e >= PC_ERR__MAX || err_rows[e].code == NULL)
		return &err_rows[PC_ERR_INTERNAL];
	return &err_rows[e];
}

const char *
pc_err_code(enum pc_err e)
{
	return err_row(e)->code;
}

int
pc_err_status(enum pc_err e)
{
	return err_row(e)->status;
}

const char *
pc_err_message(enum pc_err e)
{
	return err_row(e)->message;
}

/* The first row with that code wins, so "unavailable" is PC_ERR_UNAVAILABLE,
 * never one of the internal errors that share its public code. */
enum pc_err
pc_err_from_code(const char *code)
{
	int i;

	if (code == NULL)
		return PC_ERR__MAX;
	for (i = 0; i < PC_ERR__MAX; i++)
		if (err_rows[i].code != NULL &&
		    strcmp(err_rows[i].code, code) == 0)
			return (enum pc_err)i;
	return PC_ERR__MAX;
}

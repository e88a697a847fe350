/*
 * err.h: the one error vocabulary of pipechat.
 *
 * Every fallible function in pipechat returns an enum pc_err (PC_OK = 0).
 * One table (err.c) maps each error to its public snake_case code (contract
 * section 9), its HTTP status and a default human sentence. The API turns an
 * error into an HTTP answer through this table; the worker turns it into an
 * `error` frame through the same table, so the two never disagree.
 * It is not a logging facility: see log.h.
 */
#ifndef PIPECHAT_ERR_H
#define PIPECHAT_ERR_H

enum pc_err {
	PC_OK = 0,
	/* Client errors that both HTTP and WebSocket answer. */
	PC_ERR_BAD_JSON,          /* 400 bad_json */
	PC_ERR_UNAUTHENTICATED,   /* 401 unauthenticated */
	PC_ERR_INVALID_CREDENTIALS, /* 401 invalid_credentials */
	PC_ERR_FORBIDDEN_ORIGIN,  /* 403 forbidden_origin */
	PC_ERR_FORBIDDEN,         /* 403 forbidden */
	PC_ERR_NOT_FOUND,         /* 404 not_found */
	PC_ERR_METHOD_NOT_ALLOWED, /* 405 method_not_allowed */
	PC_ERR_CONFLICT,          /* 409 conflict (with field) */
	PC_ERR_NOT_PRIVATE,       /* 409 not_private */
	PC_ERR_CANNOT_LEAVE_DIRECT, /* 409 cannot_leave_direct */
	PC_ERR_ALREADY_MEMBER,    /* 409 already_member */
	PC_ERR_ALREADY_INVITED,   /* 409 already_invited */
	PC_ERR_TOO_LARGE,         /* 413 too_large */
	PC_ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 unsupported_media_type */
	PC_ERR_INVALID,           /* 422 invalid (with field) */
	PC_ERR_RATE_LIMITED,      /* 429 rate_limited */
	PC_ERR_TOO_MANY_ATTEMPTS, /* 429 too_many_attempts */
	PC_ERR_UNAVAILABLE,       /* 503 unavailable: database or broker down */
	/* WebSocket-only codes (their HTTP status is what the API would use). */
	PC_ERR_UNKNOWN_TYPE,      /* unknown_type */
	PC_ERR_BAD_BODY,          /* bad_body */
	PC_ERR_BAD_SINCE,         /* bad_since */
	PC_ERR_NOT_MEMBER,        /* not_member */
	PC_ERR_NOT_REACHABLE,     /* not_reachable */
	PC_ERR_LIMIT_REACHED,     /* limit_reached */
	PC_ERR_SESSION_REVOKED,   /* session_revoked */
	PC_ERR_SESSION_EXPIRED,   /* session_expired */
	/* Internal: never caused by a client; the API answers 503 unavailable. */
	PC_ERR_NOMEM,
	PC_ERR_SYSTEM,            /* a system call failed; errno says why */
	PC_ERR_INTERNAL,          /* an impossible state; logged where found */
	PC_ERR__MAX
};

/* The public code ("bad_json"); internal errors give "unavailable". */
const char *pc_err_code(enum pc_err e);
/* The HTTP status for e (PC_OK is 200; internal errors are 503). */
int pc_err_status(enum pc_err e);
/* A default human sentence for e, never NULL. */
const char *pc_err_message(enum pc_err e);
/* The error whose public code is `code`, or PC_ERR__MAX when none is. */
enum pc_err pc_err_from_code(const char *code);

#endif

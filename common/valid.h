/*
 * valid.h: what a well-formed username, email, password, room name, message
 * body and client_id is (contract sections 3 and 8). Pure functions on bytes;
 * no allocation except pc_valid_room_name's output, which is the caller's buffer.
 */
#ifndef PIPECHAT_VALID_H
#define PIPECHAT_VALID_H

#include <stddef.h>
#include "err.h"

#define PC_USERNAME_MIN 3
#define PC_USERNAME_MAX 32
#define PC_EMAIL_MAX 254
#define PC_PASSWORD_MIN 8
#define PC_PASSWORD_MAX 1024
#define PC_ROOM_NAME_MAX 64      /* code points */
#define PC_ROOM_NAME_BYTES 256   /* 64 code points of at most 4 bytes */
#define PC_BODY_MAX 4000         /* code points */
#define PC_CLIENT_ID_MAX 64

/* Non-zero when p[0..len) is valid UTF-8: shortest form, no surrogates, <= U+10FFFF. */
int pc_valid_utf8(const char *p, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t pc_valid_utf8_count(const char *p, size_t len);

/* 3-32 of [A-Za-z0-9_.-]. */
int pc_valid_username(const char *s);
/* local@domain, <= 254 bytes, printable ASCII without spaces, one '@', a dot
 * in the domain, no empty labels. Deliberately simple: the address is never
 * mailed to, it is a second login name. */
int pc_valid_email(const char *s);
/* 8-1024 bytes of valid UTF-8. */
int pc_valid_password(const char *s);
/* A message body: valid UTF-8, 1-4000 code points, at least one non-space,
 * no control characters but tab and newline. PC_OK or PC_ERR_BAD_BODY. */
enum pc_err pc_valid_body(const char *s, size_t len);
/* Trims white space at both ends of s into out (out_size >= PC_ROOM_NAME_BYTES + 1);
 * the result must be 1-64 code points of valid UTF-8 without control characters.
 * PC_OK or PC_ERR_INVALID; out written only on success. */
enum pc_err pc_valid_room_name(const char *s, char *out, size_t out_size);
/* 1-64 printable ASCII characters (0x21-0x7e). */
int pc_valid_client_id(const char *s);

#endif

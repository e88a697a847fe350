/*
 * handlers.h: every route handler, for routes.c's table. One file per group
 * (h_auth.c, h_meta.c, h_rooms.c, h_messages.c); each handler's behaviour is
 * described where it is defined, against the contract's section 3 row.
 */
#ifndef PIPECHAT_API_HANDLERS_H
#define PIPECHAT_API_HANDLERS_H

#include "call.h"

/* h_auth.c */
enum pc_err h_register(struct call *c);
enum pc_err h_login(struct call *c);
enum pc_err h_logout(struct call *c);
enum pc_err h_logout_all(struct call *c);
enum pc_err h_me(struct call *c);

/* h_rooms.c */
enum pc_err h_rooms_list(struct call *c);
enum pc_err h_rooms_create(struct call *c);
enum pc_err h_rooms_get(struct call *c);
enum pc_err h_rooms_join(struct call *c);
enum pc_err h_rooms_leave(struct call *c);
enum pc_err h_rooms_members(struct call *c);

/* h_messages.c */
enum pc_err h_messages_list(struct call *c);
enum pc_err h_messages_read(struct call *c);

/* h_meta.c */
enum pc_err h_health(struct call *c);
enum pc_err h_config(struct call *c);

#endif

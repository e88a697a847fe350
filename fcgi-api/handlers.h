/*
 * handlers.h: every route handler, for routes.c's table. One file per group
 * (h_auth.c, h_account.c, h_users.c, h_rooms.c, h_moderate.c, h_dm.c,
 * h_invites.c, h_messages.c, h_meta.c); each handler's behaviour is
 * described where it is defined, against the contract's section 3 row.
 * Also the one helper the room handlers share.
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

/* h_account.c */
enum pc_err h_sessions_list(struct call *c);
enum pc_err h_sessions_revoke(struct call *c);
enum pc_err h_password_change(struct call *c);
enum pc_err h_me_delete(struct call *c);

/* h_users.c */
enum pc_err h_users_list(struct call *c);
enum pc_err h_blocks_list(struct call *c);
enum pc_err h_blocks_add(struct call *c);
enum pc_err h_blocks_remove(struct call *c);

/* h_rooms.c */
enum pc_err h_rooms_list(struct call *c);
enum pc_err h_rooms_create(struct call *c);
enum pc_err h_rooms_get(struct call *c);
enum pc_err h_rooms_join(struct call *c);
enum pc_err h_rooms_leave(struct call *c);
enum pc_err h_rooms_members(struct call *c);
/* Answers status with the room object of room_id as the caller sees it
 * (room_object); for the handlers of rooms in every file. */
enum pc_err h_rooms_answer(struct call *c, int status, int64_t room_id);

/* h_moderate.c */
enum pc_err h_rooms_rename(struct call *c);
enum pc_err h_rooms_delete(struct call *c);
enum pc_err h_rooms_kick(struct call *c);

/* h_dm.c */
enum pc_err h_dm_open(struct call *c);

/* h_invites.c */
enum pc_err h_invites_create(struct call *c);
enum pc_err h_invites_list(struct call *c);
enum pc_err h_invites_accept(struct call *c);
enum pc_err h_invites_decline(struct call *c);
enum pc_err h_invites_withdraw(struct call *c);

/* h_messages.c */
enum pc_err h_messages_list(struct call *c);
enum pc_err h_messages_read(struct call *c);
enum pc_err h_messages_edit(struct call *c);
enum pc_err h_messages_delete(struct call *c);

/* h_meta.c */
enum pc_err h_health(struct call *c);
enum pc_err h_config(struct call *c);
enum pc_err h_metrics(struct call *c);

#endif

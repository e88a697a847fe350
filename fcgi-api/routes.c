/*
 * routes.c: the API's route table: data only (STYLE.md). Each row: method,
 * pattern (":name" matches one segment), handler, flags, body limit. The
 * order does not matter: a path matches at most one row per method
 * (tests/unit/test_api_routes.c checks the table).
 */
#include "handlers.h"
#include "router.h"

#define B ROUTE_BODY_MAX

const struct route routes[] = {
        /* accounts and sessions (h_auth.c) */
        {"POST", "/api/register", h_register, ROUTE_JSON, B},
        {"POST", "/api/login", h_login, ROUTE_JSON, B},
        {"POST", "/api/logout", h_logout, ROUTE_AUTH, B},
        {"POST", "/api/logout-all", h_logout_all, ROUTE_AUTH, B},
        {"GET", "/api/me", h_me, ROUTE_AUTH | ROUTE_SESSION_SQL, B},
        /* my account (h_account.c) */
        {"GET", "/api/sessions", h_sessions_list, ROUTE_AUTH, B},
        {"DELETE", "/api/sessions/:id", h_sessions_revoke, ROUTE_AUTH, B},
        {"POST", "/api/password", h_password_change, ROUTE_AUTH | ROUTE_JSON,
         B},
        {"DELETE", "/api/me", h_me_delete, ROUTE_AUTH | ROUTE_JSON, B},
        /* other people (h_users.c) */
        {"GET", "/api/users", h_users_list, ROUTE_AUTH, B},
        {"GET", "/api/blocks", h_blocks_list, ROUTE_AUTH, B},
        {"POST", "/api/blocks", h_blocks_add, ROUTE_AUTH | ROUTE_JSON, B},
        {"DELETE", "/api/blocks/:username", h_blocks_remove, ROUTE_AUTH, B},
        /* rooms and membership (h_rooms.c) */
        {"GET", "/api/rooms", h_rooms_list, ROUTE_AUTH, B},
        {"POST", "/api/rooms", h_rooms_create, ROUTE_AUTH | ROUTE_JSON, B},
        {"GET", "/api/rooms/:id", h_rooms_get, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/join", h_rooms_join, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/leave", h_rooms_leave, ROUTE_AUTH, B},
        {"GET", "/api/rooms/:id/members", h_rooms_members, ROUTE_AUTH, B},
        /* the owner's powers (h_moderate.c) */
        {"PATCH", "/api/rooms/:id", h_rooms_rename, ROUTE_AUTH | ROUTE_JSON, B},
        {"DELETE", "/api/rooms/:id", h_rooms_delete, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/kick", h_rooms_kick, ROUTE_AUTH | ROUTE_JSON,
         B},
        /* direct rooms (h_dm.c) */
        {"POST", "/api/dm", h_dm_open, ROUTE_AUTH | ROUTE_JSON, B},
        /* invitations (h_invites.c) */
        {"POST", "/api/rooms/:id/invites", h_invites_create,
         ROUTE_AUTH | ROUTE_JSON, B},
        {"GET", "/api/invites", h_invites_list, ROUTE_AUTH, B},
        {"POST", "/api/invites/:id/accept", h_invites_accept, ROUTE_AUTH, B},
        {"POST", "/api/invites/:id/decline", h_invites_decline, ROUTE_AUTH, B},
        {"DELETE", "/api/invites/:id", h_invites_withdraw, ROUTE_AUTH, B},
        /* history and read markers (h_messages.c) */
        {"GET", "/api/rooms/:id/messages", h_messages_list,
         ROUTE_AUTH | ROUTE_SESSION_SQL, B},
        {"POST", "/api/rooms/:id/read", h_messages_read,
         ROUTE_AUTH | ROUTE_JSON, B},
        {"PATCH", "/api/rooms/:id/messages/:seq", h_messages_edit,
         ROUTE_AUTH | ROUTE_JSON, B},
        {"DELETE", "/api/rooms/:id/messages/:seq", h_messages_delete,
         ROUTE_AUTH, B},
        /* service (h_meta.c) */
        {"GET", "/api/health", h_health, ROUTE_NODB, B},
        {"GET", "/api/config", h_config, ROUTE_NODB, B},
        {"GET", "/api/metrics", h_metrics, ROUTE_NODB, B},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

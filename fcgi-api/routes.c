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
        {"GET", "/api/me", h_me, ROUTE_AUTH, B},
        /* rooms and membership (h_rooms.c) */
        {"GET", "/api/rooms", h_rooms_list, ROUTE_AUTH, B},
        {"POST", "/api/rooms", h_rooms_create, ROUTE_AUTH | ROUTE_JSON, B},
        {"GET", "/api/rooms/:id", h_rooms_get, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/join", h_rooms_join, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/leave", h_rooms_leave, ROUTE_AUTH, B},
        {"GET", "/api/rooms/:id/members", h_rooms_members, ROUTE_AUTH, B},
        /* history and read markers (h_messages.c) */
        {"GET", "/api/rooms/:id/messages", h_messages_list, ROUTE_AUTH, B},
        {"POST", "/api/rooms/:id/read", h_messages_read,
         ROUTE_AUTH | ROUTE_JSON, B},
        /* service (h_meta.c) */
        {"GET", "/api/health", h_health, ROUTE_NODB, B},
        {"GET", "/api/config", h_config, ROUTE_NODB, B},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);

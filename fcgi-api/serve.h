/*
 * serve.h: one request from struct req to struct resp, in the contract's
 * order of checks: route (404/405) -> Origin on state-changing methods (403)
 * -> session on ROUTE_AUTH routes (401) -> body size (413, before reading)
 * -> Content-Type of a present body (415) -> read the capped body -> JSON
 * object for ROUTE_JSON routes (400/422) -> the handler. Database failures
 * become 503; client input never does. Independent of FastCGI: the body
 * comes through req's reader, the answer is a struct resp.
 */
#ifndef PIPECHAT_API_SERVE_H
#define PIPECHAT_API_SERVE_H

#include "call.h"
#include "db.h"
#include "req.h"
#include "resp.h"

/* Answers req into resp (initialised by the caller). Never fails: every
 * outcome is an answer. Uses db (the calling thread's own connection). */
void serve(const struct api_env *env, struct db *db, struct req *req,
           struct resp *resp);

#endif

/*
 * h_meta.c: the service's own endpoints: health (liveness and database
 * reachability), config (public settings the page needs) and metrics
 * (Prometheus text). None needs a session; metrics needs no database, and
 * config uses it only to see whether a cookie is a live session (for TURN
 * credentials), answering without TURN when it is down.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>

#include "broker_metrics.h"
#include "handlers.h"
#include "ice.h"
#include "json.h"
#include "metrics.h"
#include "session.h"
#include "valid.h"

#define H_META_METRICS_MAX (1024 * 1024) /* the text of every metric */

#define H_META_FRAME_MAX 65536 /* contract section 4: one frame */

/* GET /api/health: 200 {"ok":true}, or 503 {"ok":false,"error":{…}}. */
enum pc_err
h_health(struct call *c)
{
	cJSON *o = NULL, *err;
	enum pc_err rc, up;

	up = db_ready(c->db);
	if (up == PC_OK)
		up = db_exec(c->db, "SELECT 1", 0, NULL, NULL);
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddBoolToObject(o, "ok", up == PC_OK) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	if (up != PC_OK) {
		err = resp_error_object(PC_ERR_UNAVAILABLE, NULL,
		                        "The database is unreachable.");
		if (err == NULL) {
			rc = PC_ERR_NOMEM;
			goto out;
		}
		cJSON_AddItemToObject(o, "error", err);
	}
	rc = resp_json(c->resp, up == PC_OK ? 200 : 503, o);
out:
	cJSON_Delete(o);
	return rc;
}

/*
 * The signed-in user behind the request's cookie, or 0: anonymous, a bad or
 * revoked session, or no database (TURN is then left out, the rest of the
 * answer stands). Looked up only when there is a TURN entry to hand out.
 */
static int64_t
h_meta_user(struct call *c)
{
	struct pc_principal who;

	if (!ice_has_turn() || c->req->cookie == NULL)
		return 0;
	memset(&who, 0, sizeof(who));
	if (db_ready(c->db) != PC_OK ||
	    session_authenticate(c->db, c->env->secret, c->req->cookie, &who) !=
	            PC_OK)
		return 0;
	return who.user_id;
}

/*
 * GET /api/config: {limits:{…}, ice_servers:[…]}: limits are contract
 * section 4's plus the API's own per-user hourly room_create_per_hour and
 * invite_per_hour (throttle.h); the STUN entry for
 * everyone, the TURN entry with a fresh credential for a signed-in user
 * (ice.h).
 */
enum pc_err
h_config(struct call *c)
{
	const struct api_settings *set = c->env->set;
	const struct pc_limits *l = &set->limits;
	cJSON *o = NULL, *lim, *ice_servers;
	enum pc_err rc = PC_ERR_NOMEM;

	o = cJSON_CreateObject();
	if (o == NULL || (lim = cJSON_AddObjectToObject(o, "limits")) == NULL)
		goto out;
	if (!pc_json_add_int(lim, "send_rate", l->send_rate) ||
	    !pc_json_add_int(lim, "send_burst", l->send_burst) ||
	    !pc_json_add_int(lim, "typing_rate", l->typing_rate) ||
	    !pc_json_add_int(lim, "call_rate", l->call_rate) ||
	    !pc_json_add_int(lim, "max_rooms_per_socket",
	                     l->max_rooms_per_socket) ||
	    !pc_json_add_int(lim, "max_sockets_per_user",
	                     l->max_sockets_per_user) ||
	    !pc_json_add_int(lim, "body_max", PC_BODY_MAX) ||
	    !pc_json_add_int(lim, "frame_max", H_META_FRAME_MAX) ||
	    !pc_json_add_int(lim, "room_create_per_hour",
	                     set->room_create_rate) ||
	    !pc_json_add_int(lim, "invite_per_hour", set->invite_rate))
		goto out;
	ice_servers = cJSON_AddArrayToObject(o, "ice_servers");
	if (ice_servers == NULL)
		goto out;
	rc = ice_servers_add(ice_servers, h_meta_user(c), time(NULL));
	if (rc != PC_OK)
		goto out;
	rc = resp_json(c->resp, 200, o);
out:
	cJSON_Delete(o);
	return rc;
}

/* Non-zero when addr is a loopback address: 127.0.0.0/8, ::1, or
 * ::ffff:127.0.0.0/104. */
static int
h_meta_loopback(const char *addr)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return a[12] == 127;
	return memcmp(a, in6addr_loopback.s6_addr, 16) == 0;
}

/* Non-zero when the Authorization header is "Bearer <token>" with the
 * configured token, compared in constant time (both sides hashed first,
 * so not even the length leaks). */
static int
h_meta_bearer_ok(const char *header, const char *token)
{
	static const char scheme[] = "Bearer ";
	unsigned char want[crypto_generichash_BYTES];
	unsigned char got[crypto_generichash_BYTES];
	const char *v;
	int ok;

	if (token == NULL || token[0] == '\0' || header == NULL ||
	    strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return 0;
	v = header + sizeof(scheme) - 1;
	crypto_generichash(want, sizeof(want), (const unsigned char *)token,
	                   strlen(token), NULL, 0);
	crypto_generichash(got, sizeof(got), (const unsigned char *)v,
	                   strlen(v), NULL, 0);
	ok = sodium_memcmp(want, got, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/*
 * GET /api/metrics: Prometheus text: the API's own (metrics.h), then the
 * brokers' (broker_metrics.h: at most about 200 ms waiting for them, and
 * pipechat_broker_up 0 for one that did not answer). Allowed with
 * "Authorization: Bearer <PIPECHAT_METRICS_TOKEN>", or from a loopback
 * peer (REMOTE_ADDR itself) when no proxy is trusted, since behind a
 * trusted proxy every peer is the proxy; anyone else gets 403 forbidden.
 */
enum pc_err
h_metrics(struct call *c)
{
	const struct api_settings *set = c->env->set;
	struct pc_buf text;
	enum pc_err rc;
	int no_proxy =
	        set->trusted_proxies == NULL || set->trusted_proxies[0] == '\0';

	if (!h_meta_bearer_ok(c->req->authorization, set->metrics_token) &&
	    !(no_proxy && h_meta_loopback(c->req->remote_addr)))
		return PC_ERR_FORBIDDEN;
	pc_buf_init(&text, H_META_METRICS_MAX);
	rc = metrics_render(c->env->routes, c->env->nroutes, &text);
	if (rc == PC_OK)
		rc = broker_metrics_render(set->broker_dir, &text);
	if (rc == PC_OK)
		rc = resp_text(c->resp, 200, METRICS_CONTENT_TYPE,
		               text.data != NULL ? text.data : "", text.len);
	pc_buf_free(&text, 0);
	return rc;
}

/*
 * h_meta.c: the service's own endpoints: health (liveness and database
 * reachability) and config (public settings the page needs). Neither needs
 * a session; config needs no database at all.
 */
#include "handlers.h"
#include "json.h"
#include "valid.h"

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

/* GET /api/config: {limits:{…}, ice_servers:[]}. */
enum pc_err
h_config(struct call *c)
{
	const struct pc_limits *l = &c->env->set->limits;
	cJSON *o = NULL, *lim;
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
	    !pc_json_add_int(lim, "frame_max", H_META_FRAME_MAX))
		goto out;
	if (cJSON_AddArrayToObject(o, "ice_servers") == NULL)
		goto out;
	rc = resp_json(c->resp, 200, o);
out:
	cJSON_Delete(o);
	return rc;
}

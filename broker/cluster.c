/*
 * cluster.c: a broker among several (cluster.h).
 *
 * Why PGOPTIONS and not new SQL in store.c: the shard must reach every
 * statement the broker already runs (the user_online writes among them)
 * without the store thread knowing about shards; a session setting read
 * by the migration's defaults and triggers does that, and a broker alone
 * (no setting) behaves exactly as before.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "cluster.h"
#include "link.h"
#include "log.h"
#include "online.h"
#include "shard.h"
#include "shard_tls.h"

#define CLUSTER_PGOPTIONS_MAX 4096

int
cluster_sharded(const struct settings *s)
{
	return s->shards.n > 1;
}

enum pc_err
cluster_prepare(const struct settings *s)
{
	char opts[CLUSTER_PGOPTIONS_MAX];
	const char *was = getenv("PGOPTIONS");
	int n;

	if (!cluster_sharded(s))
		return PC_OK;
	online_set_shard(s->shards.n, (size_t)s->shard);
	n = snprintf(opts, sizeof(opts), "%s%s-c pipechat.shard=%" PRId64,
	             was != NULL ? was : "",
	             was != NULL && *was != '\0' ? " " : "", s->shard);
	if (n < 0 || (size_t)n >= sizeof(opts) ||
	    setenv("PGOPTIONS", opts, 1) != 0)
		return PC_ERR_NOMEM;
	pc_log_info("shard %" PRId64 " of %zu", s->shard, s->shards.n);
	return PC_OK;
}

enum pc_err
cluster_listen(const struct settings *s)
{
	const struct pc_shard *me = &s->shards.s[s->shard];
	char wurl[PC_SHARD_URL_MAX], aurl[PC_SHARD_URL_MAX];
	nng_tls_config *tls = NULL;
	enum pc_err e;

	if (me->kind == PC_SHARD_IPC)
		return PC_OK; /* link_open's ipc:// sockets are the address */
	if (pc_shard_url(me, PC_SHARD_WORKERS, wurl, sizeof(wurl)) != PC_OK ||
	    pc_shard_url(me, PC_SHARD_API, aurl, sizeof(aurl)) != PC_OK)
		return PC_ERR_INVALID;
	if (me->kind == PC_SHARD_TLS) {
		e = pc_shard_tls(NNG_TLS_MODE_SERVER, s->tls_ca_file,
		                 s->tls_cert_file, NULL, &tls);
		if (e != PC_OK)
			return e;
	} else
		pc_log_warn("listening on plaintext tcp:// "
		            "(PIPECHAT_ALLOW_PLAINTEXT_TCP): anyone who reaches "
		            "%s:%d can act as any worker",
		            me->host, me->port);
	e = link_listen_net(wurl, aurl, tls);
	if (tls != NULL)
		nng_tls_config_free(tls); /* the listeners hold their own */
	return e;
}

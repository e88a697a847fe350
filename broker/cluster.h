/*
 * cluster.h: what a broker does differently when it is one of several
 * (contract section 7, docs/scaling.md). The map itself (room -> shard,
 * user -> shard, the broker list) is common/shard.h, shared with the worker
 * and the API; this file applies it to this broker's start-up:
 *
 *  - its PostgreSQL sessions say which shard they write for (PGOPTIONS
 *    -c pipechat.shard=K), which sql/0005_shards.sql uses to keep each
 *    broker's user_online rows its own and to expire a silent broker's;
 *  - besides its ipc:// sockets it listens on its tcp:// or tls+tcp://
 *    address from PIPECHAT_BROKERS (TLS with client certificates).
 *
 * The advisory lock per shard is store.c's (key 2 = the shard); online
 * ownership is online.c's. Main thread, start-up only.
 */
#ifndef PIPECHAT_BROKER_CLUSTER_H
#define PIPECHAT_BROKER_CLUSTER_H

#include "err.h"
#include "settings.h"

/*
 * Before the first database connection, after online_init: when sharded
 * (more than one broker), adds "-c pipechat.shard=K" to PGOPTIONS (keeping
 * what the environment already had) and tells online.c which users are
 * this broker's. PC_OK or PC_ERR_NOMEM.
 */
enum pc_err cluster_prepare(const struct settings *s);
/* Non-zero when PIPECHAT_BROKERS names more than one broker. */
int cluster_sharded(const struct settings *s);
/*
 * After link_open: when this shard's address is tcp:// or tls+tcp://,
 * listens there too (link_listen_net). PC_OK (also when there is nothing
 * to do), or an error already logged.
 */
enum pc_err cluster_listen(const struct settings *s);

#endif

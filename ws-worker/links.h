/*
 * links.h: the worker's links to every broker (contract section 7,
 * docs/scaling.md). One bridge (bridge.h: a PAIR1 peer) per broker of
 * PIPECHAT_BROKERS; ipc:// bridges need no thread, and libnng's threads
 * (for tcp:// and tls+tcp:// ones) are per process, so a second broker
 * costs a socket, not threads. conn.h sees one link: requests go
 * through ws_links_send, which sends each to the broker that owns its room
 * (common/shard.h: room_id mod n), and whatever any broker sends comes back
 * through ws_links_turn in arrival order per broker (each room has one
 * broker, so a room's order is that broker's order).
 *
 * One broker (the default): a plain pass-through, exactly the single link
 * of before (conn's own link_up/link_down and re-sync).
 *
 * Several: the connection's AUTH goes to every broker (each must know the
 * pipe's user and session: revocation, user events, a room's members'
 * sockets); the hello is written once, when every broker has signed the
 * connection in or after WS_LINKS_HELLO_WAIT_MS with at least one, so a
 * ?room= join right after it does not race a broker still connecting or
 * signing in (a tls+tcp:// pipe comes a few round trips after an ipc://
 * one). A broker that goes away
 * and comes back is signed in again here, with the same token, and only
 * its rooms are re-joined and its sends resent (ws_conn_rooms_lost/back);
 * the other brokers' rooms go on. While a broker is away its rooms' requests
 * answer `unavailable`. Messages still queued from a broker's previous pipe
 * are dropped (they answer requests the worker has asked again).
 *
 * A tcp:// or tls+tcp:// broker (another machine): ws_links_open resolves
 * its name once, before the sandbox, and gives NNG the numeric address (the
 * TLS peer check still uses the name as PIPECHAT_BROKERS spells it); limits
 * TCP connect to the brokers' ports with Landlock where the kernel has it,
 * before NNG's first socket so its threads inherit the limit; and
 * ws_links_net tells the sandbox to admit TCP (sandbox.h, "tcp mode").
 * With ipc:// brokers only, none of that happens: AF_INET stays refused.
 *
 * Not thread-safe (the bridges' pipe callbacks are, see bridge.h).
 */
#ifndef PIPECHAT_WS_LINKS_H
#define PIPECHAT_WS_LINKS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge.h"
#include "conn.h"
#include "err.h"
#include "sandbox.h"
#include "settings.h"
#include "shard.h"

#define WS_LINKS_HELLO_WAIT_MS 1500 /* a broker still down: hello anyway */

enum ws_link_peer { WS_PEER_DOWN, WS_PEER_PIPE, WS_PEER_AUTHING, WS_PEER_UP };

struct ws_links_peer {
	struct ws_bridge b;
	enum ws_link_peer state;
	unsigned pipe;     /* the pipe its messages must come from */
	uint64_t auth_req; /* the AUTH in flight to it */
	int was_up;        /* it had signed us in before: a comeback */
};

struct ws_links {
	const struct pc_shards *map; /* the settings' (they outlive l) */
	struct ws_links_peer *p; /* map->n of them */
	struct ws_conn *c;
	const char *token;      /* borrowed: the AUTH payload */
	uint16_t auth_flags;    /* the connection's AUTH flags */
	uint64_t conn_auth_req; /* the connection's AUTH, 0 before it */
	int hello_sent;         /* the connection got its AUTHED */
	unsigned char *held;    /* the first AUTHED, waiting (malloc'd) */
	size_t held_len;
	int64_t held_until; /* mono ms: pass it on by then anyway */
	uint64_t next_req;  /* our own AUTH req_ids, from 1 << 62 */
	size_t cur;         /* the broker ws_links_owns asks about */
};

/*
 * Opens a bridge to every broker of s->shards (TLS for tls+tcp://; the
 * files are read and names resolved now, before the sandbox; with a tcp
 * broker, Landlock's port limit first, see above). Call it before any other
 * NNG call of the process. l must stay at its address, and s must outlive
 * it (l keeps a pointer to its broker list). PC_OK, or an error
 * (logged) after which ws_links_close is still due.
 */
enum pc_err ws_links_open(struct ws_links *l, const struct ws_settings *s);
/* Binds the connection (its link and params point back at l). */
void ws_links_bind(struct ws_links *l, struct ws_conn *c, const char *token);
/* Closes every bridge; l may be zeroed or half open. */
void ws_links_close(struct ws_links *l);
/* How many pollfds ws_links_pollfds fills (WS_BRIDGE_NFDS per broker). */
size_t ws_links_nfds(const struct ws_links *l);
/* Fills fds[0 .. ws_links_nfds) (bridge.h: ws_bridge_pollfds). */
void ws_links_pollfds(const struct ws_links *l, struct pollfd *fds);
/* Milliseconds until ws_links_turn is due even without an event (a redial,
 * a message already buffered, a held hello's wait): 0 now, -1 none. */
int ws_links_wait_ms(const struct ws_links *l, int64_t now_ms);
/*
 * One loop turn for the broker side, after every poll: each bridge's I/O,
 * pipe events, then up to max messages per broker, handed to the
 * connection; also passes on a held hello whose wait is over. fds as
 * filled and polled.
 */
void ws_links_turn(struct ws_links *l, const struct pollfd *fds, int max);
/* conn.h's ws_link_fn (ctx = l): AUTH to every broker, the rest by room. */
enum pc_err ws_links_send(void *ctx, const struct pc_wire_hdr *h,
                          const void *payload, size_t len);
/* The sandbox's network mode for these links: PC_SANDBOX_NET_TCP when any
 * broker is reached over tcp:// or tls+tcp://, else PC_SANDBOX_NET_IPC. */
enum pc_sandbox_net ws_links_net(const struct ws_links *l);

#endif

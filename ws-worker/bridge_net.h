/*
 * bridge_net.h: the libnng half of bridge.h, a PAIR1 dialer for a broker on
 * another machine (tcp://, tls+tcp://). libnng brings TLS and runs its own
 * threads; its pipe callbacks touch only two atomic counters and an
 * eventfd, which the worker's loop polls.
 *
 * Two implementations: bridge_net.c (libnng) in every glibc build of the
 * worker (pipechat-ws-full beside a musl pipechat-ws, else pipechat-ws
 * itself) and the unit tests; bridge_net_none.c in the worker built against
 * musl for ipc:// brokers only (ws-worker/README.md, "Two builds"), which
 * hands such settings to pipechat-ws-full before it opens anything
 * (main.c), so its open only refuses.
 *
 * Not here: ipc:// (splink.h), what the messages mean (conn.h).
 */
#ifndef PIPECHAT_WS_BRIDGE_NET_H
#define PIPECHAT_WS_BRIDGE_NET_H

#include <poll.h>
#include <stddef.h>

#include "err.h"

struct ws_bridge_net; /* opaque: its libnng socket and counters */

/* A tls+tcp:// broker's files, read at open (before the sandbox); the
 * server name is the host as PIPECHAT_BROKERS spells it, which the
 * broker's certificate must carry. */
struct ws_bridge_tls {
	const char *ca_file;
	const char *cert_file;
	const char *server_name;
};

/* Non-zero when this build can dial tcp:// and tls+tcp:// brokers. */
int ws_bridge_net_available(void);

/*
 * Opens a PAIR1 socket for url (tcp:// or tls+tcp://, numeric host) with
 * the receive limit max_msg, and dials without blocking (redialled every
 * 100 ms .. 1 s). tls is NULL for tcp://. PC_OK and *out; PC_ERR_INVALID
 * (the TLS files), PC_ERR_SYSTEM, PC_ERR_UNAVAILABLE (not in this build);
 * logged.
 */
enum pc_err ws_bridge_net_open(struct ws_bridge_net **out, const char *url,
                               const struct ws_bridge_tls *tls, size_t max_msg);
void ws_bridge_net_close(struct ws_bridge_net *n); /* NULL is fine */

/* hdr_len + len bytes as one message; waits up to wait_ms for room in a
 * full queue while a pipe is up. PC_OK or PC_ERR_UNAVAILABLE (logged). */
enum pc_err ws_bridge_net_send(struct ws_bridge_net *n, const void *hdr,
                               size_t hdr_len, const void *payload, size_t len);

/* The next message, borrowed until the next call on n: PC_OK, or
 * PC_ERR_UNAVAILABLE when none is waiting. *pipe is the pipe it came on. */
enum pc_err ws_bridge_net_recv(struct ws_bridge_net *n,
                               const unsigned char **msg, size_t *len,
                               unsigned *pipe);

unsigned ws_bridge_net_pipe(const struct ws_bridge_net *n);
void ws_bridge_net_pollfds(const struct ws_bridge_net *n, struct pollfd *fds);
void ws_bridge_net_io(struct ws_bridge_net *n, const struct pollfd *fds);
void ws_bridge_net_events(struct ws_bridge_net *n, int *went, int *came);

#endif

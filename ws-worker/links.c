/*
 * links.c: one bridge per broker, one link for conn (links.h).
 *
 * The only broker messages looked at here are the answers to AUTH (to keep
 * each broker's sign-in state) and BATCH envelopes (opened, so an AUTHED
 * packed with other frames is seen); everything else goes to conn as is.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "links.h"
#include "log.h"
#include "sandbox.h"

#define LINKS_OWN_REQ (UINT64_C(1) << 62) /* our AUTHs: never conn's ids */

static int
links_sharded(const struct ws_links *l)
{
	return l->map->n > 1;
}

/*
 * The numeric address of host into out (len >= INET6_ADDRSTRLEN): host
 * itself when it is one, else the first IPv4 or IPv6 address getaddrinfo
 * gives now, before the sandbox (inside it, a name would make NNG's
 * resolver open /etc/hosts and DNS sockets: sandbox.h). A worker lives as
 * long as its WebSocket, so each new socket resolves anew.
 */
static enum pc_err
links_numeric(const char *host, char *out, size_t len)
{
	struct addrinfo hints, *res = NULL, *ai;
	unsigned char bin[sizeof(struct in6_addr)];
	const void *addr = NULL;
	int rv, af = AF_INET;

	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		if (strlen(host) >= len)
			return PC_ERR_INVALID;
		memcpy(out, host, strlen(host) + 1);
		return PC_OK;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rv = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		pc_log_err("broker host %s: %s", host, gai_strerror(rv));
		return PC_ERR_UNAVAILABLE;
	}
	for (ai = res; ai != NULL && addr == NULL; ai = ai->ai_next) {
		af = ai->ai_family;
		if (af == AF_INET)
			addr = &((struct sockaddr_in *)(void *)ai->ai_addr)
			                ->sin_addr;
		else if (af == AF_INET6)
			addr = &((struct sockaddr_in6 *)(void *)ai->ai_addr)
			                ->sin6_addr;
	}
	if (addr == NULL || inet_ntop(af, addr, out, (socklen_t)len) == NULL) {
		pc_log_err("broker host %s: no IPv4 or IPv6 address", host);
		freeaddrinfo(res);
		return PC_ERR_UNAVAILABLE;
	}
	pc_log_debug("broker host %s is %s", host, out);
	freeaddrinfo(res);
	return PC_OK;
}

/*
 * Landlock, before NNG's first socket starts its threads: TCP connect to
 * the tcp brokers' ports only (sandbox.h). A kernel without Landlock's
 * network rules leaves it to the firewall (logged by the sandbox).
 */
static enum pc_err
links_ports(const struct ws_links *l)
{
	uint16_t ports[PC_SHARD_MAX];
	size_t i, k, n = 0;
	enum pc_err e;

	for (i = 0; i < l->map->n; i++) {
		if (l->map->s[i].kind == PC_SHARD_IPC)
			continue;
		for (k = 0; k < n && ports[k] != l->map->s[i].port; k++)
			;
		if (k == n)
			ports[n++] = (uint16_t)l->map->s[i].port;
	}
	if (n == 0)
		return PC_OK;
	e = pc_sandbox_tcp_ports(ports, n);
	return e == PC_ERR_UNAVAILABLE ? PC_OK : e;
}

/* Opens the bridge to broker i: its numeric URL, TLS with the client
 * certificate for tls+tcp:// (the files are read now, before the sandbox;
 * the certificate must name the host as PIPECHAT_BROKERS spells it). */
static enum pc_err
links_open_one(struct ws_links *l, size_t i, const struct ws_settings *s)
{
	struct pc_shard num = l->map->s[i];
	struct ws_bridge_tls tls;
	char url[PC_SHARD_URL_MAX];
	enum pc_err e;

	if (num.kind != PC_SHARD_IPC &&
	    (e = links_numeric(l->map->s[i].host, num.host, sizeof(num.host))) !=
	            PC_OK)
		return e;
	if (pc_shard_url(&num, PC_SHARD_WORKERS, url, sizeof(url)) != PC_OK)
		return PC_ERR_INVALID;
	tls.ca_file = s->tls_ca_file;
	tls.cert_file = s->tls_cert_file;
	tls.server_name = l->map->s[i].host;
	return ws_bridge_open_url(&l->p[i].b, url,
	                          num.kind == PC_SHARD_TLS ? &tls : NULL);
}

enum pc_err
ws_links_open(struct ws_links *l, const struct ws_settings *s)
{
	enum pc_err e;
	size_t i;

	memset(l, 0, sizeof(*l));
	l->map = &s->shards;
	l->next_req = LINKS_OWN_REQ;
	if ((l->p = calloc(l->map->n, sizeof(*l->p))) == NULL)
		return PC_ERR_NOMEM;
	for (i = 0; i < l->map->n; i++)
		l->p[i].b.sp.fd = -1;
	if ((e = links_ports(l)) != PC_OK)
		return e;
	if (!links_sharded(l) && l->map->s[0].kind == PC_SHARD_IPC)
		return ws_bridge_open(&l->p[0].b, l->map->s[0].dir);
	for (i = 0; i < l->map->n; i++)
		if ((e = links_open_one(l, i, s)) != PC_OK)
			return e;
	return PC_OK;
}

void
ws_links_bind(struct ws_links *l, struct ws_conn *c, const char *token)
{
	l->c = c;
	l->token = token;
}

void
ws_links_close(struct ws_links *l)
{
	size_t i;

	for (i = 0; l->p != NULL && i < l->map->n; i++)
		ws_bridge_close(&l->p[i].b);
	free(l->p);
	free(l->held);
	l->p = NULL;
	l->held = NULL;
}

size_t
ws_links_nfds(const struct ws_links *l)
{
	return l->map->n * WS_BRIDGE_NFDS;
}

void
ws_links_pollfds(const struct ws_links *l, struct pollfd *fds)
{
	size_t i;

	for (i = 0; i < l->map->n; i++)
		ws_bridge_pollfds(&l->p[i].b, fds + WS_BRIDGE_NFDS * i);
}

int
ws_links_wait_ms(const struct ws_links *l, int64_t now_ms)
{
	int best = -1, w;
	size_t i;

	for (i = 0; i < l->map->n; i++) {
		w = ws_bridge_wait_ms(&l->p[i].b, now_ms);
		if (w >= 0 && (best < 0 || w < best))
			best = w;
	}
	if (l->held != NULL) {
		w = l->held_until <= now_ms ? 0 : (int)(l->held_until - now_ms);
		if (best < 0 || w < best)
			best = w;
	}
	return best;
}

enum pc_sandbox_net
ws_links_net(const struct ws_links *l)
{
	return pc_shards_use_tcp(l->map) ? PC_SANDBOX_NET_TCP
	                                  : PC_SANDBOX_NET_IPC;
}

/* ---- several brokers ---- */

static int
links_owns(void *ctx, int64_t room)
{
	struct ws_links *l = ctx;

	return pc_shard_of_room(l->map, room) == l->cur;
}

/* Signs the connection in with broker i (its pipe just came). */
static void
links_auth(struct ws_links *l, size_t i, uint64_t req)
{
	struct ws_links_peer *p = &l->p[i];
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_AUTH;
	h.flags = l->auth_flags;
	h.req_id = req != 0 ? req : ++l->next_req;
	if (ws_bridge_send(&p->b, &h, l->token, strlen(l->token)) != PC_OK)
		return; /* the pipe is going; its next coming tries again */
	p->state = WS_PEER_AUTHING;
	p->auth_req = h.req_id;
}

/* Hands one message to conn with its req_id replaced (an answer to one of
 * our AUTHs standing for the connection's own). */
static void
links_pass_as(struct ws_links *l, const char *m, size_t len, uint64_t req)
{
	struct pc_wire_hdr h;
	const char *pl;
	size_t plen;
	unsigned char *copy;

	if (pc_wire_unpack(m, len, &h, &pl, &plen) != PC_OK ||
	    (copy = malloc(len)) == NULL)
		return;
	h.req_id = req;
	pc_wire_pack(&h, copy);
	memcpy(copy + PC_WIRE_HDR_LEN, pl, plen);
	ws_conn_broker(l->c, copy, len);
	free(copy);
}

/* The held hello goes to conn: every broker answered, or the wait is over. */
static void
links_hello(struct ws_links *l, int force)
{
	size_t i;

	if (l->held == NULL || l->hello_sent)
		return;
	/* A broker with no pipe yet counts as one still signing in: over
	 * tls+tcp:// the handshake takes a few round trips more than ipc://,
	 * and a join sent before it would answer unavailable. One really down
	 * costs the wait (WS_LINKS_HELLO_WAIT_MS) once, at connect. */
	for (i = 0; !force && i < l->map->n; i++)
		if (l->p[i].state != WS_PEER_UP)
			return;
	l->hello_sent = 1;
	links_pass_as(l, (const char *)l->held, l->held_len, l->conn_auth_req);
	free(l->held);
	l->held = NULL;
}

/* One message from broker i (not a BATCH). */
static void
links_in(struct ws_links *l, size_t i, const char *m, size_t len)
{
	struct ws_links_peer *p = &l->p[i];
	struct pc_wire_hdr h;
	const char *pl;
	size_t plen;

	if (pc_wire_unpack(m, len, &h, &pl, &plen) != PC_OK) {
		pc_log_warn("malformed message from broker %zu", i);
		return;
	}
	if (p->state == WS_PEER_AUTHING && h.req_id == p->auth_req &&
	    (h.type == PC_WIRE_AUTHED || h.type == PC_WIRE_ERROR)) {
		if (h.type == PC_WIRE_ERROR) {
			/* refused (revoked meanwhile, over a limit): the
			 * connection ends as if its own AUTH was refused */
			links_pass_as(l, m, len, l->conn_auth_req);
			return;
		}
		p->state = WS_PEER_UP;
		pc_log_info("broker %zu signed in", i);
		if (!l->hello_sent && l->held == NULL) {
			if ((l->held = malloc(len)) == NULL)
				return;
			memcpy(l->held, m, len);
			l->held_len = len;
			l->held_until =
			        pc_clock_mono_ms() + WS_LINKS_HELLO_WAIT_MS;
		} else if (p->was_up && l->hello_sent) {
			l->cur = i;
			ws_conn_rooms_back(l->c, links_owns, l);
		}
		p->was_up = 1;
		links_hello(l, 0);
		return;
	}
	if (!l->hello_sent && h.type != PC_WIRE_CLOSE)
		return; /* nothing but the hello (or a CLOSE) comes first */
	ws_conn_broker(l->c, m, len);
}

/* The pipes of broker i came or went. */
static void
links_events(struct ws_links *l, size_t i)
{
	struct ws_links_peer *p = &l->p[i];
	int went = 0, came = 0;

	ws_bridge_events(&p->b, &went, &came);
	if (went && p->state != WS_PEER_DOWN) {
		pc_log_info("broker %zu link down", i);
		p->state = WS_PEER_DOWN;
		p->pipe = 0;
		if (l->hello_sent) {
			l->cur = i;
			ws_conn_rooms_lost(l->c, links_owns, l);
		}
	}
	if (came) {
		p->state = WS_PEER_PIPE;
		p->pipe = ws_bridge_pipe(&p->b);
		if (l->conn_auth_req == 0 && !l->c->pipe_up)
			ws_conn_link_up(l->c); /* its AUTH reaches us */
		else if (l->conn_auth_req != 0)
			links_auth(l, i, 0);
	}
}

void
ws_links_turn(struct ws_links *l, const struct pollfd *fds, int max)
{
	struct ws_conn *c = l->c;
	const char *m, *item, *pl;
	size_t i, len, off, ilen, plen;
	struct pc_wire_hdr h;
	unsigned pipe;
	int k, went = 0, came = 0;
	int64_t now = pc_clock_mono_ms();

	if (!links_sharded(l)) {
		/* one broker: the single link of before */
		ws_bridge_io(&l->p[0].b, fds, now);
		ws_bridge_events(&l->p[0].b, &went, &came);
		if (went)
			ws_conn_link_down(c);
		if (came) {
			pc_log_info("broker link up");
			ws_conn_link_up(c);
		}
		for (k = 0; k < max && !c->done; k++) {
			if (ws_bridge_recv(&l->p[0].b, &m, &len, &pipe) != PC_OK)
				break;
			ws_conn_broker(c, m, len);
		}
		return;
	}
	for (i = 0; i < l->map->n && !c->done; i++) {
		ws_bridge_io(&l->p[i].b, fds + WS_BRIDGE_NFDS * i, now);
		links_events(l, i);
		for (k = 0; k < max && !c->done; k++) {
			if (ws_bridge_recv(&l->p[i].b, &m, &len, &pipe) != PC_OK)
				break;
			if (pipe != l->p[i].pipe)
				continue; /* from a pipe now gone */
			if (pc_wire_unpack(m, len, &h, &pl, &plen) == PC_OK &&
			    h.type == PC_WIRE_BATCH) {
				off = 0;
				while (!c->done &&
				       pc_wire_batch_next(pl, plen, &off, &item,
				                          &ilen) == PC_OK)
					links_in(l, i, item, ilen);
			} else
				links_in(l, i, m, len);
		}
	}
	if (l->held != NULL && now >= l->held_until)
		links_hello(l, 1);
}

enum pc_err
ws_links_send(void *ctx, const struct pc_wire_hdr *h, const void *payload,
              size_t len)
{
	struct ws_links *l = ctx;
	size_t i, sent = 0;

	if (!links_sharded(l))
		return ws_bridge_send(&l->p[0].b, h, payload, len);
	if (h->type == PC_WIRE_AUTH) {
		/* the connection signs in: with every broker that has a pipe */
		l->conn_auth_req = h->req_id;
		l->auth_flags = h->flags;
		for (i = 0; i < l->map->n; i++) {
			if (l->p[i].state == WS_PEER_DOWN)
				continue;
			links_auth(l, i, h->req_id);
			sent += l->p[i].state == WS_PEER_AUTHING;
		}
		return sent > 0 ? PC_OK : PC_ERR_UNAVAILABLE;
	}
	i = pc_shard_of_room(l->map, h->room);
	if (l->p[i].state != WS_PEER_UP)
		return PC_ERR_UNAVAILABLE; /* its rooms wait for it */
	return ws_bridge_send(&l->p[i].b, h, payload, len);
}

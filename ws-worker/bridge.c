/*
 * bridge.c: the PAIR1 link to one broker (bridge.h): splink.c for ipc://,
 * bridge_net.c (libnng's dialer) for tcp:// and tls+tcp://, and the credit
 * answer both share.
 *
 * splink's limits mirror bridge_net.c's libnng options: BRIDGE_TX_MAX is
 * about what its send buffer of a client's frames comes to, the largest
 * message is PC_WIRE_MAX either way.
 */
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "clock.h"
#include "log.h"

#define BRIDGE_URL_MAX 108 /* sun_path */
#define BRIDGE_TX_MAX  (4 * PC_WIRE_MAX)

enum pc_err
ws_bridge_open(struct ws_bridge *b, const char *dir)
{
	char url[BRIDGE_URL_MAX + 8];
	int n;

	memset(b, 0, sizeof(*b));
	b->sp.fd = -1;
	n = snprintf(url, sizeof(url), "ipc://%s/workers", dir);
	if (n < 0 || (size_t)n - strlen("ipc://") >= BRIDGE_URL_MAX) {
		pc_log_err("broker socket path too long: %s", dir);
		return PC_ERR_INVALID;
	}
	return ws_bridge_open_url(b, url, NULL);
}

enum pc_err
ws_bridge_open_url(struct ws_bridge *b, const char *url,
                   const struct ws_bridge_tls *tls)
{
	enum pc_err e;

	memset(b, 0, sizeof(*b));
	b->sp.fd = -1;
	if (strncmp(url, "ipc://", 6) != 0)
		return ws_bridge_net_open(&b->net, url, tls, PC_WIRE_MAX);
	b->own = 1;
	if ((e = splink_open(&b->sp, url + 6, PC_WIRE_MAX, BRIDGE_TX_MAX,
	                     pc_clock_mono_ms())) != PC_OK)
		pc_log_err("broker socket path too long: %s", url);
	return e;
}

void
ws_bridge_close(struct ws_bridge *b)
{
	if (b->own)
		splink_close(&b->sp);
	b->own = 0;
	ws_bridge_net_close(b->net);
	b->net = NULL;
}

enum pc_err
ws_bridge_send(void *arg, const struct pc_wire_hdr *h, const void *payload,
               size_t len)
{
	struct ws_bridge *b = arg;
	unsigned char hdr[PC_WIRE_HDR_LEN];
	enum pc_err e;

	if (len > PC_WIRE_MAX - PC_WIRE_HDR_LEN)
		return PC_ERR_UNAVAILABLE;
	pc_wire_pack(h, hdr);
	if (b->net != NULL) /* logs its own failure */
		return ws_bridge_net_send(b->net, hdr, sizeof(hdr), payload,
		                          len);
	e = b->own ? splink_send(&b->sp, hdr, sizeof(hdr), payload, len,
	                         WS_BRIDGE_SEND_WAIT_MS)
	           : PC_ERR_UNAVAILABLE;
	if (e != PC_OK)
		pc_log_warn("send %s: broker link not ready",
		            pc_wire_type_name(h->type));
	return e == PC_OK ? PC_OK : PC_ERR_UNAVAILABLE;
}

/* Returns the broker's credit (wire.h, PC_WIRE_CREDIT). Non-zero when it
 * could not be sent now (kept in b->credit_owed and tried again). */
static int
bridge_credit(struct ws_bridge *b)
{
	struct pc_wire_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PC_WIRE_VERSION;
	h.type = PC_WIRE_CREDIT;
	b->credit_owed = ws_bridge_send(b, &h, NULL, 0) != PC_OK;
	return b->credit_owed;
}

/* The broker asks for credit on the message that filled its window for
 * this pipe: answer at once, before the message is even handled, since it
 * has left the queues (the packed flags are bytes 2-3). */
static void
bridge_credit_check(struct ws_bridge *b, const unsigned char *p, size_t len)
{
	if (len >= PC_WIRE_HDR_LEN &&
	    (((unsigned)p[2] << 8 | p[3]) & PC_WIRE_F_CREDIT) != 0)
		(void)bridge_credit(b);
}

enum pc_err
ws_bridge_recv(struct ws_bridge *b, const char **msg, size_t *len,
               unsigned *pipe)
{
	const unsigned char *p;
	enum pc_err e;

	if (b->credit_owed)
		(void)bridge_credit(b);
	if (b->own) {
		e = splink_recv(&b->sp, &p, len);
		*pipe = b->sp.pipe;
	} else if (b->net != NULL) {
		e = ws_bridge_net_recv(b->net, &p, len, pipe);
	} else {
		e = PC_ERR_UNAVAILABLE;
	}
	if (e != PC_OK)
		return PC_ERR_UNAVAILABLE;
	bridge_credit_check(b, p, *len);
	*msg = (const char *)p;
	return PC_OK;
}

unsigned
ws_bridge_pipe(const struct ws_bridge *b)
{
	if (b->own)
		return b->sp.state == SPLINK_UP ? b->sp.pipe : 0;
	return b->net != NULL ? ws_bridge_net_pipe(b->net) : 0;
}

void
ws_bridge_pollfds(const struct ws_bridge *b, struct pollfd *fds)
{
	if (b->net != NULL) {
		ws_bridge_net_pollfds(b->net, fds);
		return;
	}
	fds[0].fd = -1;
	fds[0].events = 0;
	fds[0].revents = 0;
	if (b->own)
		splink_pollfd(&b->sp, &fds[0]);
	fds[1].fd = -1;
	fds[1].events = 0;
	fds[1].revents = 0;
}

int
ws_bridge_wait_ms(const struct ws_bridge *b, int64_t now_ms)
{
	int w = b->own ? splink_wait_ms(&b->sp, now_ms) : -1;

	/* The broker waits for that CREDIT before it sends this pipe more,
	 * and an idle worker may otherwise sleep until its next ping. */
	if (b->credit_owed && (w < 0 || w > WS_BRIDGE_CREDIT_RETRY_MS))
		w = WS_BRIDGE_CREDIT_RETRY_MS;
	return w;
}

void
ws_bridge_io(struct ws_bridge *b, const struct pollfd *fds, int64_t now_ms)
{
	if (b->own)
		splink_io(&b->sp, fds, now_ms);
	else if (b->net != NULL)
		ws_bridge_net_io(b->net, fds);
}

void
ws_bridge_events(struct ws_bridge *b, int *went, int *came)
{
	*went = *came = 0;
	if (b->own)
		splink_events(&b->sp, went, came);
	else if (b->net != NULL)
		ws_bridge_net_events(b->net, went, came);
	if (*went || *came)
		b->credit_owed = 0; /* owed to a pipe that is gone */
}

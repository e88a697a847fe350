/*
 * bridge_net_none.c: bridge_net.h in the worker built for ipc:// brokers
 * only (ws-worker/README.md, "Two builds"). main.c hands settings that name
 * a tcp:// or tls+tcp:// broker to pipechat-ws-full before any link is
 * opened, so only a mistake reaches this open, and it refuses.
 */
#include "bridge_net.h"
#include "log.h"

int
ws_bridge_net_available(void)
{
	return 0;
}

enum pc_err
ws_bridge_net_open(struct ws_bridge_net **out, const char *url,
                   const struct ws_bridge_tls *tls, size_t max_msg)
{
	(void)tls;
	(void)max_msg;
	*out = NULL;
	pc_log_err("%s: this pipechat-ws reaches ipc:// brokers only "
	           "(pipechat-ws-full dials tcp:// and tls+tcp://)",
	           url);
	return PC_ERR_UNAVAILABLE;
}

/* Never called without an open link: */
void
ws_bridge_net_close(struct ws_bridge_net *n)
{
	(void)n;
}

enum pc_err
ws_bridge_net_send(struct ws_bridge_net *n, const void *hdr, size_t hdr_len,
                   const void *payload, size_t len)
{
	(void)n;
	(void)hdr;
	(void)hdr_len;
	(void)payload;
	(void)len;
	return PC_ERR_UNAVAILABLE;
}

enum pc_err
ws_bridge_net_recv(struct ws_bridge_net *n, const unsigned char **msg,
                   size_t *len, unsigned *pipe)
{
	(void)n;
	(void)msg;
	(void)len;
	(void)pipe;
	return PC_ERR_UNAVAILABLE;
}

unsigned
ws_bridge_net_pipe(const struct ws_bridge_net *n)
{
	(void)n;
	return 0;
}

void
ws_bridge_net_pollfds(const struct ws_bridge_net *n, struct pollfd *fds)
{
	(void)n;
	fds[0].fd = fds[1].fd = -1;
	fds[0].events = fds[1].events = 0;
	fds[0].revents = fds[1].revents = 0;
}

void
ws_bridge_net_io(struct ws_bridge_net *n, const struct pollfd *fds)
{
	(void)n;
	(void)fds;
}

void
ws_bridge_net_events(struct ws_bridge_net *n, int *went, int *came)
{
	(void)n;
	*went = *came = 0;
}

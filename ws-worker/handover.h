/*
 * handover.h: when the worker built against musl (ws-worker/README.md, "Two
 * builds") passes its connection to pipechat-ws-full, the glibc build beside
 * it. The musl build has no libnng (so no tcp:// or tls+tcp:// broker) and
 * no libseccomp (so only the prebuilt "on" sandbox); settings that need
 * either are the full build's. main.c asks right after reading the
 * settings, before it has read or written a byte of the connection, and
 * the full build starts over in the same process (execv: same pid, same
 * stdin and stdout, same environment), so websocketd sees one worker.
 */
#ifndef PIPECHAT_WS_HANDOVER_H
#define PIPECHAT_WS_HANDOVER_H

#include "settings.h"

#define WS_HANDOVER_PROGRAM "pipechat-ws-full"

/* Why s needs pipechat-ws-full ("a tcp:// broker", ...), or NULL. */
const char *ws_handover_reason(const struct ws_settings *s);

/* Runs pipechat-ws-full from this program's folder with argv. Returns only
 * on failure (logged to stderr): the caller refuses the connection. */
void ws_handover(char **argv, const char *reason);

#endif

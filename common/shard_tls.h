/*
 * shard_tls.h: libnng's side of brokers on other machines (shard.h): the
 * TLS configuration every program builds for tls+tcp:// from
 * PIPECHAT_TLS_CA_FILE and PIPECHAT_TLS_CERT_FILE (NNG 1.5.2 with mbedtls;
 * both sides verify the peer against the private CA of scripts/make-certs),
 * and whether a pipe is such a link. Apart from shard.h because it needs
 * libnng: the worker built for ipc:// brokers only (ws-worker/README.md,
 * "Two builds") parses the broker list but links no NNG.
 */
#ifndef PIPECHAT_SHARD_TLS_H
#define PIPECHAT_SHARD_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "err.h"

/*
 * A TLS configuration for mode (NNG_TLS_MODE_SERVER for the broker,
 * NNG_TLS_MODE_CLIENT for workers and the API): our certificate and key
 * from cert_file (one PEM file), the peers' CA from ca_file, and the peer's
 * certificate required. A client names the server it expects (server_name,
 * the host of its URL: the broker's certificate must carry it); a server
 * passes NULL. One configuration per dialer: NNG freezes a configuration
 * once it is in use. On PC_OK *out holds a reference the caller frees
 * with nng_tls_config_free (a listener or dialer takes its own). Errors are
 * logged with the files' names: PC_ERR_INVALID (no file given, unreadable,
 * not PEM), PC_ERR_SYSTEM (this NNG has no TLS).
 */
enum pc_err pc_shard_tls(nng_tls_mode mode, const char *ca_file,
                         const char *cert_file, const char *server_name,
                         nng_tls_config **out);

/* Non-zero for a pipe over tcp:// or tls+tcp:// (its remote address is
 * IPv4 or IPv6), 0 for ipc://: a tcp pipe has no peer uid to check. */
int pc_pipe_is_net(nng_pipe p);

#endif

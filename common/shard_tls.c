/*
 * shard_tls.c: libnng's side of brokers on other machines (shard_tls.h).
 */
#include <stddef.h>

#include "log.h"
#include "shard_tls.h"

enum pc_err
pc_shard_tls(nng_tls_mode mode, const char *ca_file, const char *cert_file,
             const char *server_name, nng_tls_config **out)
{
	nng_tls_config *cfg = NULL;
	const char *what = "";
	int rv;

	if (ca_file == NULL || cert_file == NULL) {
		pc_log_err("tls+tcp:// needs PIPECHAT_TLS_CA_FILE and "
		           "PIPECHAT_TLS_CERT_FILE (scripts/make-certs)");
		return PC_ERR_INVALID;
	}
	if ((rv = nng_tls_config_alloc(&cfg, mode)) != 0) {
		pc_log_err("TLS: %s (is this NNG built with TLS?)",
		           nng_strerror(rv));
		return PC_ERR_SYSTEM;
	}
	if ((rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0 &&
	    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2)) != 0)
		what = "TLS versions";
	else if ((rv = nng_tls_config_ca_file(cfg, ca_file)) != 0)
		what = ca_file;
	else if ((rv = nng_tls_config_cert_key_file(cfg, cert_file, NULL)) != 0)
		what = cert_file;
	else if ((rv = nng_tls_config_auth_mode(
	                  cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		what = "auth mode";
	else if (server_name != NULL &&
	         (rv = nng_tls_config_server_name(cfg, server_name)) != 0)
		what = "server name";
	if (rv != 0) {
		pc_log_err("TLS %s: %s", what, nng_strerror(rv));
		nng_tls_config_free(cfg);
		return PC_ERR_INVALID;
	}
	*out = cfg;
	return PC_OK;
}

int
pc_pipe_is_net(nng_pipe p)
{
	nng_sockaddr sa;

	return nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 &&
	       (sa.s_family == NNG_AF_INET || sa.s_family == NNG_AF_INET6);
}

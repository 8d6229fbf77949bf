// config.h — config.yaml, as libsje reads it: the file with its
// environment overrides, and the client's part of it.
//
// Where the file comes from: the path given (--config), else the SJE_CONFIG
// environment variable, else none at all. No file means every default:
// everything on loopback, the store in ./sje-data. Then every scalar key
// can be overridden from the environment as SJE_<SECTION>_<KEY> (upper
// case, nested keys joined by '_'), for example SJE_HTTP_LISTEN or
// SJE_TASKS_DEFAULTS_TIMEOUT_S. A list of strings is overridden by a
// comma-separated value (SJE_EXECUTOR_WORKER_NODES=a,b).
//
// Unknown keys, wrong types and bad values are errors that name the file,
// the line and the key: "etc/sje.yaml:12: server.sync: expected normal or
// full, got 'fast'". The full key reference is docs/config.md.
//
// The file holds the configuration of every SJE program, and libsje checks
// all of it; a service reads only the client's part (sje_config_client,
// sje_client_opts_from_config). The rest is SJE's own and not part of
// libsje's ABI.
#ifndef SJE_CONFIG_H
#define SJE_CONFIG_H

#include <sje/sje.h>

#ifdef __cplusplus
extern "C" {
#endif

// sje_config is a loaded config.yaml. Opaque.
typedef struct sje_config sje_config;

// sje_config_load reads path (NULL: $SJE_CONFIG, and if that is unset or
// empty, no file) over the defaults, then applies environment overrides.
// On SJE_OK *out is the config (caller owns it: sje_config_free). On
// SJE_ECONFIG errbuf (errlen bytes, may be 0) holds one line naming file,
// line and key. Thread-safe (reads the environment).
SJE_API sje_err sje_config_load(
    const char *path, sje_config **out, char *errbuf, size_t errlen);

// sje_config_free frees cfg. Accepts NULL and partly built configs.
SJE_API void sje_config_free(sje_config *cfg);

// sje_client_config is the client's part of a config: borrowed from the
// sje_config it was read from, which must outlive its use. Every string is
// non-NULL ("" when not set).
typedef struct sje_client_config {
	const char *server_url; // client.server_url: tcp://127.0.0.1:7100
	const char *events_url; // client.events_url: tcp://127.0.0.1:7101
	// security.tls, for a tls+tcp:// server_url (PEM files; "" = none).
	const char *tls_ca;          // the CA that signed the server's
	const char *tls_cert;        // our certificate, when the server
	const char *tls_key;         // asks for one; and its key
	const char *tls_server_name; // the name the server's certificate
	                             // must carry ("": the URL's host)
} sje_client_config;

// sje_config_client fills *out from cfg. Thread-safe.
SJE_API void sje_config_client(const sje_config *cfg, sje_client_config *out);

#ifdef __cplusplus
}
#endif
#endif // SJE_CONFIG_H

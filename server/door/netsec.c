// netsec.c — secure by default, and the listeners' TLS configurations.
//
// The rule (API.md): nothing leaves loopback without TLS and
// authentication. Plain tcp:// on a non-loopback host is refused outright;
// tls+tcp:// beyond loopback, and HTTPS beyond loopback, also need at
// least one API key or an OAuth key (security.auth). An empty host ("all
// interfaces") counts as beyond loopback. ipc:// and inproc:// are local.
//
// TLS modes: the RPC and events listeners share one server config that
// requires a client certificate from security.tls.ca when
// security.tls.require_client_cert is true (the default: workers and
// clients on tls+tcp:// present certificates); the HTTPS gateway uses a
// config that asks for none, since browsers and curl authenticate with API
// keys or tokens there.
#include "door/netsec.h"

#include "tls.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <string.h>

// netsec_tls_set is true when a server certificate is configured.
static bool
netsec_tls_set(const sje_config *cfg)
{
	return cfg->security.tls.cert != NULL &&
	    cfg->security.tls.cert[0] != '\0';
}

// netsec_auth_set is true when some authentication is configured.
static bool
netsec_auth_set(const sje_config *cfg)
{
	const char *hs = cfg->security.auth.oauth.hs256_secret_env;
	const char *rs = cfg->security.auth.oauth.rs256_public_key;
	return cfg->security.auth.n_api_keys > 0 ||
	    (hs != NULL && hs[0] != '\0') || (rs != NULL && rs[0] != '\0');
}

// netsec_check_url checks one of the server's nng URLs (key names it).
static sje_err
netsec_check_url(const sje_config *cfg, const char *key, const char *url,
    char *errbuf, size_t errlen)
{
	char host[256];
	bool tls = sje__tls_url(url);
	if (tls && !netsec_tls_set(cfg)) {
		sje__snprintf(errbuf, errlen,
		    "%s '%s' is tls+tcp:// but security.tls.cert is not set",
		    key, url);
		return SJE_ECONFIG;
	}
	if (!sje__url_host(url, host, sizeof(host)) ||
	    sje__host_is_loopback(host)) {
		return SJE_OK; // ipc://, inproc:// or loopback
	}
	if (!tls) {
		sje__snprintf(errbuf, errlen,
		    "%s '%s' listens beyond loopback without TLS: use "
		    "tls+tcp:// with security.tls (ca, cert, key), or a "
		    "loopback address",
		    key, url);
		return SJE_ECONFIG;
	}
	if (!netsec_auth_set(cfg)) {
		sje__snprintf(errbuf, errlen,
		    "%s '%s' listens beyond loopback without authentication: "
		    "configure security.auth.api_keys or security.auth.oauth",
		    key, url);
		return SJE_ECONFIG;
	}
	return SJE_OK;
}

sje_err
sje__netsec_check(const sje_config *cfg, char *errbuf, size_t errlen)
{
	sje_err err;
	if ((err = netsec_check_url(cfg, "server.rpc_url", cfg->server.rpc_url,
	         errbuf, errlen)) != SJE_OK ||
	    (err = netsec_check_url(cfg, "server.events_url",
	         cfg->server.events_url, errbuf, errlen)) != SJE_OK) {
		return err;
	}
	char host[256];
	if (!sje__url_host(cfg->http.listen, host, sizeof(host)) ||
	    sje__host_is_loopback(host)) {
		return SJE_OK;
	}
	if (!netsec_tls_set(cfg)) {
		sje__snprintf(errbuf, errlen,
		    "http.listen '%s' listens beyond loopback without TLS: set "
		    "security.tls.cert and security.tls.key (HTTPS), or use a "
		    "loopback address",
		    cfg->http.listen);
		return SJE_ECONFIG;
	}
	if (!netsec_auth_set(cfg)) {
		sje__snprintf(errbuf, errlen,
		    "http.listen '%s' listens beyond loopback without "
		    "authentication: configure security.auth.api_keys or "
		    "security.auth.oauth",
		    cfg->http.listen);
		return SJE_ECONFIG;
	}
	return SJE_OK;
}

bool
sje__netsec_events_ok(const sje_config *cfg, char *why, size_t len)
{
	if (!netsec_auth_set(cfg)) {
		return true;
	}
	const char *ca = cfg->security.tls.ca;
	if (sje__tls_url(cfg->server.events_url) &&
	    cfg->security.tls.require_client_cert && ca != NULL &&
	    ca[0] != '\0') {
		return true;
	}
	sje__snprintf(why, len,
	    "event stream off: authentication is on, and server.events_url "
	    "'%s' is not tls+tcp:// with security.tls.require_client_cert, "
	    "so it could not keep events from readers without credentials; "
	    "`sje-client watch`, ListEvents and GET /events read them with "
	    "an API key or a token",
	    cfg->server.events_url);
	return false;
}

sje_err
sje__netsec_open(
    const sje_config *cfg, sje__netsec *ns, char *errbuf, size_t errlen)
{
	memset(ns, 0, sizeof(*ns));
	if (!netsec_tls_set(cfg)) {
		return SJE_OK;
	}
	sje__tls_files f = {
		.ca   = cfg->security.tls.ca,
		.cert = cfg->security.tls.cert,
		.key  = cfg->security.tls.key,
	};
	char    why[400];
	sje_err err;
	if (sje__tls_url(cfg->server.rpc_url) ||
	    sje__tls_url(cfg->server.events_url)) {
		if ((err = sje__tls_server_config(&f,
		         cfg->security.tls.require_client_cert, &ns->rpc, why,
		         sizeof(why))) != SJE_OK) {
			sje__snprintf(errbuf, errlen, "security.tls: %s", why);
			return err;
		}
		nng_tls_config_hold(ns->rpc);
		ns->events = ns->rpc;
	}
	if ((err = sje__tls_server_config(
	         &f, false, &ns->https, why, sizeof(why))) != SJE_OK) {
		sje__snprintf(errbuf, errlen, "security.tls: %s", why);
		sje__netsec_close(ns);
		return err;
	}
	return SJE_OK;
}

void
sje__netsec_close(sje__netsec *ns)
{
	if (ns->rpc != NULL) {
		nng_tls_config_free(ns->rpc);
	}
	if (ns->events != NULL) {
		nng_tls_config_free(ns->events);
	}
	if (ns->https != NULL) {
		nng_tls_config_free(ns->https);
	}
	memset(ns, 0, sizeof(*ns));
}

/*
 * hooks.c — OpenSSL callbacks. The context-level hooks are installed once per
 * SSL_CTX (nt_ctx_install_hooks); each finds its connection through the SSL's
 * ex_data handle and calls into Go only when that connection asked for the
 * callback (nt_conn.callbacks), so an unused hook costs a few instructions.
 * The key log hook is the exception: it costs OpenSSL a formatted line per
 * secret, so it goes on a context only when a connection wants it
 * (nt_conn_keylog_follow_ctx).
 */
#include "bridge.h"
#include "conn.h"
#include "hooks.h"
#include "_cgo_export.h"
#include <string.h>

static uintptr_t handle_of(const SSL *s) {
    return (uintptr_t)SSL_get_ex_data(s, nt_ssl_handle_idx);
}

static int wants(const SSL *s, unsigned bit) {
    nt_conn *c = nt_conn_of(s);
    return c != NULL && (c->callbacks & bit) && handle_of(s) != 0;
}

static void keylog_tramp(const SSL *s, const char *line);

void nt_conn_want(SSL *s, unsigned bits) {
    nt_conn *c = nt_conn_of(s);
    if (c != NULL)
        c->callbacks = bits;
    nt_conn_keylog_follow_ctx(s);
}

/* OpenSSL formats a key log line (a sprintf per byte of random and secret)
 * whenever the SSL's context has a key log callback, wanted or not. So the
 * callback goes on a context only once a connection on it asks for key logs,
 * as in Node, and on the context an SNI switch moves such a connection to.
 * Connections on the context that did not ask are still filtered by wants.
 * Setting it while other handshakes on the context run is a store of one
 * aligned pointer, which OpenSSL reads per secret (Node sets it the same way). */
void nt_conn_keylog_follow_ctx(SSL *s) {
    if (!wants(s, NT_CB_KEYLOG))
        return;
    SSL_CTX *ctx = SSL_get_SSL_CTX(s);
    if (ctx != NULL && SSL_CTX_get_keylog_callback(ctx) != keylog_tramp)
        SSL_CTX_set_keylog_callback(ctx, keylog_tramp);
}

static int alpn_select_tramp(SSL *s, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg) {
    (void)arg;
    if (!wants(s, NT_CB_ALPN))
        return SSL_TLSEXT_ERR_NOACK;
    int off = ntALPNSelect(handle_of(s), (unsigned char *)in, inlen);
    if (off >= 0 && (unsigned)off < inlen && (unsigned)off + 1 + in[off] <= inlen) {
        *out = in + off + 1;
        *outlen = in[off];
        return SSL_TLSEXT_ERR_OK;
    }
    if (off == NT_ALPN_NOACK)
        return SSL_TLSEXT_ERR_NOACK;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/*
 * As Node's servername callback, this never acknowledges the name (Node picks
 * the SNI context later, in its certificate callback, so its servername
 * callback answers NOACK): the ServerHello carries no server_name extension
 * and a TLS 1.2 session does not keep the name (SSL_get_servername is NULL
 * after resuming it).
 */
static int servername_tramp(SSL *s, int *al, void *arg) {
    (void)arg;
    if (!wants(s, NT_CB_SNI))
        return SSL_TLSEXT_ERR_NOACK;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    nt_sni_answer a = ntServerName(handle_of(s), (char *)name);
    int ok = a.verdict == 0;
    /* a.ctx is a reference Go handed over: SSL_set_SSL_CTX takes its own
     * (and copies the context's certificates and keys into the SSL), so ours
     * is dropped on every path. */
    if (ok && a.ctx != NULL && a.ctx != SSL_get_SSL_CTX(s)) {
        if (SSL_set_SSL_CTX(s, a.ctx) == NULL) {
            ok = 0;
        } else {
            /* The switch replaced the CERT, and with it the connection's
             * PSK identity hint: put it back. */
            nt_conn *c = nt_conn_of(s);
            if (c != NULL && c->psk_hint != NULL && SSL_use_psk_identity_hint(s, c->psk_hint) != 1)
                ok = 0;
            nt_conn_keylog_follow_ctx(s);
        }
    }
    SSL_CTX_free(a.ctx);
    if (!ok) {
        *al = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    /* Node never acknowledges the name (so a resumed TLS 1.2 session has no
     * servername), whatever context it picked. */
    return SSL_TLSEXT_ERR_NOACK;
}

/*
 * The PSK callbacks' only failure answer is 0, which means "unknown identity"
 * on TLS 1.2 but "no PSK, carry on with certificates" on TLS 1.3. When Go
 * reports an error (a key or identity beyond OpenSSL's limits, a failed user
 * callback) the trampolines answer a length above PSK_MAX_PSK_LEN instead:
 * OpenSSL 3.0 checks that range on all four paths (client and server, TLS 1.2
 * and 1.3) and ends the handshake with a fatal alert, so an error never turns
 * into a silent certificate handshake.
 */
#define NT_PSK_ABORT ((unsigned int)PSK_MAX_PSK_LEN + 1)

static unsigned int psk_server_tramp(SSL *s, const char *identity, unsigned char *psk,
                                     unsigned int max_psk_len) {
    if (!wants(s, NT_CB_PSK_SERVER))
        return 0;
    int n = ntPSKServer(handle_of(s), (char *)identity, psk, max_psk_len);
    if (n < 0)
        return NT_PSK_ABORT;
    return n > 0 ? (unsigned)n : 0;
}

static unsigned int psk_client_tramp(SSL *s, const char *hint, char *identity,
                                     unsigned int max_identity_len, unsigned char *psk,
                                     unsigned int max_psk_len) {
    if (!wants(s, NT_CB_PSK_CLIENT))
        return 0;
    int n = ntPSKClient(handle_of(s), (char *)hint, identity, max_identity_len, psk, max_psk_len);
    if (n < 0)
        return NT_PSK_ABORT;
    return n > 0 ? (unsigned)n : 0;
}

void nt_conn_set_psk(SSL *s, int server, int client) {
    SSL_set_psk_server_callback(s, server ? psk_server_tramp : NULL);
    SSL_set_psk_client_callback(s, client ? psk_client_tramp : NULL);
}

static int new_session_tramp(SSL *s, SSL_SESSION *sess) {
    if (wants(s, NT_CB_NEW_SESSION))
        ntNewSession(handle_of(s), sess);
    return 0; /* OpenSSL keeps no extra reference */
}

static SSL_SESSION *get_session_tramp(SSL *s, const unsigned char *id, int idlen, int *copy) {
    *copy = 0;
    if (!wants(s, NT_CB_GET_SESSION))
        return NULL;
    return ntGetSession(handle_of(s), (unsigned char *)id, idlen);
}

static void keylog_tramp(const SSL *s, const char *line) {
    if (wants(s, NT_CB_KEYLOG))
        ntKeylog(handle_of(s), (char *)line);
}

static int status_tramp(SSL *s, void *arg) {
    (void)arg;
    if (SSL_is_server(s)) {
        if (!wants(s, NT_CB_OCSP))
            return SSL_TLSEXT_ERR_NOACK;
        int r = ntOCSPRequest(handle_of(s), s);
        if (r < 0)
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        return r > 0 ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
    }
    if (wants(s, NT_CB_OCSP)) {
        const unsigned char *resp = NULL;
        long len = SSL_get_tlsext_status_ocsp_resp(s, &resp);
        ntOCSPResponse(handle_of(s), (unsigned char *)resp, len);
    }
    return 1;
}

int nt_conn_set_ocsp_response(SSL *s, const unsigned char *der, size_t len) {
    unsigned char *copy = OPENSSL_malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, der, len);
    if (!SSL_set_tlsext_status_ocsp_resp(s, copy, (long)len)) {
        OPENSSL_free(copy);
        return 0;
    }
    return 1;
}

/* client_hello_tramp shows the ClientHello's legacy session id and whether
 * it carries a (non-empty) session ticket, before OpenSSL looks for a session
 * to resume (Node's ClientHello parser). */
static int client_hello_tramp(SSL *s, int *al, void *arg) {
    (void)al;
    (void)arg;
    if (!wants(s, NT_CB_CLIENT_HELLO))
        return SSL_CLIENT_HELLO_SUCCESS;
    const unsigned char *id = NULL;
    size_t idlen = SSL_client_hello_get0_session_id(s, &id);
    const unsigned char *ticket = NULL;
    size_t ticketlen = 0;
    int has_ticket = SSL_client_hello_get0_ext(s, TLSEXT_TYPE_session_ticket, &ticket, &ticketlen) == 1 &&
                     ticketlen > 0;
    ntClientHello(handle_of(s), (unsigned char *)id, (int)idlen, has_ticket);
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* cert_tramp is OpenSSL's certificate callback on a server: the ClientHello's
 * extensions are known and the certificate is not chosen yet; a resumed
 * handshake skips it (Node picks SNI contexts here). */
static int cert_tramp(SSL *s, void *arg) {
    (void)arg;
    if (!SSL_is_server(s) || !wants(s, NT_CB_CERT))
        return 1;
    return ntCertificate(handle_of(s)) ? 1 : 0;
}

void nt_ctx_install_hooks(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_tramp, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_tramp);
    SSL_CTX_sess_set_new_cb(ctx, new_session_tramp);
    SSL_CTX_sess_set_get_cb(ctx, get_session_tramp);
    SSL_CTX_set_tlsext_status_cb(ctx, status_tramp);
    SSL_CTX_set_client_hello_cb(ctx, client_hello_tramp, NULL);
    SSL_CTX_set_cert_cb(ctx, cert_tramp, NULL);
}

/* sslinfo.c — per-connection settings and what a connection reports. */
#include "bridge.h"
#include "hooks.h"
#include "sslinfo.h"
#include "conn.h"
#include <string.h>

nt_result nt_ssl_set_host_name(SSL *s, const char *name) {
    ERR_clear_error();
    if (SSL_set_tlsext_host_name(s, name) != 1)
        return nt_fail("SSL_set_tlsext_host_name");
    return nt_ok(1, NULL);
}

nt_result nt_ssl_set_alpn_protos(SSL *s, const unsigned char *wire, unsigned int len) {
    ERR_clear_error();
    if (SSL_set_alpn_protos(s, wire, len) != 0) /* 0 is success here */
        return nt_fail("SSL_set_alpn_protos");
    return nt_ok(1, NULL);
}

void nt_ssl_set_verify(SSL *s, int mode) {
    SSL_set_verify(s, mode, SSL_get_verify_callback(s));
}

nt_result nt_ssl_set_session_der(SSL *s, const unsigned char *der, long len) {
    ERR_clear_error();
    const unsigned char *p = der;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, len);
    if (sess == NULL)
        return nt_fail("d2i_SSL_SESSION");
    int ok = SSL_set_session(s, sess);
    SSL_SESSION_free(sess);
    if (ok != 1)
        return nt_fail("SSL_set_session");
    return nt_ok(1, NULL);
}

nt_result nt_session_from_der(const unsigned char *der, long len) {
    ERR_clear_error();
    const unsigned char *p = der;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, len);
    if (sess == NULL)
        return nt_fail("d2i_SSL_SESSION");
    return nt_ok((long)(p - der), sess); /* bytes used: the caller refuses trailing data */
}

nt_result nt_ssl_set_session(SSL *s, SSL_SESSION *sess) {
    ERR_clear_error();
    if (SSL_set_session(s, sess) != 1)
        return nt_fail("SSL_set_session");
    return nt_ok(1, NULL);
}

/* Serialises a session; out may be NULL to ask for the size. */
int nt_session_to_der(SSL_SESSION *sess, unsigned char *out, int cap) {
    int n = i2d_SSL_SESSION(sess, NULL);
    if (n <= 0 || out == NULL || n > cap)
        return n;
    unsigned char *p = out;
    return i2d_SSL_SESSION(sess, &p);
}

SSL_SESSION *nt_ssl_get1_session(SSL *s) { return SSL_get1_session(s); }

nt_conn_cipher nt_ssl_cipher(const SSL *s) {
    nt_conn_cipher ci;
    memset(&ci, 0, sizeof ci);
    const SSL_CIPHER *c = SSL_get_current_cipher(s);
    if (c == NULL)
        return ci;
    ci.name = SSL_CIPHER_get_name(c);
    ci.standard_name = SSL_CIPHER_standard_name(c);
    ci.version = SSL_CIPHER_get_version(c);
    ci.bits = SSL_CIPHER_get_bits(c, NULL);
    ci.id = SSL_CIPHER_get_id(c);
    ci.auth_nid = SSL_CIPHER_get_auth_nid(c);
    return ci;
}

int nt_ssl_alpn_selected(const SSL *s, unsigned char *out, int cap) {
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(s, &p, &n);
    if (p == NULL || n == 0)
        return 0;
    if ((int)n > cap)
        n = (unsigned)cap;
    memcpy(out, p, n);
    return (int)n;
}

int nt_ssl_finished(const SSL *s, int peer, unsigned char *out, int cap) {
    size_t n = peer ? SSL_get_peer_finished(s, out, (size_t)cap) : SSL_get_finished(s, out, (size_t)cap);
    return (int)n;
}

nt_result nt_ssl_export_keying_material(SSL *s, unsigned char *out, size_t olen, const char *label,
                                        size_t llen, const unsigned char *context, size_t clen, int use_ctx) {
    ERR_clear_error();
    if (SSL_export_keying_material(s, out, olen, label, llen, context, clen, use_ctx) != 1)
        return nt_fail("SSL_export_keying_material");
    return nt_ok(1, NULL);
}

nt_tmp_key nt_ssl_peer_tmp_key(SSL *s) {
    nt_tmp_key k;
    memset(&k, 0, sizeof k);
    EVP_PKEY *key = NULL;
    if (!SSL_get_peer_tmp_key(s, &key) || key == NULL) {
        ERR_clear_error();
        return k;
    }
    k.id = EVP_PKEY_get_base_id(key);
    k.bits = EVP_PKEY_get_bits(key);
    if (k.id == EVP_PKEY_EC) {
        char name[80] = "";
        size_t nl = 0;
        if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof name, &nl)) {
            int nid = OBJ_txt2nid(name);
            if (nid == NID_undef)
                nid = EC_curve_nist2nid(name);
            k.nid = nid;
        }
    } else {
        k.nid = k.id;
    }
    EVP_PKEY_free(key);
    return k;
}

const char *nt_nid_sn(int nid) { return OBJ_nid2sn(nid); }

/* Shared sigalgs as Node names them: "<sign>+<hash>" ("RSA-PSS+SHA256", "Ed25519+UNDEF"). */
int nt_ssl_shared_sigalg(SSL *s, int idx, int *sign_nid, int *hash_nid, int *sig_nid) {
    unsigned char rsig = 0, rhash = 0;
    return SSL_get_shared_sigalgs(s, idx, sign_nid, hash_nid, sig_nid, &rsig, &rhash);
}

int nt_ssl_set_max_send_fragment(SSL *s, long n) { return (int)SSL_set_max_send_fragment(s, n); }

int nt_ssl_ticket(SSL *s, unsigned char *out, int cap) {
    SSL_SESSION *sess = SSL_get_session(s);
    if (sess == NULL || !SSL_SESSION_has_ticket(sess))
        return 0;
    const unsigned char *t = NULL;
    size_t n = 0;
    SSL_SESSION_get0_ticket(sess, &t, &n);
    if (out != NULL && (int)n <= cap)
        memcpy(out, t, n);
    return (int)n;
}

nt_result nt_ssl_use_psk_identity_hint(SSL *s, const char *hint) {
    ERR_clear_error();
    if (SSL_use_psk_identity_hint(s, hint) != 1)
        return nt_fail("SSL_use_psk_identity_hint");
    nt_conn *c = nt_conn_of(s);
    if (c != NULL) {
        char *copy = hint != NULL ? strdup(hint) : NULL;
        if (hint != NULL && copy == NULL)
            return nt_fail("strdup");
        free(c->psk_hint);
        c->psk_hint = copy;
    }
    return nt_ok(1, NULL);
}

void nt_ssl_request_ocsp(SSL *s) { SSL_set_tlsext_status_type(s, TLSEXT_STATUSTYPE_ocsp); }

static BIO *trace_bio;

void nt_ssl_enable_trace(SSL *s) {
#ifndef OPENSSL_NO_SSL_TRACE
    if (trace_bio == NULL)
        trace_bio = BIO_new_fp(stderr, BIO_NOCLOSE);
    SSL_set_msg_callback(s, SSL_trace);
    SSL_set_msg_callback_arg(s, trace_bio);
#else
    (void)s;
#endif
}

int nt_have_ssl_trace(void) {
#ifndef OPENSSL_NO_SSL_TRACE
    return 1;
#else
    return 0;
#endif
}

X509 *nt_ssl_get1_peer_cert(SSL *s) { return SSL_get1_peer_certificate(s); }

X509 *nt_ssl_get1_cert(SSL *s) {
    X509 *x = SSL_get_certificate(s);
    if (x != NULL)
        X509_up_ref(x);
    return x;
}

int nt_ssl_peer_chain_len(SSL *s) {
    STACK_OF(X509) *sk = SSL_get_peer_cert_chain(s);
    return sk ? sk_X509_num(sk) : 0;
}

X509 *nt_ssl_get1_peer_chain_cert(SSL *s, int i) {
    STACK_OF(X509) *sk = SSL_get_peer_cert_chain(s);
    if (sk == NULL || i < 0 || i >= sk_X509_num(sk))
        return NULL;
    X509 *x = sk_X509_value(sk, i);
    X509_up_ref(x);
    return x;
}

/* The issuer of x from the connection's trust store (SSL_CTX_get_issuer in Node's terms). */
X509 *nt_ssl_find_issuer(SSL *s, X509 *x) {
    X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(s));
    if (store == NULL)
        return NULL;
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (sctx == NULL)
        return NULL;
    X509 *issuer = NULL;
    if (X509_STORE_CTX_init(sctx, store, NULL, NULL) == 1)
        if (X509_STORE_CTX_get1_issuer(&issuer, sctx, x) != 1)
            issuer = NULL;
    X509_STORE_CTX_free(sctx);
    ERR_clear_error();
    return issuer;
}

int nt_x509_check_issued(X509 *issuer, X509 *subject) { return X509_check_issued(issuer, subject) == X509_V_OK; }

int nt_x509_names_issuer(X509 *issuer, X509 *subject) {
    return X509_NAME_cmp(X509_get_subject_name(issuer), X509_get_issuer_name(subject)) == 0;
}

long nt_ssl_verify_result(const SSL *s) { return SSL_get_verify_result(s); }

const char *nt_verify_error_string(long code) { return X509_verify_cert_error_string(code); }

int nt_ssl_session_reused(SSL *s) { return SSL_session_reused(s); }

const char *nt_ssl_version(const SSL *s) { return SSL_get_version(s); }

int nt_ssl_version_num(const SSL *s) { return SSL_version(s); }

const char *nt_ssl_servername(const SSL *s) { return SSL_get_servername(s, TLSEXT_NAMETYPE_host_name); }

int nt_ssl_is_server(const SSL *s) { return SSL_is_server(s); }

int nt_ssl_renegotiate_pending(const SSL *s) { return SSL_renegotiate_pending((SSL *)s); }

nt_result nt_ssl_set_ssl_ctx(SSL *s, SSL_CTX *ctx) {
    ERR_clear_error();
    if (SSL_set_SSL_CTX(s, ctx) == NULL)
        return nt_fail("SSL_set_SSL_CTX");
    nt_conn_keylog_follow_ctx(s);
    return nt_ok(1, NULL);
}

nt_result nt_ssl_use_cert_key(SSL *s, X509 *cert, EVP_PKEY *key) {
    ERR_clear_error();
    if (cert != NULL && SSL_use_certificate(s, cert) != 1)
        return nt_fail("SSL_use_certificate");
    if (key != NULL && SSL_use_PrivateKey(s, key) != 1)
        return nt_fail("SSL_use_PrivateKey");
    return nt_ok(1, NULL);
}

nt_result nt_ssl_add1_chain_cert(SSL *s, X509 *x) {
    ERR_clear_error();
    if (SSL_add1_chain_cert(s, x) != 1)
        return nt_fail("SSL_add1_chain_cert");
    return nt_ok(1, NULL);
}

void nt_ssl_set_options(SSL *s, uint64_t set, uint64_t clear) {
    if (clear)
        SSL_clear_options(s, clear);
    if (set)
        SSL_set_options(s, set);
}

uint64_t nt_ssl_get_options(SSL *s) { return SSL_get_options(s); }

long nt_session_get_time(SSL_SESSION *s) { return (long)SSL_SESSION_get_time(s); }
long nt_session_get_timeout(SSL_SESSION *s) { return (long)SSL_SESSION_get_timeout(s); }
int nt_session_get_protocol(SSL_SESSION *s) { return SSL_SESSION_get_protocol_version(s); }
int nt_session_is_resumable(SSL_SESSION *s) { return SSL_SESSION_is_resumable(s); }
int nt_session_has_ticket(SSL_SESSION *s) { return SSL_SESSION_has_ticket(s); }

int nt_session_id(SSL_SESSION *s, unsigned char *out, int cap) {
    unsigned int n = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &n);
    if ((int)n > cap)
        n = (unsigned)cap;
    memcpy(out, id, n);
    return (int)n;
}

int nt_x509_check_ca(X509 *x) { return X509_check_ca(x); }

/* nt_ssl_use_ctx_cas gives the connection ctx's trust store and client CA
 * names, without switching its context (Node's SetCACerts). */
nt_result nt_ssl_use_ctx_cas(SSL *s, SSL_CTX *ctx) {
    ERR_clear_error();
    if (SSL_set1_verify_cert_store(s, SSL_CTX_get_cert_store(ctx)) != 1)
        return nt_fail("SSL_set1_verify_cert_store");
    STACK_OF(X509_NAME) *names = NULL;
    if (SSL_CTX_get_client_CA_list(ctx) != NULL) {
        names = SSL_dup_CA_list(SSL_CTX_get_client_CA_list(ctx));
        if (names == NULL)
            return nt_fail("SSL_dup_CA_list");
    }
    SSL_set_client_CA_list(s, names); /* takes ownership */
    return nt_ok(1, NULL);
}

/* Copies the certificate, key and chain of ctx's current slot into s
 * (Node's UseSNIContext). */
nt_result nt_ssl_use_ctx_cert(SSL *s, SSL_CTX *ctx) {
    ERR_clear_error();
    X509 *x = SSL_CTX_get0_certificate(ctx);
    EVP_PKEY *k = SSL_CTX_get0_privatekey(ctx);
    /* A context without a certificate or key: OpenSSL itself reports the
     * NULL ("SSL_use_certificate:passed a null parameter"), as Node sees it. */
    if (SSL_use_certificate(s, x) != 1)
        return nt_fail("SSL_use_certificate");
    if (SSL_use_PrivateKey(s, k) != 1)
        return nt_fail("SSL_use_PrivateKey");
    STACK_OF(X509) *chain = NULL;
    if (SSL_CTX_get0_chain_certs(ctx, &chain) == 1 && chain != NULL)
        if (SSL_set1_chain(s, chain) != 1)
            return nt_fail("SSL_set1_chain");
    return nt_ok(1, NULL);
}

#ifndef NODETLS_SSLINFO_H
#define NODETLS_SSLINFO_H
#include "bridge.h"
#include <stdlib.h>

typedef struct nt_conn_cipher {
    const char *name, *standard_name, *version;
    int bits;
    unsigned long id;
    int auth_nid;
} nt_conn_cipher;

typedef struct nt_tmp_key {
    int id;   /* EVP_PKEY_DH, EVP_PKEY_EC, EVP_PKEY_X25519, ... 0 if none */
    int nid;  /* curve NID for EC, else the key type */
    int bits;
} nt_tmp_key;

nt_result nt_ssl_set_host_name(SSL *s, const char *name);
nt_result nt_ssl_set_alpn_protos(SSL *s, const unsigned char *wire, unsigned int len);
void nt_ssl_set_verify(SSL *s, int mode);
nt_result nt_ssl_set_session_der(SSL *s, const unsigned char *der, long len);
nt_result nt_session_from_der(const unsigned char *der, long len);
nt_result nt_ssl_set_session(SSL *s, SSL_SESSION *sess);
int nt_session_to_der(SSL_SESSION *sess, unsigned char *out, int cap);
SSL_SESSION *nt_ssl_get1_session(SSL *s);
nt_conn_cipher nt_ssl_cipher(const SSL *s);
int nt_ssl_alpn_selected(const SSL *s, unsigned char *out, int cap);
int nt_ssl_finished(const SSL *s, int peer, unsigned char *out, int cap);
nt_result nt_ssl_export_keying_material(SSL *s, unsigned char *out, size_t olen, const char *label,
                                        size_t llen, const unsigned char *context, size_t clen, int use_ctx);
nt_tmp_key nt_ssl_peer_tmp_key(SSL *s);
const char *nt_nid_sn(int nid);
int nt_ssl_shared_sigalg(SSL *s, int idx, int *sign_nid, int *hash_nid, int *sig_nid);
int nt_ssl_set_max_send_fragment(SSL *s, long n);
int nt_ssl_ticket(SSL *s, unsigned char *out, int cap);
nt_result nt_ssl_use_psk_identity_hint(SSL *s, const char *hint);
void nt_ssl_request_ocsp(SSL *s);
void nt_ssl_enable_trace(SSL *s);
int nt_have_ssl_trace(void);
X509 *nt_ssl_get1_peer_cert(SSL *s);
X509 *nt_ssl_get1_cert(SSL *s);
int nt_ssl_peer_chain_len(SSL *s);
X509 *nt_ssl_get1_peer_chain_cert(SSL *s, int i);
X509 *nt_ssl_find_issuer(SSL *s, X509 *x);
int nt_x509_check_issued(X509 *issuer, X509 *subject);
int nt_x509_names_issuer(X509 *issuer, X509 *subject);
int nt_x509_check_ca(X509 *x);
long nt_ssl_verify_result(const SSL *s);
const char *nt_verify_error_string(long code);
int nt_ssl_session_reused(SSL *s);
const char *nt_ssl_version(const SSL *s);
int nt_ssl_version_num(const SSL *s);
const char *nt_ssl_servername(const SSL *s);
int nt_ssl_is_server(const SSL *s);
int nt_ssl_renegotiate_pending(const SSL *s);
nt_result nt_ssl_set_ssl_ctx(SSL *s, SSL_CTX *ctx);
nt_result nt_ssl_use_cert_key(SSL *s, X509 *cert, EVP_PKEY *key);
nt_result nt_ssl_add1_chain_cert(SSL *s, X509 *x);
nt_result nt_ssl_use_ctx_cert(SSL *s, SSL_CTX *ctx);
nt_result nt_ssl_use_ctx_cas(SSL *s, SSL_CTX *ctx);
void nt_ssl_set_options(SSL *s, uint64_t set, uint64_t clear);
uint64_t nt_ssl_get_options(SSL *s);
long nt_session_get_time(SSL_SESSION *s);
long nt_session_get_timeout(SSL_SESSION *s);
int nt_session_get_protocol(SSL_SESSION *s);
int nt_session_is_resumable(SSL_SESSION *s);
int nt_session_has_ticket(SSL_SESSION *s);
int nt_session_id(SSL_SESSION *s, unsigned char *out, int cap);
#endif

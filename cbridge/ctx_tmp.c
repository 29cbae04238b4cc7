/* TEMPORARY (engine branch only): a minimal SSL_CTX until openssl.Context lands. */
#include "bridge.h"
nt_result nt_tmp_ctx_new(X509 *cert, EVP_PKEY *key) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL)
        return nt_fail("SSL_CTX_new");
    if (cert && SSL_CTX_use_certificate(ctx, cert) != 1) { SSL_CTX_free(ctx); return nt_fail("SSL_CTX_use_certificate"); }
    if (key && SSL_CTX_use_PrivateKey(ctx, key) != 1) { SSL_CTX_free(ctx); return nt_fail("SSL_CTX_use_PrivateKey"); }
    return nt_ok(1, ctx);
}
long nt_tmp_ctx_set_options(SSL_CTX *ctx, long set, int minv, int maxv) {
    SSL_CTX_set_options(ctx, set);
    if (minv) SSL_CTX_set_min_proto_version(ctx, minv);
    if (maxv) SSL_CTX_set_max_proto_version(ctx, maxv);
    return 1;
}

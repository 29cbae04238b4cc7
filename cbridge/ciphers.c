#include "bridge.h"
#include "ciphers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The PSK client callback `openssl ciphers -psk` installs: it never yields a
 * key, it only tells OpenSSL that PSK suites are usable. */
static unsigned int dummy_psk(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
                              unsigned char *psk, unsigned int max_psk_len) {
    (void)ssl; (void)hint; (void)identity; (void)max_identity_len; (void)psk; (void)max_psk_len;
    return 0;
}

/* The SRP client password callback `openssl ciphers -srp` installs. */
static char *dummy_srp(SSL *ssl, void *arg) {
    (void)ssl; (void)arg;
    return "";
}

static nt_result step_fail(int step, const char *what) {
    nt_result r = nt_fail(what);
    r.ret = step;
    return r;
}

/* Copies the ciphers of sk into a malloc'd array. The name strings point into
 * libssl's static cipher table, which lives as long as the library. */
static nt_cipher_info *cipher_infos(STACK_OF(SSL_CIPHER) *sk, int *n_out) {
    int n = sk == NULL ? 0 : sk_SSL_CIPHER_num(sk);
    if (n < 0)
        n = 0;
    nt_cipher_info *a = calloc(n > 0 ? (size_t)n : 1, sizeof(*a));
    if (a == NULL)
        return NULL;
    int k = 0;
    for (int i = 0; i < n; i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        if (c == NULL)
            continue;
        nt_cipher_info *e = &a[k++];
        e->name = SSL_CIPHER_get_name(c);
        e->stdname = SSL_CIPHER_standard_name(c);
        e->version = SSL_CIPHER_get_version(c);
        e->id = (uint32_t)SSL_CIPHER_get_id(c);
        e->protocol_id = SSL_CIPHER_get_protocol_id(c);
        e->bits = SSL_CIPHER_get_bits(c, &e->alg_bits);
        e->aead = SSL_CIPHER_is_aead(c);
        if (SSL_CIPHER_description(c, e->desc, sizeof e->desc) == NULL)
            e->desc[0] = '\0';
    }
    *n_out = k;
    return a;
}

/* nt_ciphers_resolve builds the cipher list OpenSSL would use, the way
 * `openssl ciphers` does: a server SSL_CTX with the protocol bounds, the
 * optional PSK / SRP callbacks, the TLSv1.3 suites and the cipher string, then
 * an SSL made from it. On success ptr is a malloc'd nt_cipher_info array (free
 * with nt_ciphers_free) and ret its length; on failure ret names the step
 * (NT_CIPHERS_STEP_*) and err holds the error queue. */
nt_result nt_ciphers_resolve(const char *cipher_list, const char *ciphersuites, const char *propq,
                             int seclevel, int min_version, int max_version, int flags) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new_ex(NULL, propq, TLS_server_method());
    if (ctx == NULL)
        return step_fail(NT_CIPHERS_STEP_CTX_NEW, "SSL_CTX_new_ex failed");
    nt_result r;
    SSL *ssl = NULL;
    STACK_OF(SSL_CIPHER) *supported = NULL;
    if (seclevel >= 0)
        SSL_CTX_set_security_level(ctx, seclevel);
    if (!SSL_CTX_set_min_proto_version(ctx, min_version)) {
        r = step_fail(NT_CIPHERS_STEP_MIN_VERSION, "unsupported minimum protocol version");
        goto done;
    }
    if (!SSL_CTX_set_max_proto_version(ctx, max_version)) {
        r = step_fail(NT_CIPHERS_STEP_MAX_VERSION, "unsupported maximum protocol version");
        goto done;
    }
    if (flags & NT_CIPHERS_PSK)
        SSL_CTX_set_psk_client_callback(ctx, dummy_psk);
    if (flags & NT_CIPHERS_SRP) {
        if (!SSL_CTX_set_srp_client_pwd_callback(ctx, dummy_srp)) {
            r = step_fail(NT_CIPHERS_STEP_SRP, "SSL_CTX_set_srp_client_pwd_callback failed");
            goto done;
        }
    }
    if (ciphersuites != NULL && !SSL_CTX_set_ciphersuites(ctx, ciphersuites)) {
        r = step_fail(NT_CIPHERS_STEP_CIPHERSUITES, "SSL_CTX_set_ciphersuites failed");
        goto done;
    }
    if (cipher_list != NULL && !SSL_CTX_set_cipher_list(ctx, cipher_list)) {
        r = step_fail(NT_CIPHERS_STEP_CIPHER_LIST, "SSL_CTX_set_cipher_list failed");
        goto done;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL) {
        r = step_fail(NT_CIPHERS_STEP_SSL_NEW, "SSL_new failed");
        goto done;
    }
    STACK_OF(SSL_CIPHER) *sk;
    if (flags & NT_CIPHERS_SUPPORTED) {
        /* NULL also means "none supported" (as `openssl ciphers -s` reads it). */
        supported = SSL_get1_supported_ciphers(ssl);
        sk = supported;
    } else {
        sk = SSL_get_ciphers(ssl);
    }
    int n = 0;
    nt_cipher_info *a = cipher_infos(sk, &n);
    if (a == NULL) {
        r = step_fail(NT_CIPHERS_STEP_COPY, "out of memory");
        goto done;
    }
    ERR_clear_error();
    r = nt_ok(n, a);
done:
    sk_SSL_CIPHER_free(supported);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return r;
}

void nt_ciphers_free(void *p) { free(p); }

/* nt_thread_id_hex writes the calling thread's id the way ERR_print_errors
 * prefixes its lines: the bytes of CRYPTO_THREAD_ID in memory order, as
 * upper-case hex. buf must hold 2*sizeof(CRYPTO_THREAD_ID)+1 bytes (64 do). */
void nt_thread_id_hex(char *buf, int cap) {
    CRYPTO_THREAD_ID tid = CRYPTO_THREAD_get_current_id();
    const unsigned char *b = (const unsigned char *)&tid;
    int off = 0;
    for (size_t i = 0; i < sizeof tid && off + 3 <= cap; i++)
        off += snprintf(buf + off, (size_t)(cap - off), "%02X", b[i]);
    if (cap > 0 && off < cap)
        buf[off] = '\0';
}

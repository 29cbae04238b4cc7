#include "bridge.h"
#include <openssl/pkcs12.h>
#include <stdlib.h>
#include <string.h>

/* The parts of a parsed PKCS#12 file, malloc'd; nt_p12_parts_free frees the
 * struct and the stack shell, never the objects the caller took out. */
typedef struct nt_p12_parts {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) *ca;
} nt_p12_parts;

/* d2i_PKCS12_bio + PKCS12_parse. pass is NUL-terminated (may be NULL: no
 * password). On success ptr is an nt_p12_parts whose key, cert and CA
 * certificates each carry one reference that belongs to the caller. */
nt_result nt_p12_parse(const unsigned char *der, int len, const char *pass) {
    ERR_clear_error();
    BIO *b = BIO_new_mem_buf(der, len);
    if (b == NULL)
        return nt_fail("BIO_new_mem_buf");
    PKCS12 *p12 = d2i_PKCS12_bio(b, NULL);
    BIO_free(b);
    if (p12 == NULL)
        return nt_fail("d2i_PKCS12_bio");
    nt_p12_parts *parts = calloc(1, sizeof(*parts));
    if (parts == NULL) {
        PKCS12_free(p12);
        return nt_fail("out of memory");
    }
    int ok = PKCS12_parse(p12, pass, &parts->key, &parts->cert, &parts->ca);
    PKCS12_free(p12);
    if (!ok) {
        free(parts);
        return nt_fail("PKCS12_parse");
    }
    ERR_clear_error();
    return nt_ok(1, parts);
}

EVP_PKEY *nt_p12_key(nt_p12_parts *p) { return p->key; }
X509 *nt_p12_cert(nt_p12_parts *p) { return p->cert; }
int nt_p12_ca_count(nt_p12_parts *p) { return p->ca == NULL ? 0 : sk_X509_num(p->ca); }
X509 *nt_p12_ca(nt_p12_parts *p, int i) { return sk_X509_value(p->ca, i); }

void nt_p12_parts_free(nt_p12_parts *p) {
    if (p == NULL)
        return;
    sk_X509_free(p->ca);
    free(p);
}

/* PKCS12_create with OpenSSL 3's defaults (AES-256-CBC with PBKDF2 for keys
 * and certificates, an HMAC-SHA256 MAC), then i2d_PKCS12_bio. The objects
 * stay owned by the caller (the stack made here holds borrowed pointers and
 * only its shell is freed). On success ptr is a malloc'd DER buffer of ret
 * bytes that the caller frees. */
nt_result nt_p12_create(const char *pass, EVP_PKEY *key, X509 *cert, X509 **ca, int nca) {
    ERR_clear_error();
    STACK_OF(X509) *sk = NULL;
    if (nca > 0) {
        sk = sk_X509_new_null();
        if (sk == NULL)
            return nt_fail("sk_X509_new_null");
        for (int i = 0; i < nca; i++) {
            if (!sk_X509_push(sk, ca[i])) {
                sk_X509_free(sk);
                return nt_fail("sk_X509_push");
            }
        }
    }
    PKCS12 *p12 = PKCS12_create(pass, NULL, key, cert, sk, 0, 0, 0, 0, 0);
    sk_X509_free(sk);
    if (p12 == NULL)
        return nt_fail("PKCS12_create");
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) {
        PKCS12_free(p12);
        return nt_fail("BIO_new");
    }
    if (!i2d_PKCS12_bio(b, p12)) {
        BIO_free(b);
        PKCS12_free(p12);
        return nt_fail("i2d_PKCS12_bio");
    }
    PKCS12_free(p12);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    unsigned char *out = n > 0 ? malloc((size_t)n) : NULL;
    if (out == NULL) {
        BIO_free(b);
        return nt_fail("out of memory");
    }
    memcpy(out, data, (size_t)n);
    BIO_free(b);
    ERR_clear_error();
    return nt_ok(n, out);
}

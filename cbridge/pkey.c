#include "x509.h"
#include <openssl/decoder.h>
#include <stdlib.h>
#include <string.h>

/* A passphrase handed to OpenSSL through a callback. A missing passphrase
 * yields an empty one, so OpenSSL fails with its own reason ("bad decrypt")
 * instead of prompting on a terminal. */
typedef struct nt_pkey_pass {
    const char *p;
    int n;
} nt_pkey_pass;

static int pkey_pass_cb(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    nt_pkey_pass *pw = u;
    if (pw == NULL || pw->p == NULL)
        return 0;
    int n = pw->n < size ? pw->n : size;
    memcpy(buf, pw->p, n);
    return n;
}

nt_result nt_bytes_from_bio(BIO *b, const char *what) {
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0 || (n > 0 && data == NULL)) {
        BIO_free(b);
        return nt_fail(what);
    }
    void *out = malloc(n > 0 ? (size_t)n : 1);
    if (out == NULL) {
        BIO_free(b);
        return nt_fail("malloc");
    }
    if (n > 0)
        memcpy(out, data, (size_t)n);
    BIO_free(b);
    return nt_ok(n, out);
}

/* Reads a DER private key with OpenSSL's decoders: PKCS#8, encrypted PKCS#8
 * (with the passphrase) and the traditional per-type forms (PKCS#1 RSA, SEC1 EC).
 * ret is the number of bytes left after the key. */
nt_result nt_pkey_from_der(const unsigned char *der, int len, const char *pass, int passlen) {
    ERR_clear_error();
    EVP_PKEY *k = NULL;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&k, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    if (dctx == NULL)
        return nt_fail("OSSL_DECODER_CTX_new_for_pkey");
    nt_pkey_pass pw = { pass, passlen };
    if (!OSSL_DECODER_CTX_set_pem_password_cb(dctx, pkey_pass_cb, &pw)) {
        OSSL_DECODER_CTX_free(dctx);
        return nt_fail("OSSL_DECODER_CTX_set_pem_password_cb");
    }
    const unsigned char *p = der;
    size_t left = (size_t)len;
    int ok = OSSL_DECODER_from_data(dctx, &p, &left);
    OSSL_DECODER_CTX_free(dctx);
    if (!ok || k == NULL) {
        EVP_PKEY_free(k);
        return nt_fail("OSSL_DECODER_from_data");
    }
    ERR_clear_error(); /* decoders that were tried and did not match leave entries */
    return nt_ok((long)left, k);
}

/* Generates a key: type "RSA" with bits, "EC" with a curve (group) name,
 * "ED25519" or "ED448". */
nt_result nt_pkey_generate(const char *type, const char *curve, int bits) {
    ERR_clear_error();
    EVP_PKEY *k = NULL;
    if (strcmp(type, "RSA") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    else if (strcmp(type, "EC") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    else
        k = EVP_PKEY_Q_keygen(NULL, NULL, type);
    if (k == NULL)
        return nt_fail("EVP_PKEY_Q_keygen");
    return nt_ok(1, k);
}

const char *nt_pkey_type_name(EVP_PKEY *k) {
    const char *n = EVP_PKEY_get0_type_name(k);
    return n != NULL ? n : "";
}

int nt_pkey_bits(EVP_PKEY *k) { return EVP_PKEY_get_bits(k); }

/* PKCS#8 PEM ("PRIVATE KEY"), or with encrypt set "ENCRYPTED PRIVATE KEY"
 * under AES-256-CBC (PBES2) with the passphrase, which may be empty. */
nt_result nt_pkey_pkcs8_pem(EVP_PKEY *k, const char *pass, int passlen, int encrypt) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return nt_fail("BIO_new");
    int ok;
    if (encrypt) {
        static char empty[1] = "";
        char *kstr = pass != NULL ? (char *)pass : empty;
        ok = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), kstr, passlen, NULL, NULL);
    } else {
        ok = PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    }
    if (!ok) {
        BIO_free(b);
        return nt_fail("PEM_write_bio_PKCS8PrivateKey");
    }
    return nt_bytes_from_bio(b, "PEM_write_bio_PKCS8PrivateKey");
}

/* Unencrypted PKCS#8 DER (PrivateKeyInfo). */
nt_result nt_pkey_pkcs8_der(EVP_PKEY *k) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return nt_fail("BIO_new");
    if (!i2d_PKCS8PrivateKey_bio(b, k, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return nt_fail("i2d_PKCS8PrivateKey_bio");
    }
    return nt_bytes_from_bio(b, "i2d_PKCS8PrivateKey_bio");
}

/* SubjectPublicKeyInfo DER of the key's public half. */
nt_result nt_pkey_public_der(EVP_PKEY *k) {
    ERR_clear_error();
    int n = i2d_PUBKEY(k, NULL);
    if (n <= 0)
        return nt_fail("i2d_PUBKEY");
    unsigned char *out = malloc((size_t)n);
    if (out == NULL)
        return nt_fail("malloc");
    unsigned char *p = out;
    if (i2d_PUBKEY(k, &p) != n) {
        free(out);
        return nt_fail("i2d_PUBKEY");
    }
    return nt_ok(n, out);
}

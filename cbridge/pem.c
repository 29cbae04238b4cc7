#include "bridge.h"
#include <string.h>

/* Passphrase callback for PEM reads: u points at an nt_pass. A missing
 * passphrase yields an empty one, so OpenSSL fails with its own reason
 * ("bad decrypt") instead of prompting on a terminal. */
typedef struct nt_pass {
    const char *p;
    int n;
} nt_pass;

static int pass_cb(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    nt_pass *pw = u;
    if (pw == NULL || pw->p == NULL)
        return 0;
    int n = pw->n < size ? pw->n : size;
    memcpy(buf, pw->p, n);
    return n;
}

nt_result nt_pkey_from_pem(const char *pem, int len, const char *pass, int passlen) {
    ERR_clear_error();
    BIO *b = BIO_new_mem_buf(pem, len);
    if (b == NULL)
        return nt_fail("BIO_new_mem_buf");
    nt_pass pw = { pass, passlen };
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &pw);
    BIO_free(b);
    if (k == NULL)
        return nt_fail("PEM_read_bio_PrivateKey");
    ERR_clear_error();
    return nt_ok(1, k);
}

/* Reads the next certificate of a PEM bundle starting at *off; accepts
 * CERTIFICATE, X509 CERTIFICATE and TRUSTED CERTIFICATE blocks
 * (PEM_read_bio_X509_AUX). ret is the offset after the block, 0 at the end. */
nt_result nt_x509_next_pem(const char *pem, int len, int off) {
    ERR_clear_error();
    if (off >= len)
        return nt_ok(0, NULL);
    BIO *b = BIO_new_mem_buf(pem + off, len - off);
    if (b == NULL)
        return nt_fail("BIO_new_mem_buf");
    X509 *x = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL);
    if (x == NULL) {
        unsigned long e = ERR_peek_last_error();
        BIO_free(b);
        if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
            /* No further block: the end of the bundle, reported as such to the caller. */
            nt_result r = nt_fail("PEM_read_bio_X509_AUX");
            r.ret = -1;
            return r;
        }
        return nt_fail("PEM_read_bio_X509_AUX");
    }
    long consumed = (len - off) - (long)BIO_pending(b);
    BIO_free(b);
    ERR_clear_error();
    return nt_ok(off + consumed, x);
}

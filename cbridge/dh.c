#include "bridge.h"

/* Reads the first DH parameter block of a PEM text: "DH PARAMETERS" (PKCS#3)
 * or "X9.42 DH PARAMETERS" (PEM_read_bio_Parameters, which goes through
 * OpenSSL 3's decoders). Other parameter types (EC PARAMETERS, ...) are
 * refused. The caller owns the returned EVP_PKEY. */
nt_result nt_dh_params_from_pem(const char *pem, int len) {
    ERR_clear_error();
    BIO *b = BIO_new_mem_buf(pem, len);
    if (b == NULL)
        return nt_fail("BIO_new_mem_buf");
    EVP_PKEY *k = PEM_read_bio_Parameters(b, NULL);
    BIO_free(b);
    if (k == NULL)
        return nt_fail("PEM_read_bio_Parameters");
    if (!EVP_PKEY_is_a(k, "DH") && !EVP_PKEY_is_a(k, "DHX")) {
        EVP_PKEY_free(k);
        ERR_clear_error();
        return nt_fail("not DH parameters");
    }
    ERR_clear_error();
    return nt_ok(1, k);
}

/* EVP_PKEY_get_bits: for DH parameters, the size of the prime p. */
int nt_dh_bits(EVP_PKEY *k) { return EVP_PKEY_get_bits(k); }

/* EVP_PKEY_get0_type_name: "DH" or "DHX" here; a static string. */
const char *nt_dh_type_name(EVP_PKEY *k) { return EVP_PKEY_get0_type_name(k); }

/*
 * ciphers.h — cipher-string resolution (ciphers.c), shared by C and Go.
 */
#ifndef NODETLS_CIPHERS_H
#define NODETLS_CIPHERS_H

#include "bridge.h"

/* One resolved cipher. The name pointers refer to libssl's static cipher
 * table; desc is SSL_CIPHER_description's line (with its newline). */
typedef struct nt_cipher_info {
    const char *name;
    const char *stdname; /* NULL when OpenSSL has no standard name */
    const char *version;
    uint32_t id;
    uint16_t protocol_id;
    int bits;
    int alg_bits;
    int aead;
    char desc[256];
} nt_cipher_info;

/* flags of nt_ciphers_resolve */
#define NT_CIPHERS_PSK 1       /* install a dummy PSK client callback (openssl ciphers -psk) */
#define NT_CIPHERS_SRP 2       /* install a dummy SRP password callback (openssl ciphers -srp) */
#define NT_CIPHERS_SUPPORTED 4 /* SSL_get1_supported_ciphers instead of SSL_get_ciphers (-s) */

/* The step that failed, in nt_result.ret of a failed nt_ciphers_resolve. */
enum {
    NT_CIPHERS_STEP_CTX_NEW = 1,
    NT_CIPHERS_STEP_MIN_VERSION,
    NT_CIPHERS_STEP_MAX_VERSION,
    NT_CIPHERS_STEP_SRP,
    NT_CIPHERS_STEP_CIPHERSUITES,
    NT_CIPHERS_STEP_CIPHER_LIST,
    NT_CIPHERS_STEP_SSL_NEW,
    NT_CIPHERS_STEP_COPY
};

nt_result nt_ciphers_resolve(const char *cipher_list, const char *ciphersuites, const char *propq,
                             int seclevel, int min_version, int max_version, int flags);
void nt_ciphers_free(void *p);
void nt_thread_id_hex(char *buf, int cap);

#endif

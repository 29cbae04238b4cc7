#include "bridge.h"
#include "_cgo_export.h"
#include "conn.h"
#include "tickets.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

static long nt_counts[NT_OBJ__COUNT];
int nt_ssl_handle_idx = -1;
int nt_ctx_handle_idx = -1;
int nt_ctx_tickets_idx = -1;
int nt_ssl_tickets_ctx_idx = -1;

static void count_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argp;
    __atomic_add_fetch(&nt_counts[argl], 1, __ATOMIC_RELAXED);
}

static void count_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argp;
    __atomic_sub_fetch(&nt_counts[argl], 1, __ATOMIC_RELAXED);
}

/* Releases the Go handle kept in ex_data when OpenSSL frees the object. */
static void handle_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (ptr != NULL)
        ntReleaseHandle((uintptr_t)ptr);
}

int nt_init(void) {
    if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL))
        return 0;
    static const int classes[NT_OBJ__COUNT] = {
        CRYPTO_EX_INDEX_SSL, CRYPTO_EX_INDEX_SSL_CTX, CRYPTO_EX_INDEX_SSL_SESSION,
        CRYPTO_EX_INDEX_X509, CRYPTO_EX_INDEX_EVP_PKEY, CRYPTO_EX_INDEX_BIO,
        CRYPTO_EX_INDEX_X509_STORE,
    };
    for (long k = 0; k < NT_OBJ__COUNT; k++)
        if (CRYPTO_get_ex_new_index(classes[k], k, NULL, count_new, NULL, count_free) < 0)
            return 0;
    nt_ssl_handle_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, handle_free);
    nt_ctx_handle_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, handle_free);
    /* Session ticket keys (tickets.c), zeroed and freed with their SSL_CTX. */
    nt_ctx_tickets_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, nt_tickets_ex_free);
    nt_ssl_tickets_ctx_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, NULL);
    if (!nt_conn_init_method())
        return 0;
    ERR_clear_error();
    return nt_ssl_handle_idx >= 0 && nt_ctx_handle_idx >= 0 && nt_ctx_tickets_idx >= 0 && nt_ssl_tickets_ctx_idx >= 0;
}

long nt_live(int kind) {
    if (kind < 0 || kind >= NT_OBJ__COUNT)
        return -1;
    return __atomic_load_n(&nt_counts[kind], __ATOMIC_RELAXED);
}

long long nt_malloc_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (long long)(mi.uordblks + mi.hblkhd);
#else
    return -1;
#endif
}

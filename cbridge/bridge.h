/*
 * bridge.h — the C side of nodetls's cbridge package.
 *
 * Conventions (every .c file in this folder follows them):
 *  - A shim that can fail clears OpenSSL's thread-local error queue first and,
 *    when it fails, drains the queue into a malloc'd nt_errq before it returns.
 *    The queue is therefore read on the same OS thread, inside the same cgo call.
 *  - Shims return nt_result by value (no Go pointer is ever written by C).
 *  - Names: nt_<object>_<verb>; callback trampolines end in _tramp.
 */
#ifndef NODETLS_BRIDGE_H
#define NODETLS_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/opensslv.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "nodetls needs OpenSSL 3.0 or newer: install libssl-dev >= 3.0 (Debian 12: apt-get install libssl-dev pkg-config)"
#endif

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

#define NT_ERR_MAX 16

/* One entry of OpenSSL's error queue, as ERR_get_error_all reports it. */
typedef struct nt_err_entry {
    unsigned long code;
    int line;
    char lib[64];
    char fn[96];
    char reason[160];
    char file[128];
    char data[256];
} nt_err_entry;

/* The drained error queue, oldest entry first (ERR_get_error order). */
typedef struct nt_errq {
    int n;
    int dropped; /* entries beyond NT_ERR_MAX that were drained but not kept */
    nt_err_entry e[NT_ERR_MAX];
} nt_errq;

/* What a fallible shim returns: ret/ptr as the wrapped call gave them, err non-NULL on failure. */
typedef struct nt_result {
    long ret;
    void *ptr;
    nt_errq *err;
} nt_result;

/* nt_capture drains the current thread's error queue; NULL when it is empty. */
nt_errq *nt_capture(void);
/* nt_capture_or drains the queue; when it is empty it still returns one entry built
 * from lib/reason text, so a failed call never reports "no error". */
nt_errq *nt_capture_or(const char *what);
void nt_errq_free(nt_errq *q);
static inline int nt_err_lib(unsigned long c) { return ERR_GET_LIB(c); }
static inline int nt_err_reason(unsigned long c) { return ERR_GET_REASON(c); }

static inline nt_result nt_ok(long ret, void *ptr) {
    nt_result r = { ret, ptr, NULL };
    return r;
}
static inline nt_result nt_fail(const char *what) {
    nt_result r = { 0, NULL, nt_capture_or(what) };
    return r;
}

/* Object accounting: live counts of OpenSSL objects, kept by ex_data new/free hooks. */
enum {
    NT_OBJ_SSL = 0,
    NT_OBJ_SSL_CTX,
    NT_OBJ_SSL_SESSION,
    NT_OBJ_X509,
    NT_OBJ_EVP_PKEY,
    NT_OBJ_BIO,
    NT_OBJ_X509_STORE,
    NT_OBJ__COUNT
};
int nt_init(void);
long nt_live(int kind);
long long nt_malloc_in_use(void);

/* ex_data indices holding a runtime/cgo.Handle (as uintptr_t) for callbacks. */
extern int nt_ssl_handle_idx;
extern int nt_ctx_handle_idx;

#endif

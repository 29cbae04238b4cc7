#include "bridge.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * SSL_CTX shims. Ownership: the SSL_CTX belongs to the Go SSLCtx handle.
 * Objects passed in (X509, EVP_PKEY) stay owned by the caller; every shim
 * that keeps one in the SSL_CTX takes its own reference (the *_use_* and
 * add1 calls do that themselves; set0 calls get an explicit up_ref here).
 */

nt_result nt_ctx_new(void) {
    ERR_clear_error();
    SSL_CTX *c = SSL_CTX_new(TLS_method());
    if (c == NULL)
        return nt_fail("SSL_CTX_new");
    ERR_clear_error();
    return nt_ok(1, c);
}

nt_result nt_ctx_set_min_proto(SSL_CTX *c, int v) {
    ERR_clear_error();
    if (!SSL_CTX_set_min_proto_version(c, v))
        return nt_fail("invalid protocol version");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_set_max_proto(SSL_CTX *c, int v) {
    ERR_clear_error();
    if (!SSL_CTX_set_max_proto_version(c, v))
        return nt_fail("invalid protocol version");
    return nt_ok(1, NULL);
}

int nt_ctx_get_min_proto(SSL_CTX *c) { return (int)SSL_CTX_get_min_proto_version(c); }
int nt_ctx_get_max_proto(SSL_CTX *c) { return (int)SSL_CTX_get_max_proto_version(c); }

/* SSL_CTX_set_cipher_list: on "no cipher match" OpenSSL has already replaced
 * the list (only TLS 1.3 suites remain); the error is still reported. */
nt_result nt_ctx_set_cipher_list(SSL_CTX *c, const char *s) {
    ERR_clear_error();
    if (!SSL_CTX_set_cipher_list(c, s))
        return nt_fail("SSL_CTX_set_cipher_list");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_set_ciphersuites(SSL_CTX *c, const char *s) {
    ERR_clear_error();
    if (!SSL_CTX_set_ciphersuites(c, s))
        return nt_fail("SSL_CTX_set_ciphersuites");
    return nt_ok(1, NULL);
}

int nt_ctx_cipher_count(SSL_CTX *c) {
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(c);
    return sk == NULL ? 0 : sk_SSL_CIPHER_num(sk);
}

/* The name of the i-th cipher of the context's list; a static string owned by OpenSSL. */
const char *nt_ctx_cipher_name(SSL_CTX *c, int i) {
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(c);
    if (sk == NULL || i < 0 || i >= sk_SSL_CIPHER_num(sk))
        return NULL;
    return SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));
}

int nt_ctx_get_security_level(SSL_CTX *c) { return SSL_CTX_get_security_level(c); }
void nt_ctx_set_security_level(SSL_CTX *c, int n) { SSL_CTX_set_security_level(c, n); }

nt_result nt_ctx_set_groups(SSL_CTX *c, const char *s) {
    ERR_clear_error();
    if (!SSL_CTX_set1_groups_list(c, s))
        return nt_fail("SSL_CTX_set1_groups_list");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_set_sigalgs(SSL_CTX *c, const char *s) {
    ERR_clear_error();
    /* OpenSSL 3.0 reports a bad list without an error queue entry. */
    if (!SSL_CTX_set1_sigalgs_list(c, s))
        return nt_fail("invalid signature algorithm list");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_set_dh_auto(SSL_CTX *c, int on) {
    ERR_clear_error();
    if (!SSL_CTX_set_dh_auto(c, on))
        return nt_fail("SSL_CTX_set_dh_auto");
    return nt_ok(1, NULL);
}

/* SSL_CTX_set0_tmp_dh_pkey takes ownership of the key only on success, so the
 * reference made here is dropped again when it fails. The caller's reference
 * is untouched either way. */
nt_result nt_ctx_set_tmp_dh(SSL_CTX *c, EVP_PKEY *k) {
    ERR_clear_error();
    if (!EVP_PKEY_up_ref(k))
        return nt_fail("EVP_PKEY_up_ref");
    if (!SSL_CTX_set0_tmp_dh_pkey(c, k)) {
        EVP_PKEY_free(k);
        return nt_fail("SSL_CTX_set0_tmp_dh_pkey");
    }
    return nt_ok(1, NULL);
}

uint64_t nt_ctx_set_options(SSL_CTX *c, uint64_t op) { return SSL_CTX_set_options(c, op); }
uint64_t nt_ctx_clear_options(SSL_CTX *c, uint64_t op) { return SSL_CTX_clear_options(c, op); }
uint64_t nt_ctx_get_options(SSL_CTX *c) { return SSL_CTX_get_options(c); }

long nt_ctx_set_mode(SSL_CTX *c, long m) { return SSL_CTX_set_mode(c, m); }
long nt_ctx_clear_mode(SSL_CTX *c, long m) { return SSL_CTX_clear_mode(c, m); }
long nt_ctx_get_mode(SSL_CTX *c) { return SSL_CTX_get_mode(c); }

nt_result nt_ctx_set_session_id_context(SSL_CTX *c, const unsigned char *b, int n) {
    ERR_clear_error();
    if (!SSL_CTX_set_session_id_context(c, b, (unsigned int)n))
        return nt_fail("SSL_CTX_set_session_id_context");
    return nt_ok(1, NULL);
}

long nt_ctx_set_timeout(SSL_CTX *c, long t) { return SSL_CTX_set_timeout(c, t); }
long nt_ctx_get_timeout(SSL_CTX *c) { return SSL_CTX_get_timeout(c); }
long nt_ctx_set_session_cache_mode(SSL_CTX *c, long m) { return SSL_CTX_set_session_cache_mode(c, m); }
long nt_ctx_get_session_cache_mode(SSL_CTX *c) { return SSL_CTX_get_session_cache_mode(c); }

/* SSL_CTX_use_certificate takes its own reference and makes the certificate's
 * key-type slot the current one (what chain certs and keys are added to). */
nt_result nt_ctx_use_certificate(SSL_CTX *c, X509 *x) {
    ERR_clear_error();
    if (!SSL_CTX_use_certificate(c, x))
        return nt_fail("SSL_CTX_use_certificate");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_clear_chain_certs(SSL_CTX *c) {
    ERR_clear_error();
    if (!SSL_CTX_clear_chain_certs(c))
        return nt_fail("SSL_CTX_clear_chain_certs");
    return nt_ok(1, NULL);
}

/* SSL_CTX_add1_chain_cert takes its own reference. */
nt_result nt_ctx_add_chain_cert(SSL_CTX *c, X509 *x) {
    ERR_clear_error();
    if (!SSL_CTX_add1_chain_cert(c, x))
        return nt_fail("SSL_CTX_add1_chain_cert");
    return nt_ok(1, NULL);
}

/* SSL_CTX_use_PrivateKey takes its own reference. */
nt_result nt_ctx_use_private_key(SSL_CTX *c, EVP_PKEY *k) {
    ERR_clear_error();
    if (!SSL_CTX_use_PrivateKey(c, k))
        return nt_fail("SSL_CTX_use_PrivateKey");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_check_private_key(SSL_CTX *c) {
    ERR_clear_error();
    if (!SSL_CTX_check_private_key(c))
        return nt_fail("SSL_CTX_check_private_key");
    return nt_ok(1, NULL);
}

static X509_STORE *own_cert_store(SSL_CTX *c);

/* Replaces the context's trust store with a fresh, empty X509_STORE and
 * empties the client CA list. The old store (and any CRLs in it) is freed by
 * SSL_CTX_set_cert_store. */
nt_result nt_ctx_new_cert_store(SSL_CTX *c) {
    ERR_clear_error();
    X509_STORE *st = X509_STORE_new();
    if (st == NULL)
        return nt_fail("X509_STORE_new");
    SSL_CTX_set_cert_store(c, st);
    SSL_CTX_set_client_CA_list(c, NULL);
    return nt_ok(1, NULL);
}

/* Adds a trusted certificate to the context's store; the store takes its own
 * reference. A certificate already present is not an error. */
nt_result nt_ctx_store_add_cert(SSL_CTX *c, X509 *x) {
    ERR_clear_error();
    X509_STORE *st = own_cert_store(c);
    if (st == NULL || !X509_STORE_add_cert(st, x))
        return nt_fail("X509_STORE_add_cert");
    return nt_ok(1, NULL);
}

/* SSL_CTX_add_client_CA copies the certificate's subject name. */
nt_result nt_ctx_add_client_ca(SSL_CTX *c, X509 *x) {
    ERR_clear_error();
    if (!SSL_CTX_add_client_CA(c, x))
        return nt_fail("SSL_CTX_add_client_CA");
    return nt_ok(1, NULL);
}

/*
 * The default verify paths as OpenSSL 1.1.1 had them: the CA file
 * (SSL_CERT_FILE, else the built-in bundle), read now, and the hashed
 * directory (SSL_CERT_DIR, else the built-in one), searched by subject hash
 * when a certificate is not in the store yet. OpenSSL 3's
 * X509_STORE_set_default_paths adds a third lookup, an OSSL_STORE on the
 * same directory, which reads the whole directory on every miss: a server
 * whose certificate's issuer is not a system CA misses on every handshake
 * (OpenSSL builds the chain it sends from the trust store), and read
 * /etc/ssl/certs each time. The hashed lookup finds the same certificates.
 * A missing file or directory is not an error, as in OpenSSL.
 */
static int add_system_paths(X509_STORE *st) {
    X509_LOOKUP *l = X509_STORE_add_lookup(st, X509_LOOKUP_file());
    if (l == NULL)
        return 0;
    X509_LOOKUP_load_file(l, NULL, X509_FILETYPE_DEFAULT);
    l = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
    if (l == NULL)
        return 0;
    X509_LOOKUP_add_dir(l, NULL, X509_FILETYPE_DEFAULT);
    ERR_clear_error();
    return 1;
}

/*
 * The system's trust store: OpenSSL's default verify paths (SSL_CERT_FILE /
 * SSL_CERT_DIR, else the distribution's CA file and hashed directory) in one
 * X509_STORE, made on first use and shared by every context that trusts the
 * system's roots and nothing else, as Node shares its root store. Loading
 * the CA file parses every certificate in it (about 20 ms for Debian's 140);
 * a context of its own for every connection must not pay that each time.
 * X509_STORE locks itself, so contexts in use on many threads can share it.
 * It lives as long as the process.
 */
static pthread_mutex_t system_store_mu = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *system_store_p;

static X509_STORE *system_store(void) {
    pthread_mutex_lock(&system_store_mu);
    if (system_store_p == NULL) {
        X509_STORE *st = X509_STORE_new();
        if (st != NULL && !add_system_paths(st)) {
            X509_STORE_free(st);
            st = NULL;
        }
        system_store_p = st;
    }
    X509_STORE *st = system_store_p;
    pthread_mutex_unlock(&system_store_mu);
    return st;
}

static int is_system_store(X509_STORE *st) {
    pthread_mutex_lock(&system_store_mu);
    int yes = st != NULL && st == system_store_p;
    pthread_mutex_unlock(&system_store_mu);
    return yes;
}

/* The context's trust store, made its own first if it is the shared system
 * store (a fresh store with the default paths loaded again), so that what is
 * added to it stays in this context. As Node's
 * GetCertStoreOwnedByThisSecureContext. NULL on failure. */
static X509_STORE *own_cert_store(SSL_CTX *c) {
    X509_STORE *st = SSL_CTX_get_cert_store(c);
    if (!is_system_store(st))
        return st;
    X509_STORE *own = X509_STORE_new();
    if (own == NULL)
        return NULL;
    if (!add_system_paths(own)) {
        X509_STORE_free(own);
        return NULL;
    }
    SSL_CTX_set_cert_store(c, own); /* drops this context's reference to the shared one */
    return own;
}

/* The system's CAs join the context's trust store. A store that holds
 * nothing yet is replaced by the shared system store; one that holds
 * certificates or CRLs gets the default paths added to it. */
nt_result nt_ctx_set_default_verify_paths(SSL_CTX *c) {
    ERR_clear_error();
    X509_STORE *cur = SSL_CTX_get_cert_store(c);
    if (is_system_store(cur))
        return nt_ok(1, NULL);
    if (cur == NULL || sk_X509_OBJECT_num(X509_STORE_get0_objects(cur)) == 0) {
        X509_STORE *st = system_store();
        if (st == NULL || !X509_STORE_up_ref(st))
            return nt_fail("X509_STORE_set_default_paths");
        SSL_CTX_set_cert_store(c, st);
        ERR_clear_error();
        return nt_ok(1, NULL);
    }
    if (!add_system_paths(cur))
        return nt_fail("SSL_CTX_set_default_verify_paths");
    return nt_ok(1, NULL);
}

/* Reads every X509 CRL block of a PEM text and adds it to the context's store
 * (the store takes its own reference; the one read here is freed). ret is the
 * number of CRLs added. Text without any block fails with "no start line". */
nt_result nt_ctx_add_crls_pem(SSL_CTX *c, const char *pem, int len) {
    ERR_clear_error();
    X509_STORE *st = own_cert_store(c);
    if (st == NULL)
        return nt_fail("SSL_CTX_get_cert_store");
    BIO *b = BIO_new_mem_buf(pem, len);
    if (b == NULL)
        return nt_fail("BIO_new_mem_buf");
    long n = 0;
    for (;;) {
        X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
        if (crl == NULL) {
            unsigned long e = ERR_peek_last_error();
            if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break; /* the end of the text after at least one CRL */
            BIO_free(b);
            return nt_fail("PEM_read_bio_X509_CRL");
        }
        int ok = X509_STORE_add_crl(st, crl);
        X509_CRL_free(crl);
        if (!ok) {
            BIO_free(b);
            return nt_fail("X509_STORE_add_crl");
        }
        n++;
    }
    BIO_free(b);
    ERR_clear_error();
    return nt_ok(n, NULL);
}

/* Verify flags and depth live in the context's X509_VERIFY_PARAM, which every
 * SSL inherits and which is merged over the store's own parameters at
 * verification time; so they survive a replacement of the store. */
nt_result nt_ctx_set_verify_flags(SSL_CTX *c, unsigned long f) {
    ERR_clear_error();
    if (!X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c), f))
        return nt_fail("X509_VERIFY_PARAM_set_flags");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_clear_verify_flags(SSL_CTX *c, unsigned long f) {
    ERR_clear_error();
    if (!X509_VERIFY_PARAM_clear_flags(SSL_CTX_get0_param(c), f))
        return nt_fail("X509_VERIFY_PARAM_clear_flags");
    return nt_ok(1, NULL);
}

unsigned long nt_ctx_get_verify_flags(SSL_CTX *c) { return X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(c)); }
void nt_ctx_set_verify_depth(SSL_CTX *c, int d) { SSL_CTX_set_verify_depth(c, d); }
int nt_ctx_get_verify_depth(SSL_CTX *c) { return SSL_CTX_get_verify_depth(c); }

/* Counts the certificates of the context's trust store. */
int nt_ctx_store_cert_count(SSL_CTX *c) {
    X509_STORE *st = SSL_CTX_get_cert_store(c);
    if (st == NULL)
        return 0;
    /* Locked: the shared system store may be caching certificates from
     * its directory for another connection at the same time. */
    if (!X509_STORE_lock(st))
        return 0;
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
    int n = 0;
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
        if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
            n++;
    X509_STORE_unlock(st);
    return n;
}

int nt_ctx_client_ca_count(SSL_CTX *c) {
    STACK_OF(X509_NAME) *sk = SSL_CTX_get_client_CA_list(c);
    return sk == NULL ? 0 : sk_X509_NAME_num(sk);
}

/* The key type names (EVP_PKEY_get0_type_name, e.g. "RSA", "EC", "ED25519")
 * of the certificate slots that hold both a certificate and a key, as a
 * colon-separated malloc'd string the caller frees (NULL when out of memory).
 * The slot that was current before is made current again, so later chain
 * certificates go where they went before. */
char *nt_ctx_key_types(SSL_CTX *c) {
    enum { CAP = 512 };
    char *buf = malloc(CAP);
    if (buf == NULL)
        return NULL;
    buf[0] = '\0';
    X509 *cur = SSL_CTX_get0_certificate(c);
    int len = 0;
    for (int r = SSL_CTX_set_current_cert(c, SSL_CERT_SET_FIRST); r == 1;
         r = SSL_CTX_set_current_cert(c, SSL_CERT_SET_NEXT)) {
        X509 *x = SSL_CTX_get0_certificate(c);
        EVP_PKEY *pk = x == NULL ? NULL : X509_get0_pubkey(x);
        const char *name = pk == NULL ? NULL : EVP_PKEY_get0_type_name(pk);
        if (name == NULL)
            name = "unknown";
        int n = (int)strlen(name);
        if (len + n + 2 > CAP)
            break;
        if (len > 0)
            buf[len++] = ':';
        memcpy(buf + len, name, n);
        len += n;
        buf[len] = '\0';
    }
    if (cur != NULL)
        SSL_CTX_select_current_cert(c, cur);
    ERR_clear_error();
    return buf;
}

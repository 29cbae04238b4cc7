/*
 * tickets.c — session ticket keys in Node's 48-byte layout.
 *
 * A context's keys live in C memory attached to its SSL_CTX (ex_data index
 * nt_ctx_tickets_idx), guarded by a CRYPTO_RWLOCK, and are zeroed whenever
 * they are replaced, expire or are freed with the SSL_CTX. The ticket key
 * callback runs entirely in C: no call into Go per ticket.
 *
 * The format is Node's (and OpenSSL 1.0's): the ticket starts with the
 * 16-byte key name and a random 16-byte IV, the session is encrypted with
 * AES-128-CBC under the AES key and authenticated with HMAC-SHA256 under the
 * 16-byte HMAC secret. Decryption finds the key by name: the current key
 * (callback returns 1), an older key still in its grace period (2: accept and
 * issue a new ticket under the current key), or none (0: full handshake).
 */
#include "bridge.h"
#include "tickets.h"
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct nt_ticket_key {
    unsigned char name[NT_TICKET_PART_LEN];
    unsigned char hmac[NT_TICKET_PART_LEN];
    unsigned char aes[NT_TICKET_PART_LEN];
    int64_t until_ns; /* older keys: accepted for decryption before this time (Unix ns) */
} nt_ticket_key;

typedef struct nt_ticket_keys {
    CRYPTO_RWLOCK *lock;
    int has_current;
    nt_ticket_key current;
    nt_ticket_key *older; /* newest first */
    int n_older;
    int64_t min_until_ns; /* earliest until_ns of older, for cheap expiry checks */
} nt_ticket_keys;

/* Serialises the creation of a context's store (the first set of keys). */
static CRYPTO_ONCE create_once = CRYPTO_ONCE_STATIC_INIT;
static CRYPTO_RWLOCK *create_lock;

static void make_create_lock(void) { create_lock = CRYPTO_THREAD_lock_new(); }

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void key_from_bytes(nt_ticket_key *k, const unsigned char *b, int64_t until_ns) {
    memcpy(k->name, b, NT_TICKET_PART_LEN);
    memcpy(k->hmac, b + NT_TICKET_PART_LEN, NT_TICKET_PART_LEN);
    memcpy(k->aes, b + 2 * NT_TICKET_PART_LEN, NT_TICKET_PART_LEN);
    k->until_ns = until_ns;
}

/* Zeroes and frees a list of older keys; n is the number of live entries
 * (slots beyond them are always zero: unused or cleansed by prune_locked). */
static void free_older(nt_ticket_key *older, int n) {
    if (older != NULL)
        OPENSSL_clear_free(older, sizeof(*older) * (size_t)n);
}

static void store_free(nt_ticket_keys *k) {
    if (k == NULL)
        return;
    free_older(k->older, k->n_older);
    CRYPTO_THREAD_lock_free(k->lock);
    OPENSSL_clear_free(k, sizeof(*k));
}

void nt_tickets_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    store_free(ptr);
}

static int64_t min_until(const nt_ticket_key *older, int n) {
    int64_t m = INT64_MAX;
    for (int i = 0; i < n; i++)
        if (older[i].until_ns < m)
            m = older[i].until_ns;
    return m;
}

/* Drops (and zeroes) the older keys whose grace period has ended. Write lock held. */
static void prune_locked(nt_ticket_keys *k, int64_t now) {
    if (k->n_older == 0 || k->min_until_ns > now)
        return;
    int j = 0;
    for (int i = 0; i < k->n_older; i++) {
        if (k->older[i].until_ns > now) {
            if (i != j)
                k->older[j] = k->older[i];
            j++;
        }
    }
    OPENSSL_cleanse(k->older + j, sizeof(*k->older) * (size_t)(k->n_older - j));
    k->n_older = j;
    k->min_until_ns = min_until(k->older, j);
}

int nt_tickets_bind(SSL *s, SSL_CTX *ctx) {
    /* A plain pointer: the SSL holds a reference to its session context. */
    return SSL_set_ex_data(s, nt_ssl_tickets_ctx_idx, ctx);
}

/* The context whose keys an SSL's tickets use: the one it was made from, as
 * OpenSSL's own ticket handling uses the session context. An SNI switch
 * (SSL_set_SSL_CTX) happens after the ClientHello's ticket was decrypted, so
 * the current context would encrypt under keys that never decrypt. */
static SSL_CTX *tickets_ctx(SSL *s) {
    SSL_CTX *c = SSL_get_ex_data(s, nt_ssl_tickets_ctx_idx);
    return c != NULL ? c : SSL_get_SSL_CTX(s);
}

static int ticket_key_tramp(SSL *s, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                            EVP_MAC_CTX *hctx, int enc) {
    nt_ticket_keys *k = SSL_CTX_get_ex_data(tickets_ctx(s), nt_ctx_tickets_idx);
    if (k == NULL)
        return 0; /* no keys: no ticket is issued and none is accepted */
    nt_ticket_key key;
    int ret = 0, expired = 0;
    int64_t now = now_ns();
    if (!CRYPTO_THREAD_read_lock(k->lock))
        return -1;
    if (enc) {
        if (k->has_current) {
            key = k->current;
            ret = 1;
        }
    } else if (k->has_current && CRYPTO_memcmp(key_name, k->current.name, NT_TICKET_PART_LEN) == 0) {
        key = k->current;
        ret = 1;
    } else {
        for (int i = 0; i < k->n_older; i++) {
            if (CRYPTO_memcmp(key_name, k->older[i].name, NT_TICKET_PART_LEN) != 0)
                continue;
            if (k->older[i].until_ns > now) {
                key = k->older[i];
                ret = 2; /* accepted; OpenSSL renews the ticket under the current key */
            }
            break;
        }
    }
    expired = k->n_older > 0 && k->min_until_ns <= now;
    CRYPTO_THREAD_unlock(k->lock);

    if (expired && CRYPTO_THREAD_write_lock(k->lock)) {
        prune_locked(k, now);
        CRYPTO_THREAD_unlock(k->lock);
    }
    if (ret == 0)
        return 0;

    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, NT_TICKET_PART_LEN);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc) {
        if (RAND_bytes(iv, NT_TICKET_PART_LEN) != 1)
            ret = -1;
        else {
            memcpy(key_name, key.name, NT_TICKET_PART_LEN);
            if (EVP_EncryptInit_ex(cctx, EVP_aes_128_cbc(), NULL, key.aes, iv) != 1)
                ret = -1;
        }
    } else if (EVP_DecryptInit_ex(cctx, EVP_aes_128_cbc(), NULL, key.aes, iv) != 1) {
        ret = -1;
    }
    if (ret > 0 && EVP_MAC_CTX_set_params(hctx, params) != 1)
        ret = -1;
    OPENSSL_cleanse(&key, sizeof key);
    return ret;
}

/* The context's store, created (and the callback installed) on first use. */
static nt_ticket_keys *store_of(SSL_CTX *c, int create) {
    nt_ticket_keys *k = SSL_CTX_get_ex_data(c, nt_ctx_tickets_idx);
    if (k != NULL || !create)
        return k;
    if (!CRYPTO_THREAD_run_once(&create_once, make_create_lock) || create_lock == NULL)
        return NULL;
    if (!CRYPTO_THREAD_write_lock(create_lock))
        return NULL;
    k = SSL_CTX_get_ex_data(c, nt_ctx_tickets_idx);
    if (k == NULL) {
        k = OPENSSL_zalloc(sizeof(*k));
        if (k != NULL) {
            k->lock = CRYPTO_THREAD_lock_new();
            k->min_until_ns = INT64_MAX;
            if (k->lock == NULL || !SSL_CTX_set_ex_data(c, nt_ctx_tickets_idx, k)) {
                store_free(k);
                k = NULL;
            }
        }
    }
    CRYPTO_THREAD_unlock(create_lock);
    return k;
}

/* Installs the callback once the keys are in place; from then on OpenSSL's
 * own ticket keys are no longer used for this context. */
static int install_cb(SSL_CTX *c) {
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_key_tramp) == 1;
}

nt_result nt_ctx_set_ticket_keys(SSL_CTX *c, const unsigned char *current, const unsigned char *older,
                                 const int64_t *until_ns, int n_older) {
    ERR_clear_error();
    nt_ticket_keys *k = store_of(c, 1);
    if (k == NULL)
        return nt_fail("cannot attach ticket keys to the SSL_CTX");
    int64_t now = now_ns();
    /* Older keys whose grace period has already ended are not kept. */
    int n = 0;
    for (int i = 0; i < n_older; i++)
        if (until_ns[i] > now)
            n++;
    nt_ticket_key *list = NULL;
    if (n > 0) {
        list = OPENSSL_zalloc(sizeof(*list) * (size_t)n);
        if (list == NULL)
            return nt_fail("cannot allocate ticket keys");
        for (int i = 0, j = 0; i < n_older; i++)
            if (until_ns[i] > now)
                key_from_bytes(&list[j++], older + (size_t)i * NT_TICKET_KEY_LEN, until_ns[i]);
    }
    if (!CRYPTO_THREAD_write_lock(k->lock)) {
        free_older(list, n);
        return nt_fail("cannot lock ticket keys");
    }
    nt_ticket_key *old = k->older;
    int n_old = k->n_older;
    key_from_bytes(&k->current, current, 0);
    k->has_current = 1;
    k->older = list;
    k->n_older = n;
    k->min_until_ns = min_until(list, n);
    CRYPTO_THREAD_unlock(k->lock);
    free_older(old, n_old);
    if (!install_cb(c))
        return nt_fail("SSL_CTX_set_tlsext_ticket_key_evp_cb");
    return nt_ok(1, NULL);
}

nt_result nt_ctx_rotate_ticket_key(SSL_CTX *c, const unsigned char *key, int64_t until_ns) {
    ERR_clear_error();
    nt_ticket_keys *k = store_of(c, 0);
    if (k == NULL || !k->has_current)
        return nt_fail("no ticket keys to rotate: set ticket keys first");
    int64_t now = now_ns();
    if (!CRYPTO_THREAD_write_lock(k->lock))
        return nt_fail("cannot lock ticket keys");
    int keep_current = until_ns > now;
    int cap = k->n_older + keep_current;
    nt_ticket_key *list = NULL;
    int n = 0;
    if (cap > 0) {
        list = OPENSSL_zalloc(sizeof(*list) * (size_t)cap);
        if (list == NULL) {
            CRYPTO_THREAD_unlock(k->lock);
            return nt_fail("cannot allocate ticket keys");
        }
        if (keep_current) {
            list[n] = k->current;
            list[n++].until_ns = until_ns;
        }
        for (int i = 0; i < k->n_older; i++)
            if (k->older[i].until_ns > now)
                list[n++] = k->older[i];
    }
    nt_ticket_key *old = k->older;
    int n_old = k->n_older;
    OPENSSL_cleanse(&k->current, sizeof k->current);
    key_from_bytes(&k->current, key, 0);
    k->older = list;
    k->n_older = n;
    k->min_until_ns = min_until(list, n);
    CRYPTO_THREAD_unlock(k->lock);
    free_older(old, n_old);
    return nt_ok(1, NULL);
}

int nt_ctx_get_ticket_key(SSL_CTX *c, unsigned char *out) {
    nt_ticket_keys *k = store_of(c, 0);
    if (k == NULL || !CRYPTO_THREAD_read_lock(k->lock))
        return 0;
    int ok = k->has_current;
    if (ok) {
        memcpy(out, k->current.name, NT_TICKET_PART_LEN);
        memcpy(out + NT_TICKET_PART_LEN, k->current.hmac, NT_TICKET_PART_LEN);
        memcpy(out + 2 * NT_TICKET_PART_LEN, k->current.aes, NT_TICKET_PART_LEN);
    }
    CRYPTO_THREAD_unlock(k->lock);
    return ok;
}

/* How many keys decrypt tickets now: the current one plus older keys in grace. */
int nt_ctx_ticket_key_count(SSL_CTX *c) {
    nt_ticket_keys *k = store_of(c, 0);
    if (k == NULL || !CRYPTO_THREAD_read_lock(k->lock))
        return 0;
    int64_t now = now_ns();
    int n = k->has_current;
    for (int i = 0; i < k->n_older; i++)
        if (k->older[i].until_ns > now)
            n++;
    CRYPTO_THREAD_unlock(k->lock);
    return n;
}

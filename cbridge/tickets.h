/* tickets.h — session ticket keys in Node's 48-byte layout, kept in C memory
 * attached to an SSL_CTX, and the ticket key callback that uses them. */
#ifndef NODETLS_TICKETS_H
#define NODETLS_TICKETS_H

#include "bridge.h"

/* A key is name (16) || HMAC-SHA256 secret (16) || AES-128-CBC key (16). */
#define NT_TICKET_KEY_LEN 48
#define NT_TICKET_PART_LEN 16

/* ex_data indices (created in nt_init): an SSL_CTX's key store, and the
 * context an SSL was made from, whose keys its tickets use. */
extern int nt_ctx_tickets_idx;
extern int nt_ssl_tickets_ctx_idx;

/* nt_tickets_bind records the context s was made from (OpenSSL's session
 * context, which an SNI switch does not change); 0 on failure. */
int nt_tickets_bind(SSL *s, SSL_CTX *ctx);

/* ex_data free hook: zeroes and frees a key store with its SSL_CTX. */
void nt_tickets_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp);

nt_result nt_ctx_set_ticket_keys(SSL_CTX *c, const unsigned char *current, const unsigned char *older,
                                 const int64_t *until_ns, int n_older);
nt_result nt_ctx_rotate_ticket_key(SSL_CTX *c, const unsigned char *key, int64_t until_ns);
int nt_ctx_get_ticket_key(SSL_CTX *c, unsigned char *out);
int nt_ctx_ticket_key_count(SSL_CTX *c);

#endif

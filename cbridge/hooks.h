/* hooks.h — callback selection bits and answers shared with Go. */
#ifndef NODETLS_HOOKS_H
#define NODETLS_HOOKS_H

#include "bridge.h"

enum {
    NT_CB_ALPN = 1 << 0,
    NT_CB_SNI = 1 << 1,
    NT_CB_PSK_SERVER = 1 << 2,
    NT_CB_PSK_CLIENT = 1 << 3,
    NT_CB_NEW_SESSION = 1 << 4,
    NT_CB_GET_SESSION = 1 << 5,
    NT_CB_KEYLOG = 1 << 6,
    NT_CB_OCSP = 1 << 7,
    NT_CB_CLIENT_HELLO = 1 << 8,
    NT_CB_CERT = 1 << 9,
};

#define NT_ALPN_FATAL (-1)
#define NT_ALPN_NOACK (-2)

typedef struct nt_sni_answer {
    SSL_CTX *ctx; /* context to switch to, NULL to keep */
    int verdict;  /* 0 ok, else fatal */
} nt_sni_answer;

void nt_conn_want(SSL *s, unsigned bits);
void nt_conn_keylog_follow_ctx(SSL *s);
void nt_conn_set_psk(SSL *s, int server, int client);
int nt_conn_set_ocsp_response(SSL *s, const unsigned char *der, size_t len);
void nt_ctx_install_hooks(SSL_CTX *ctx);

#endif

/* conn.h — the record engine's state shared by conn.c and the callbacks. */
#ifndef NODETLS_CONN_H
#define NODETLS_CONN_H

#include "bridge.h"

/* Per-SSL engine state, owned by the window BIO (freed with it). */
typedef struct nt_conn {
    /* The SSL this BIO belongs to (not owned: the SSL owns the BIO). */
    SSL *ssl;
    /* Input window: Go memory, valid only during a step. */
    const unsigned char *in;
    size_t in_len, in_off;
    int in_eof;
    /* Output window: Go memory, valid only during a step. */
    unsigned char *out;
    size_t out_cap, out_len;
    /* Output that did not fit in the window: C memory, drained by Go. */
    unsigned char *ovf;
    size_t ovf_len, ovf_off, ovf_cap;
    /* Application data read by a write step during a TLS 1.2 renegotiation
     * (OpenSSL accepts it only from SSL_read): C memory, handed out by the
     * next read step before anything else. */
    unsigned char *stash;
    size_t stash_len, stash_off, stash_cap;
    int step_flags; /* NT_F_* bits the current step adds */
    /* A renegotiation was asked for but OpenSSL put off its start (plaintext
     * or part of a record was waiting): until hs_starts moves past
     * reneg_starts, write steps must let SSL_read start it. */
    int reneg_deferred;
    unsigned reneg_starts;
    /* Events seen by the info callback. */
    unsigned hs_starts, hs_dones;
    int alert_recv, alert_sent;
    /* Which Go callbacks this connection wants (NT_CB_* bits). */
    unsigned callbacks;
    /* The PSK identity hint set on this SSL (malloc'd), re-applied after an
     * SNI context switch: OpenSSL keeps it in the CERT that SSL_set_SSL_CTX
     * replaces. */
    char *psk_hint;
    /* This step has read the end of the input. OpenSSL answers an end that
     * comes before close_notify with a fatal alert; Node never shows
     * OpenSSL the end and sends nothing, so what the step writes from then
     * on is dropped. */
    int eof_read;
} nt_conn;

enum {
    NT_OP_HANDSHAKE = 1,
    NT_OP_READ,
    NT_OP_WRITE,
    NT_OP_SHUTDOWN,
    NT_OP_KEY_UPDATE,
    NT_OP_RENEGOTIATE,
};

enum {
    NT_F_INIT_FINISHED = 1,
    NT_F_RECEIVED_SHUTDOWN = 2,
    NT_F_SENT_SHUTDOWN = 4,
    /* A write step found a renegotiation in progress and NT_STASH_MAX bytes of
     * unread application data: it waits for a read step to take them. */
    NT_F_STASH_FULL = 8,
    /* A read step filled its buffer and OpenSSL holds more input
     * (plaintext, or ciphertext in the window): the next read need not wait. */
    NT_F_MORE = 32,
    /* A read or write step left OpenSSL with nothing to read on: no
     * plaintext, no record data, no input in the window, no handshake to
     * start. A read step before more input arrives would find nothing, so
     * the next one may wait for input first. */
    NT_F_STARVED = 64,
};

#define NT_STASH_MAX (1024 * 1024)

/* What one engine step did. */
typedef struct nt_step {
    long ret;          /* bytes read/written, or the SSL call's return value */
    int ssl_err;       /* SSL_get_error of the failing call, 0 if none */
    int flags;         /* NT_F_* */
    size_t in_used;    /* input bytes consumed */
    size_t out_len;    /* bytes written into the output window */
    size_t ovf_pending;/* bytes waiting in overflow */
    unsigned hs_starts, hs_dones;
    int alert_recv, alert_sent;
    nt_errq *err;      /* the captured queue on SSL_ERROR_SSL / SYSCALL */
} nt_step;

int nt_conn_init_method(void);
nt_conn *nt_conn_of(const SSL *s);
nt_result nt_conn_new(SSL_CTX *ctx, int server, uintptr_t handle);
void nt_conn_free(SSL *s);
nt_step nt_conn_step(SSL *s, int op, const unsigned char *in, size_t in_len, int in_eof,
                     unsigned char *out, size_t out_cap, unsigned char *buf, size_t buf_len);
size_t nt_conn_take_overflow(SSL *s, unsigned char *dst, size_t cap);
void nt_conn_release_buffers(SSL *s);

#endif

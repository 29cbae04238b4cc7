/*
 * conn.c — the record engine's C half.
 *
 * Each SSL gets one "window" BIO (both read and write side). Before an SSL call
 * Go lends it two windows of Go memory: the ciphertext received so far (input)
 * and free space for ciphertext to send (output). OpenSSL reads records straight
 * out of the input window and writes records straight into the output window, so
 * ciphertext is copied once per direction, as with a socket. What does not fit
 * in the output window goes to a C-owned overflow buffer that Go drains after the
 * call. The windows are cleared before the call returns: C keeps no Go pointer.
 *
 * One cgo call per step: nt_conn_step runs SSL_do_handshake / SSL_read_ex (in a
 * loop while records are available) / SSL_write_ex / SSL_shutdown / a key update
 * / a renegotiation, and reports what it consumed, produced and what happened.
 */
#include "bridge.h"
#include "conn.h"
#include "tickets.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static BIO_METHOD *win_method;

static int win_write(BIO *b, const char *data, int len) {
    nt_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0)
        return -1;
    if (c->eof_read)
        return len; /* the alert for an unexpected end of the input (conn.h) */
    size_t n = (size_t)len;
    /* Fill the Go window first, unless older bytes already wait in overflow. */
    if (c->ovf_len == c->ovf_off && c->out != NULL && c->out_len < c->out_cap) {
        size_t room = c->out_cap - c->out_len;
        size_t k = n < room ? n : room;
        memcpy(c->out + c->out_len, data, k);
        c->out_len += k;
        data += k;
        n -= k;
    }
    if (n > 0) {
        if (c->ovf_off > 0 && c->ovf_off == c->ovf_len) {
            c->ovf_off = c->ovf_len = 0;
        }
        if (c->ovf_len + n > c->ovf_cap) {
            size_t cap = c->ovf_cap ? c->ovf_cap : 16384;
            while (cap < c->ovf_len + n)
                cap *= 2;
            unsigned char *p = realloc(c->ovf, cap);
            if (p == NULL)
                return -1;
            c->ovf = p;
            c->ovf_cap = cap;
        }
        memcpy(c->ovf + c->ovf_len, data, n);
        c->ovf_len += n;
    }
    return len;
}

static int win_read(BIO *b, char *dst, int len) {
    nt_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c == NULL || len < 0)
        return -1;
    size_t avail = c->in_len - c->in_off;
    if (avail == 0) {
        if (c->in_eof) {
            c->eof_read = 1;
            return 0;
        }
        BIO_set_retry_read(b);
        return -1;
    }
    size_t k = (size_t)len < avail ? (size_t)len : avail;
    memcpy(dst, c->in + c->in_off, k);
    c->in_off += k;
    return (int)k;
}

static int win_puts(BIO *b, const char *s) { return win_write(b, s, (int)strlen(s)); }

static long win_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)ptr;
    nt_conn *c = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    case BIO_CTRL_PENDING:
        return c ? (long)(c->in_len - c->in_off) : 0;
    case BIO_CTRL_WPENDING:
        return c ? (long)(c->out_len + (c->ovf_len - c->ovf_off)) : 0;
    case BIO_CTRL_EOF:
        return c ? (c->in_eof && c->in_off == c->in_len) : 1;
    case BIO_CTRL_GET_CLOSE:
        return BIO_get_shutdown(b);
    case BIO_CTRL_SET_CLOSE:
        BIO_set_shutdown(b, (int)num);
        return 1;
    default:
        return 0;
    }
}

static int win_create(BIO *b) {
    BIO_set_init(b, 1);
    BIO_set_data(b, NULL);
    return 1;
}

static int win_destroy(BIO *b) {
    nt_conn *c = BIO_get_data(b);
    if (c != NULL) {
        free(c->ovf);
        free(c->psk_hint);
        free(c->stash);
        free(c);
        BIO_set_data(b, NULL);
    }
    return 1;
}

int nt_conn_init_method(void) {
    int idx = BIO_get_new_index();
    if (idx == -1)
        return 0;
    BIO_METHOD *m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "nodetls window");
    if (m == NULL)
        return 0;
    if (!BIO_meth_set_write(m, win_write) || !BIO_meth_set_read(m, win_read) ||
        !BIO_meth_set_puts(m, win_puts) || !BIO_meth_set_ctrl(m, win_ctrl) ||
        !BIO_meth_set_create(m, win_create) || !BIO_meth_set_destroy(m, win_destroy)) {
        BIO_meth_free(m);
        return 0;
    }
    win_method = m;
    return 1;
}

nt_conn *nt_conn_of(const SSL *s) {
    BIO *b = SSL_get_rbio(s);
    return b ? BIO_get_data(b) : NULL;
}

static void info_cb(const SSL *s, int where, int ret) {
    (void)ret;
    nt_conn *c = nt_conn_of(s);
    if (c == NULL)
        return;
    if (where & SSL_CB_HANDSHAKE_START)
        c->hs_starts++;
    /* A HelloRequest runs as a handshake of its own (start and done): as
     * Node does, a done that leaves a renegotiation pending is not counted.
     * On a server its start still counts (Node's renegotiation limit counts
     * it); a client reading one sometimes gets the pair and sometimes not,
     * depending on where the record met its state machine, so there it does
     * not count either. */
    if (where & SSL_CB_HANDSHAKE_DONE) {
        if (!SSL_renegotiate_pending((SSL *)s))
            c->hs_dones++;
        else if (!SSL_is_server((SSL *)s) && c->hs_starts > 0)
            c->hs_starts--;
    }
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
        c->alert_recv = ret;
    }
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE)) {
        c->alert_sent = ret;
    }
}

/* Node's rule: the verify callback accepts during the handshake; the result
 * (SSL_get_verify_result) is judged after it. */
static int accept_verify_cb(int ok, X509_STORE_CTX *ctx) {
    (void)ok;
    (void)ctx;
    return 1;
}

nt_result nt_conn_new(SSL_CTX *ctx, int server, uintptr_t handle) {
    ERR_clear_error();
    SSL *s = SSL_new(ctx);
    if (s == NULL)
        return nt_fail("SSL_new");
    nt_conn *c = calloc(1, sizeof(*c));
    BIO *b = c ? BIO_new(win_method) : NULL;
    if (b == NULL) {
        free(c);
        SSL_free(s);
        return nt_fail("BIO_new");
    }
    c->ssl = s;
    BIO_set_data(b, c);
    SSL_set_bio(s, b, b); /* with rbio == wbio it takes the second reference itself */
    /* Set before the handle, so a failure here leaves the handle to the caller. */
    if (!nt_tickets_bind(s, ctx)) {
        SSL_free(s);
        return nt_fail("SSL_set_ex_data");
    }
    if (handle != 0 && !SSL_set_ex_data(s, nt_ssl_handle_idx, (void *)handle)) {
        SSL_free(s); /* the handle is released by the ex_data free hook only if set */
        return nt_fail("SSL_set_ex_data");
    }
    SSL_set_mode(s, SSL_MODE_AUTO_RETRY | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_info_callback(s, info_cb);
    SSL_set_verify(s, SSL_get_verify_mode(s), accept_verify_cb);
    if (server)
        SSL_set_accept_state(s);
    else
        SSL_set_connect_state(s);
    return nt_ok(1, s);
}

void nt_conn_free(SSL *s) { SSL_free(s); }

static void set_error(SSL *s, nt_step *st, int ret);
static void clear_errors(void);

/* stash_room makes room for at least want more bytes in the stash. */
static int stash_room(nt_conn *c, size_t want) {
    if (c->stash_off > 0 && c->stash_off == c->stash_len)
        c->stash_off = c->stash_len = 0;
    if (c->stash_cap - c->stash_len >= want)
        return 1;
    if (c->stash_off > 0) {
        memmove(c->stash, c->stash + c->stash_off, c->stash_len - c->stash_off);
        c->stash_len -= c->stash_off;
        c->stash_off = 0;
        if (c->stash_cap - c->stash_len >= want)
            return 1;
    }
    size_t cap = c->stash_cap ? c->stash_cap : 16384;
    while (cap - c->stash_len < want)
        cap *= 2;
    unsigned char *p = realloc(c->stash, cap);
    if (p == NULL)
        return 0;
    c->stash = p;
    c->stash_cap = cap;
    return 1;
}

/* take_stash copies stashed application data into buf. */
static size_t take_stash(nt_conn *c, unsigned char *buf, size_t len) {
    size_t avail = c->stash_len - c->stash_off;
    size_t k = len < avail ? len : avail;
    if (k == 0)
        return 0;
    memcpy(buf, c->stash + c->stash_off, k);
    c->stash_off += k;
    if (c->stash_off == c->stash_len) {
        c->stash_off = c->stash_len = 0;
        if (c->stash_cap > 64 * 1024) {
            free(c->stash);
            c->stash = NULL;
            c->stash_cap = 0;
        }
    }
    return k;
}

/*
 * renegotiating reports whether a TLS 1.2 renegotiation is under way or is
 * about to start. A client that has read a HelloRequest is not in init yet:
 * OpenSSL starts its handshake at the next SSL_read or SSL_write
 * (SSL_renegotiate_pending tells, until the handshake ends). A server's
 * flag stays up after its HelloRequest until a client answers, which it
 * may never do, so for a server only a handshake in progress counts.
 */
static int renegotiating(SSL *s, nt_conn *c) {
    if (c->reneg_deferred && c->hs_starts != c->reneg_starts)
        c->reneg_deferred = 0;
    if (c->hs_dones == 0)
        return 0;
    return SSL_in_init(s) || c->reneg_deferred || (!SSL_is_server(s) && SSL_renegotiate_pending(s));
}

/*
 * drive_renegotiation runs a TLS 1.2 renegotiation forward for a write step.
 * SSL_write would run the handshake itself, but a handshake run from
 * SSL_write fails on an application data record ("unexpected record"): only
 * SSL_read accepts application data between renegotiation messages. So the
 * step reads, stashing what arrives for the next read step. Returns 1 when
 * the handshake is over (SSL_write may go on), 0 when st reports why not.
 */

static int drive_renegotiation(SSL *s, nt_conn *c, nt_step *st) {
    while (renegotiating(s, c)) {
        if (c->stash_len - c->stash_off >= NT_STASH_MAX) {
            st->ret = -1;
            st->ssl_err = SSL_ERROR_WANT_READ;
            c->step_flags |= NT_F_STASH_FULL;
            return 0;
        }
        if (!stash_room(c, 16384)) {
            st->ret = -1;
            st->ssl_err = SSL_ERROR_SSL;
            st->err = nt_capture_or("out of memory for renegotiation data");
            return 0;
        }
        size_t n = 0;
        int ret = SSL_read_ex(s, c->stash + c->stash_len, c->stash_cap - c->stash_len, &n);
        if (ret == 1) {
            c->stash_len += n;
            continue;
        }
        int e = SSL_get_error(s, ret);
        if (!renegotiating(s, c) && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_ZERO_RETURN)) {
            /* The handshake ended; a close_notify is the reader's to report. */
            clear_errors();
            return 1;
        }
        st->ret = -1;
        set_error(s, st, ret);
        return 0;
    }
    return 1;
}

static void capture_flags(SSL *s, nt_conn *c, nt_step *st) {
    int f = 0;
    if (SSL_is_init_finished(s))
        f |= NT_F_INIT_FINISHED;
    int sd = SSL_get_shutdown(s);
    if (sd & SSL_RECEIVED_SHUTDOWN)
        f |= NT_F_RECEIVED_SHUTDOWN;
    if (sd & SSL_SENT_SHUTDOWN)
        f |= NT_F_SENT_SHUTDOWN;
    st->flags = f | c->step_flags;
    st->hs_starts = c->hs_starts;
    st->hs_dones = c->hs_dones;
    st->alert_recv = c->alert_recv;
    st->alert_sent = c->alert_sent;
}

/* clear_errors empties the thread's error queue, as every shim must before
 * an SSL call (SSL_get_error reads the queue). Steps run per record, and a
 * look is cheaper than clearing all the queue's slots when it is empty,
 * as it nearly always is. */
static void clear_errors(void) {
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

static void set_error(SSL *s, nt_step *st, int ret) {
    int e = SSL_get_error(s, ret);
    st->ssl_err = e;
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
        st->err = nt_capture();
    else
        clear_errors();
}

static nt_step step(SSL *s, nt_conn *c, int op, unsigned char *out, size_t out_cap,
                    unsigned char *buf, size_t buf_len);

static nt_step no_conn(void) {
    nt_step st;
    memset(&st, 0, sizeof st);
    st.ret = -1;
    st.ssl_err = SSL_ERROR_SSL;
    st.err = nt_capture_or("connection has no window BIO");
    return st;
}

nt_step nt_conn_step(SSL *s, int op, const unsigned char *in, size_t in_len, int in_eof,
                     unsigned char *out, size_t out_cap, unsigned char *buf, size_t buf_len) {
    nt_conn *c = nt_conn_of(s);
    if (c == NULL)
        return no_conn();
    clear_errors();
    c->in = in;
    c->in_len = in_len;
    c->in_off = 0;
    c->in_eof = in_eof;
    return step(s, c, op, out, out_cap, buf, buf_len);
}

/* release_idle_buffers frees OpenSSL's record buffers (about 34 KiB) when a
 * read step leaves OpenSSL nothing to read on, and when Go is about to wait
 * for the peer after other steps (nt_conn_release_buffers): an idle
 * connection then holds none, while a busy one keeps them (unlike
 * SSL_MODE_RELEASE_BUFFERS, which frees them after every record).
 * SSL_free_buffers keeps buffers that hold part of a record; before 3.0.14
 * it did not always (CVE-2024-4741), so older versions keep their buffers. */
static void release_idle_buffers(SSL *s) {
    static int ok = -1;
    if (ok < 0)
        ok = OpenSSL_version_num() >= 0x300000e0L;
    if (ok && !SSL_in_init(s))
        SSL_free_buffers(s);
}

void nt_conn_release_buffers(SSL *s) { release_idle_buffers(s); }

/* starved reports whether a read or write step leaves OpenSSL unable to
 * read on without more input: the step did not fail (a read step may have
 * ended wanting input), all the window is taken, no plaintext and no record
 * data (not even part of a record) wait in OpenSSL or the stash, no
 * close_notify has come, and no handshake is under way or about to start (a
 * client's SSL_read starts a renegotiation that a HelloRequest asked for
 * without reading anything). */
static int starved(SSL *s, nt_conn *c, const nt_step *st) {
    if (st->ssl_err != SSL_ERROR_NONE && st->ssl_err != SSL_ERROR_WANT_READ)
        return 0;
    if (c->in_off != c->in_len || c->in_eof || c->stash_len != c->stash_off)
        return 0;
    if (SSL_pending(s) > 0 || SSL_has_pending(s))
        return 0;
    if (SSL_get_shutdown(s) & SSL_RECEIVED_SHUTDOWN)
        return 0;
    return !SSL_in_init(s) && !SSL_renegotiate_pending(s) && !c->reneg_deferred;
}

static nt_step step(SSL *s, nt_conn *c, int op, unsigned char *out, size_t out_cap,
                    unsigned char *buf, size_t buf_len) {
    nt_step st;
    memset(&st, 0, sizeof st);
    c->out = out;
    c->out_cap = out_cap;
    c->out_len = 0;
    c->step_flags = 0;
    c->eof_read = 0;

    int ret;
    size_t n = 0;
    switch (op) {
    case NT_OP_HANDSHAKE:
        ret = SSL_do_handshake(s);
        st.ret = ret;
        if (ret != 1)
            set_error(s, &st, ret);
        break;
    case NT_OP_READ: {
        size_t done = take_stash(c, buf, buf_len);
        for (; done < buf_len;) {
            ret = SSL_read_ex(s, buf + done, buf_len - done, &n);
            if (ret == 1) {
                done += n;
                if (done == buf_len) {
                    if (SSL_pending(s) > 0 || SSL_has_pending(s) || c->in_len - c->in_off >= 5)
                        c->step_flags |= NT_F_MORE;
                    break;
                }
                /* Keep going only while a whole record may be waiting. */
                if (SSL_pending(s) == 0 && c->in_len - c->in_off < 5)
                    break;
                continue;
            }
            if (done > 0) {
                /* Report the data now; a real failure is also captured now, since
                 * OpenSSL's queue will be gone by the next call. */
                int e = SSL_get_error(s, ret);
                if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
                    set_error(s, &st, ret);
                else
                    clear_errors();
            } else {
                set_error(s, &st, ret);
            }
            break;
        }
        st.ret = (long)done;
        if (starved(s, c, &st)) {
            c->step_flags |= NT_F_STARVED;
            release_idle_buffers(s);
        } else if (done == 0 && st.ssl_err == SSL_ERROR_WANT_READ) {
            release_idle_buffers(s);
        }
        break;
    }
    case NT_OP_WRITE:
        if (renegotiating(s, c) && !drive_renegotiation(s, c, &st))
            break;
        ret = SSL_write_ex(s, buf, buf_len, &n);
        st.ret = ret == 1 ? (long)n : -1;
        if (ret != 1)
            set_error(s, &st, ret);
        /* A write leaves the read side as it was, unless it ran a
         * renegotiation: the next read may still wait for input first. */
        if (starved(s, c, &st))
            c->step_flags |= NT_F_STARVED;
        break;
    case NT_OP_SHUTDOWN:
        /* SSL_shutdown refuses to run in the middle of a handshake. */
        if (renegotiating(s, c) && !drive_renegotiation(s, c, &st))
            break;
        ret = SSL_shutdown(s);
        st.ret = ret;
        if (ret < 0)
            set_error(s, &st, ret);
        break;
    case NT_OP_KEY_UPDATE:
        /* These send their first message and return. The input stays for
         * read steps: only SSL_read accepts application data that arrives
         * between handshake messages ("unexpected record" otherwise). */
        c->in_len = 0;
        ret = SSL_key_update(s, SSL_KEY_UPDATE_REQUESTED);
        if (ret == 1)
            ret = SSL_do_handshake(s);
        st.ret = ret;
        if (ret != 1)
            set_error(s, &st, ret);
        break;
    case NT_OP_RENEGOTIATE: {
        c->in_len = 0;
        unsigned starts = c->hs_starts;
        ret = SSL_renegotiate(s);
        /* With plaintext pending, SSL_do_handshake would start the handshake
         * and meet that application data ("unexpected record"): leave the
         * start to SSL_read, which takes the plaintext first. */
        if (ret == 1 && SSL_pending(s) == 0)
            ret = SSL_do_handshake(s);
        st.ret = ret;
        if (ret != 1)
            set_error(s, &st, ret);
        if ((ret == 1 || st.ssl_err == SSL_ERROR_WANT_READ) && c->hs_starts == starts) {
            c->reneg_deferred = 1;
            c->reneg_starts = starts;
        }
        break;
    }
    default:
        st.ret = -1;
        st.ssl_err = SSL_ERROR_SSL;
        st.err = nt_capture_or("unknown engine operation");
    }

    st.in_used = c->in_off;
    st.out_len = c->out_len;
    st.ovf_pending = c->ovf_len - c->ovf_off;
    capture_flags(s, c, &st);
    c->in = NULL;
    c->out = NULL;
    c->in_len = c->in_off = c->out_cap = c->out_len = 0;
    c->eof_read = 0;
    return st;
}

size_t nt_conn_take_overflow(SSL *s, unsigned char *dst, size_t cap) {
    nt_conn *c = nt_conn_of(s);
    if (c == NULL)
        return 0;
    size_t avail = c->ovf_len - c->ovf_off;
    size_t k = avail < cap ? avail : cap;
    memcpy(dst, c->ovf + c->ovf_off, k);
    c->ovf_off += k;
    if (c->ovf_off == c->ovf_len) {
        /* Drained: freed, so an idle connection holds no overflow (it is
         * used only when the window or the socket had no room). */
        c->ovf_off = c->ovf_len = 0;
        free(c->ovf);
        c->ovf = NULL;
        c->ovf_cap = 0;
    }
    return k;
}

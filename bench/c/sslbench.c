/*
 * sslbench.c — the plain C OpenSSL contender of nodetls's benchmark.
 *
 * One process, two threads (server and client) over loopback TCP, socket BIOs,
 * blocking SSL_read / SSL_write: the way a C program typically uses OpenSSL.
 *
 *   sslbench throughput -cert F -key F -ca F -version 1.2|1.3 -cipher NAME
 *            -bytes N -chunk N [-read N] -dir c2s|s2c [-readahead]
 *   sslbench handshake  -cert F -key F -ca F -version 1.2|1.3 -cipher NAME -count N
 *   sslbench rr         -cert F -key F -ca F -version 1.2|1.3 -cipher NAME -count N -reply N
 *   sslbench aead       -bytes N -chunk N
 *
 * Prints one line: "cipher=... version=... bytes=N seconds=S",
 * "cipher=... version=... handshakes=N seconds=S" or "... roundtrips=N
 * seconds=S". The clock starts when both handshakes are done and stops when
 * the receiver has every byte (rr: when the client has the last reply). In rr
 * the client sends a request of RR_REQUEST bytes and waits for the server's
 * reply of -reply bytes, count times, on one connection.
 *
 * aead is the cipher alone, on one thread, without TLS: every chunk is sealed
 * with AES-128-GCM (a fresh nonce, 5 bytes of additional data, as a TLS 1.3
 * record) and opened again, the way libssl 3.0 drives EVP for each record.
 * It prints "cipher=AES-128-GCM version=none bytes=N seconds=S": the
 * cryptography of a bulk transfer of N bytes (both ends), and nothing else.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *cert_file, *key_file, *ca_file, *cipher = "", *dir = "c2s";
static int version = 13, readahead = 0;
static long long total_bytes = 1LL << 30, count = 1000;
static size_t chunk = 16384;
static size_t reply = 2048;
static size_t read_size = 0; /* bytes per SSL_read in throughput (0: chunk) */
#define RR_REQUEST 64
static int listen_fd;
static struct sockaddr_in addr;
static SSL_CTX *sctx, *cctx;
static pthread_barrier_t ready;

static void die(const char *what) {
    fprintf(stderr, "sslbench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void setup_ctx(SSL_CTX *ctx) {
    int v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v))
        die("set version");
    if (version == 13) {
        if (*cipher && !SSL_CTX_set_ciphersuites(ctx, cipher))
            die("set ciphersuites");
    } else if (*cipher && !SSL_CTX_set_cipher_list(ctx, cipher)) {
        die("set cipher list");
    }
    if (readahead)
        SSL_CTX_set_read_ahead(ctx, 1);
}

static void make_contexts(void) {
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL)
        die("SSL_CTX_new");
    setup_ctx(sctx);
    setup_ctx(cctx);
    if (SSL_CTX_use_certificate_chain_file(sctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, key_file, SSL_FILETYPE_PEM) != 1)
        die("load server key pair");
    if (SSL_CTX_load_verify_locations(cctx, ca_file, NULL) != 1)
        die("load CA");
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
}

static void make_listener(void) {
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listen_fd, 128) != 0 || getsockname(listen_fd, (struct sockaddr *)&addr, &len) != 0)
        die("listen");
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static SSL *accept_tls(void) {
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0)
        die("accept");
    nodelay(fd);
    SSL *s = SSL_new(sctx);
    SSL_set_fd(s, fd);
    if (SSL_accept(s) != 1)
        die("SSL_accept");
    return s;
}

static SSL *connect_tls(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect");
    nodelay(fd);
    SSL *s = SSL_new(cctx);
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, "localhost");
    if (SSL_connect(s) != 1)
        die("SSL_connect");
    return s;
}

static void close_tls(SSL *s) {
    int fd = SSL_get_fd(s);
    SSL_free(s);
    close(fd);
}

static void send_all(SSL *s) {
    unsigned char *buf = malloc(chunk);
    for (size_t i = 0; i < chunk; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    long long left = total_bytes;
    while (left > 0) {
        int n = (int)(left < (long long)chunk ? left : (long long)chunk);
        if (SSL_write(s, buf, n) != n)
            die("SSL_write");
        left -= n;
    }
    free(buf);
}

static long long recv_all(SSL *s) {
    size_t size = read_size ? read_size : chunk;
    unsigned char *buf = malloc(size);
    long long got = 0;
    while (got < total_bytes) {
        int n = SSL_read(s, buf, (int)size);
        if (n <= 0)
            die("SSL_read");
        got += n;
    }
    free(buf);
    return got;
}

/* ---- throughput ---- */

static SSL *srv_ssl;
static double t_end;
static long long received;

static void *tp_server(void *arg) {
    (void)arg;
    srv_ssl = accept_tls();
    pthread_barrier_wait(&ready);
    if (strcmp(dir, "c2s") == 0) {
        received = recv_all(srv_ssl);
        t_end = now();
    } else {
        send_all(srv_ssl);
    }
    pthread_barrier_wait(&ready);
    return NULL;
}

static void throughput(void) {
    pthread_t th;
    pthread_barrier_init(&ready, NULL, 2);
    pthread_create(&th, NULL, tp_server, NULL);
    SSL *cli = connect_tls();
    pthread_barrier_wait(&ready);
    double t0 = now();
    if (strcmp(dir, "c2s") == 0) {
        send_all(cli);
    } else {
        received = recv_all(cli);
        t_end = now();
    }
    pthread_barrier_wait(&ready);
    pthread_join(th, NULL);
    printf("cipher=%s version=%s bytes=%lld seconds=%.6f\n", SSL_get_cipher_name(cli),
           SSL_get_version(cli), received, t_end - t0);
    SSL_shutdown(cli);
    close_tls(cli);
    close_tls(srv_ssl);
}

/* ---- request/response ---- */

static void read_exactly(SSL *s, unsigned char *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        int k = SSL_read(s, buf + got, (int)(n - got));
        if (k <= 0)
            die("SSL_read");
        got += (size_t)k;
    }
}

static void *rr_server(void *arg) {
    (void)arg;
    srv_ssl = accept_tls();
    unsigned char req[RR_REQUEST];
    unsigned char *resp = malloc(reply);
    for (size_t i = 0; i < reply; i++)
        resp[i] = (unsigned char)(i * 131 + 7);
    pthread_barrier_wait(&ready);
    for (long long i = 0; i < count; i++) {
        read_exactly(srv_ssl, req, sizeof req);
        if (SSL_write(srv_ssl, resp, (int)reply) != (int)reply)
            die("SSL_write");
    }
    free(resp);
    pthread_barrier_wait(&ready);
    return NULL;
}

static void roundtrips(void) {
    pthread_t th;
    pthread_barrier_init(&ready, NULL, 2);
    pthread_create(&th, NULL, rr_server, NULL);
    SSL *cli = connect_tls();
    unsigned char req[RR_REQUEST];
    memset(req, 'q', sizeof req);
    unsigned char *resp = malloc(reply);
    pthread_barrier_wait(&ready);
    double t0 = now();
    for (long long i = 0; i < count; i++) {
        if (SSL_write(cli, req, sizeof req) != (int)sizeof req)
            die("SSL_write");
        read_exactly(cli, resp, reply);
    }
    double t1 = now();
    for (size_t i = 0; i < reply; i++)
        if (resp[i] != (unsigned char)(i * 131 + 7))
            die("reply differs");
    free(resp);
    pthread_barrier_wait(&ready);
    pthread_join(th, NULL);
    printf("cipher=%s version=%s roundtrips=%lld seconds=%.6f\n", SSL_get_cipher_name(cli),
           SSL_get_version(cli), count, t1 - t0);
    SSL_shutdown(cli);
    close_tls(cli);
    close_tls(srv_ssl);
}

/* ---- handshakes ---- */

static void *hs_server(void *arg) {
    (void)arg;
    for (long long i = 0; i < count; i++) {
        SSL *s = accept_tls();
        SSL_shutdown(s);
        close_tls(s);
    }
    return NULL;
}

static void handshakes(void) {
    pthread_t th;
    char name[64] = "", ver[16] = "";
    double t0 = now();
    pthread_create(&th, NULL, hs_server, NULL);
    for (long long i = 0; i < count; i++) {
        SSL *s = connect_tls();
        if (i == 0) {
            snprintf(name, sizeof name, "%s", SSL_get_cipher_name(s));
            snprintf(ver, sizeof ver, "%s", SSL_get_version(s));
        }
        unsigned char b[256];
        while (SSL_read(s, b, sizeof b) > 0) {
        }
        close_tls(s);
    }
    pthread_join(th, NULL);
    double t1 = now();
    printf("cipher=%s version=%s handshakes=%lld seconds=%.6f\n", name, ver, count, t1 - t0);
}

/* seal_open seals in into out (len bytes and a 16-byte tag) under the nonce
 * iv and the additional data aad, then opens out into back; 1 on success. */
static int seal_open(EVP_CIPHER_CTX *ctx, const unsigned char iv[12], const unsigned char aad[5],
                     const unsigned char *in, unsigned char *out, unsigned char *back, int len) {
    int n, m;
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 1) || !EVP_CipherUpdate(ctx, NULL, &n, aad, 5) ||
        !EVP_CipherUpdate(ctx, out, &n, in, len) || !EVP_CipherFinal_ex(ctx, out + n, &m) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len))
        return 0;
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 0) || !EVP_CipherUpdate(ctx, NULL, &n, aad, 5) ||
        !EVP_CipherUpdate(ctx, back, &n, out, len) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, out + len) ||
        EVP_CipherFinal_ex(ctx, back + n, &m) <= 0)
        return 0;
    return 1;
}

static void aead(void) {
    unsigned char key[16], iv[12], aad[5] = {23, 3, 3, 0, 0};
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    unsigned char *in = malloc(chunk), *out = malloc(chunk + 16), *back = malloc(chunk);
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (in == NULL || out == NULL || back == NULL || c == NULL || ctx == NULL ||
        !EVP_CipherInit_ex(ctx, c, NULL, key, NULL, 1))
        die("aead setup");
    for (size_t i = 0; i < chunk; i++)
        in[i] = (unsigned char)(i * 131 + 7);
    double t0 = now();
    long long done = 0;
    for (unsigned long long seq = 0; done < total_bytes; seq++) {
        int len = total_bytes - done < (long long)chunk ? (int)(total_bytes - done) : (int)chunk;
        memset(iv, 0x5a, 4);
        for (int i = 0; i < 8; i++)
            iv[4 + i] = (unsigned char)(0x5a ^ (seq >> (56 - 8 * i)));
        aad[3] = (unsigned char)((len + 16) >> 8);
        aad[4] = (unsigned char)(len + 16);
        if (!seal_open(ctx, iv, aad, in, out, back, len) || memcmp(in, back, len) != 0)
            die("aead: a record did not open to what was sealed");
        done += len;
    }
    double t1 = now();
    printf("cipher=AES-128-GCM version=none bytes=%lld seconds=%.6f\n", done, t1 - t0);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    free(in);
    free(out);
    free(back);
}

int main(int argc, char **argv) {
    if (argc < 2)
        die("usage: sslbench throughput|handshake|rr|aead [options]");
    const char *mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-readahead") == 0) {
            readahead = 1;
            continue;
        }
        if (v == NULL)
            die("option without a value");
        i++;
        if (strcmp(a, "-cert") == 0) cert_file = v;
        else if (strcmp(a, "-key") == 0) key_file = v;
        else if (strcmp(a, "-ca") == 0) ca_file = v;
        else if (strcmp(a, "-cipher") == 0) cipher = v;
        else if (strcmp(a, "-dir") == 0) dir = v;
        else if (strcmp(a, "-version") == 0) version = strcmp(v, "1.2") == 0 ? 12 : 13;
        else if (strcmp(a, "-bytes") == 0) total_bytes = atoll(v);
        else if (strcmp(a, "-chunk") == 0) chunk = (size_t)atoll(v);
        else if (strcmp(a, "-count") == 0) count = atoll(v);
        else if (strcmp(a, "-reply") == 0) reply = (size_t)atoll(v);
        else if (strcmp(a, "-read") == 0) read_size = (size_t)atoll(v);
        else die("unknown option");
    }
    if (strcmp(mode, "aead") == 0) {
        aead();
        return 0;
    }
    if (cert_file == NULL || key_file == NULL || ca_file == NULL)
        die("-cert, -key and -ca are required");
    make_contexts();
    make_listener();
    if (strcmp(mode, "throughput") == 0)
        throughput();
    else if (strcmp(mode, "handshake") == 0)
        handshakes();
    else if (strcmp(mode, "rr") == 0)
        roundtrips();
    else
        die("unknown mode");
    close(listen_fd);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}

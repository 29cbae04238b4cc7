/* hostcheck.c — a certificate's identity against a host name or IP address
 * (X509_check_host / X509_check_ip_asc: RFC 6125 rules as OpenSSL applies them). */
#include "bridge.h"
#include "hostcheck.h"

/* ret: 1 match, 0 no match, -2 malformed input; err set when OpenSSL failed. */
nt_result nt_x509_check_host(X509 *x, const char *host, size_t len, unsigned int flags) {
    ERR_clear_error();
    int r = X509_check_host(x, host, len, flags, NULL);
    if (r == -2) { /* malformed name (an embedded NUL): reported by the Go side */
        ERR_clear_error();
        return nt_ok(r, NULL);
    }
    if (r < 0)
        return nt_fail("X509_check_host");
    return nt_ok(r, NULL);
}

nt_result nt_x509_check_ip_asc(X509 *x, const char *ip, unsigned int flags) {
    ERR_clear_error();
    int r = X509_check_ip_asc(x, ip, flags);
    if (r == -2) { /* malformed address: reported by the Go side */
        ERR_clear_error();
        return nt_ok(r, NULL);
    }
    if (r < 0)
        return nt_fail("X509_check_ip_asc");
    return nt_ok(r, NULL);
}

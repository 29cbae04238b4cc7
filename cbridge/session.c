/* session.c — what an SSL_SESSION reports beyond sslinfo.c's accessors. */
#include "bridge.h"
#include <string.h>

/* Copies the session's ticket into out (when it fits) and returns its length. */
int nt_session_ticket(SSL_SESSION *s, unsigned char *out, int cap) {
    const unsigned char *t = NULL;
    size_t n = 0;
    SSL_SESSION_get0_ticket(s, &t, &n);
    if (out != NULL && t != NULL && n <= (size_t)cap)
        memcpy(out, t, n);
    return (int)n;
}

unsigned long nt_session_ticket_lifetime_hint(SSL_SESSION *s) { return SSL_SESSION_get_ticket_lifetime_hint(s); }

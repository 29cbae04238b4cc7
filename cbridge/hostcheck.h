#ifndef NODETLS_HOSTCHECK_H
#define NODETLS_HOSTCHECK_H
#include "bridge.h"
#include <stdlib.h>

nt_result nt_x509_check_host(X509 *x, const char *host, size_t len, unsigned int flags);
nt_result nt_x509_check_ip_asc(X509 *x, const char *ip, unsigned int flags);
#endif

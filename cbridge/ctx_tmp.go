package cbridge

/*
#include "bridge.h"
nt_result nt_tmp_ctx_new(X509 *cert, EVP_PKEY *key);
long nt_tmp_ctx_set_options(SSL_CTX *ctx, long set, int minv, int maxv);
*/
import "C"

// TmpNewSSLCtx is a stand-in until openssl.Context lands (engine branch only).
func TmpNewSSLCtx(cert *X509, key *PKey) (*SSLCtx, error) {
	var cp *C.X509
	var kp *C.EVP_PKEY
	if cert != nil {
		cp = cert.p
	}
	if key != nil {
		kp = key.p
	}
	_, p, err := result("SSL_CTX_new", C.nt_tmp_ctx_new(cp, kp))
	if err != nil {
		return nil, err
	}
	return newSSLCtx((*C.SSL_CTX)(p)), nil
}

// TmpSetOptions is a stand-in until openssl.Context lands.
func (c *SSLCtx) TmpSetOptions(set int64, minv, maxv int) {
	C.nt_tmp_ctx_set_options(c.p, C.long(set), C.int(minv), C.int(maxv))
}

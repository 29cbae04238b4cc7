package cbridge

/*
#include "bridge.h"
#include <stdlib.h>
typedef struct nt_p12_parts nt_p12_parts;
nt_result nt_p12_parse(const unsigned char *der, int len, const char *pass);
EVP_PKEY *nt_p12_key(nt_p12_parts *p);
X509 *nt_p12_cert(nt_p12_parts *p);
int nt_p12_ca_count(nt_p12_parts *p);
X509 *nt_p12_ca(nt_p12_parts *p, int i);
void nt_p12_parts_free(nt_p12_parts *p);
nt_result nt_p12_create(const char *pass, EVP_PKEY *key, X509 *cert, X509 **ca, int nca);
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// PKCS12Parts is what PKCS12_parse found in a PKCS#12 (PFX) file. Each non-nil
// handle is owned by the caller. Key or Cert may be nil when the file has none.
type PKCS12Parts struct {
	Key  *PKey
	Cert *X509
	CA   []*X509
}

// ParsePKCS12 is d2i_PKCS12_bio followed by PKCS12_parse. A wrong password fails
// with OpenSSL's "mac verify failure"; data that is not PKCS#12 fails with the
// ASN.1 decoder's reason.
func ParsePKCS12(der []byte, passphrase string) (*PKCS12Parts, error) {
	const op = "PKCS12_parse"
	if len(der) > maxCString {
		return nil, NewError(op, "nodetls", "input too large")
	}
	pass, err := cStringNoNUL(op, passphrase)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(pass))
	r := C.nt_p12_parse(cBytes(der), C.int(len(der)), pass)
	runtime.KeepAlive(der)
	_, p, err := result(op, r)
	if err != nil {
		return nil, err
	}
	parts := (*C.nt_p12_parts)(p)
	defer C.nt_p12_parts_free(parts)
	out := &PKCS12Parts{Key: newPKey(C.nt_p12_key(parts)), Cert: newX509(C.nt_p12_cert(parts))}
	n := int(C.nt_p12_ca_count(parts))
	for i := 0; i < n; i++ {
		if x := newX509(C.nt_p12_ca(parts, C.int(i))); x != nil {
			out.CA = append(out.CA, x)
		}
	}
	return out, nil
}

// CreatePKCS12 is PKCS12_create with OpenSSL 3's default algorithms
// (AES-256-CBC, PBKDF2, HMAC-SHA256 MAC) and i2d_PKCS12: the DER of a PFX
// holding key, cert and the extra certificates ca. The objects stay the
// caller's; key or cert may be nil, but not both.
func CreatePKCS12(key *PKey, cert *X509, ca []*X509, passphrase string) ([]byte, error) {
	const op = "PKCS12_create"
	pass, err := cStringNoNUL(op, passphrase)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(pass))
	var kp *C.EVP_PKEY
	if key != nil {
		kp = key.p
	}
	var xp *C.X509
	if cert != nil {
		xp = cert.p
	}
	if kp == nil && xp == nil {
		return nil, NewError(op, "nodetls", "no key and no certificate")
	}
	// A C-allocated array of borrowed pointers: Go memory never reaches C here.
	var arr **C.X509
	if len(ca) > 0 {
		arr = (**C.X509)(C.calloc(C.size_t(len(ca)), C.size_t(unsafe.Sizeof((*C.X509)(nil)))))
		if arr == nil {
			return nil, NewError(op, "nodetls", "out of memory")
		}
		defer C.free(unsafe.Pointer(arr))
		slots := unsafe.Slice(arr, len(ca))
		for i, x := range ca {
			if x == nil || x.p == nil {
				return nil, NewError(op, "nodetls", "nil CA certificate")
			}
			slots[i] = x.p
		}
	}
	r := C.nt_p12_create(pass, kp, xp, arr, C.int(len(ca)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(cert)
	runtime.KeepAlive(ca)
	n, p, err := result(op, r)
	if err != nil {
		return nil, err
	}
	defer C.free(p)
	return C.GoBytes(p, C.int(n)), nil
}

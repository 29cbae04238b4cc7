// Package cbridge is the only package of nodetls that talks to C. It wraps the
// libssl and libcrypto calls that the openssl package needs, one small function
// each, and holds no policy.
//
// Rules kept here:
//   - Every wrapper that can fail drains OpenSSL's error queue inside the same C
//     call and returns it as an *Error; nothing reads the queue later.
//   - No Go pointer is kept by C. Callbacks find their Go object through a
//     runtime/cgo.Handle stored in SSL / SSL_CTX ex_data, released by an ex_data
//     free hook when OpenSSL frees the object.
//   - Handle types (SSLCtx, SSL, X509, PKey, ...) are freed by an explicit Free;
//     runtime.AddCleanup is only a safety net.
package cbridge

/*
#cgo pkg-config: libssl libcrypto
#cgo CFLAGS: -O2 -Wall -Wno-deprecated-declarations
#include "bridge.h"
*/
import "C"

import "fmt"

func init() {
	if C.nt_init() != 1 {
		// Nothing in this package can work without an initialised libssl; this is
		// the one place where failing loudly at start-up is the right answer.
		panic(fmt.Sprintf("cbridge: OpenSSL initialisation failed: %v", takeErr("OPENSSL_init_ssl", C.nt_capture_or(C.CString("OPENSSL_init_ssl failed")))))
	}
}

// Object kinds counted by LiveObjects.
const (
	ObjSSL        = int(C.NT_OBJ_SSL)
	ObjSSLCtx     = int(C.NT_OBJ_SSL_CTX)
	ObjSession    = int(C.NT_OBJ_SSL_SESSION)
	ObjX509       = int(C.NT_OBJ_X509)
	ObjPKey       = int(C.NT_OBJ_EVP_PKEY)
	ObjBIO        = int(C.NT_OBJ_BIO)
	ObjX509Store  = int(C.NT_OBJ_X509_STORE)
	objKindsCount = int(C.NT_OBJ__COUNT)
)

// ObjectCounts is the number of live OpenSSL objects of each kind, counted by
// ex_data hooks from the moment this package was initialised.
type ObjectCounts struct {
	SSL, SSLCtx, Session, X509, PKey, BIO, X509Store int64
}

// LiveObjects reports how many OpenSSL objects of each kind are alive now. Leak
// tests compare two readings; objects OpenSSL made for itself before start-up are
// not counted, so only differences are meaningful.
func LiveObjects() ObjectCounts {
	get := func(k int) int64 { return int64(C.nt_live(C.int(k))) }
	return ObjectCounts{
		SSL: get(ObjSSL), SSLCtx: get(ObjSSLCtx), Session: get(ObjSession),
		X509: get(ObjX509), PKey: get(ObjPKey), BIO: get(ObjBIO), X509Store: get(ObjX509Store),
	}
}

// MallocInUse is the number of bytes the C heap (malloc: OpenSSL's objects
// and buffers) has handed out and not taken back, from glibc's mallinfo2;
// -1 where the C library cannot tell. Memory tests compare two readings.
func MallocInUse() int64 { return int64(C.nt_malloc_in_use()) }

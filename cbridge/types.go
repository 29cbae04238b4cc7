package cbridge

/*
#include "bridge.h"
*/
import "C"

import "runtime"

// The handle types below each own one reference to an OpenSSL object. Free
// drops it (idempotent); a runtime cleanup drops it too if Free was never
// called, but code must not rely on that. A handle is not safe for concurrent
// Free and use; its owner serialises that.

// X509 owns a reference to an X509 certificate.
type X509 struct {
	p       *C.X509
	cleanup runtime.Cleanup
}

func newX509(p *C.X509) *X509 {
	if p == nil {
		return nil
	}
	x := &X509{p: p}
	x.cleanup = runtime.AddCleanup(x, func(p *C.X509) { C.X509_free(p) }, p)
	return x
}

// Free drops this reference.
func (x *X509) Free() {
	if x == nil || x.p == nil {
		return
	}
	x.cleanup.Stop()
	C.X509_free(x.p)
	x.p = nil
}

// Ref returns a new, independently owned reference to the same certificate.
func (x *X509) Ref() *X509 {
	if x == nil || x.p == nil {
		return nil
	}
	C.X509_up_ref(x.p)
	return newX509(x.p)
}

// PKey owns a reference to an EVP_PKEY (private or public key, or DH parameters).
type PKey struct {
	p       *C.EVP_PKEY
	cleanup runtime.Cleanup
}

func newPKey(p *C.EVP_PKEY) *PKey {
	if p == nil {
		return nil
	}
	k := &PKey{p: p}
	k.cleanup = runtime.AddCleanup(k, func(p *C.EVP_PKEY) { C.EVP_PKEY_free(p) }, p)
	return k
}

// Free drops this reference.
func (k *PKey) Free() {
	if k == nil || k.p == nil {
		return
	}
	k.cleanup.Stop()
	C.EVP_PKEY_free(k.p)
	k.p = nil
}

// Ref returns a new, independently owned reference to the same key.
func (k *PKey) Ref() *PKey {
	if k == nil || k.p == nil {
		return nil
	}
	C.EVP_PKEY_up_ref(k.p)
	return newPKey(k.p)
}

// X509CRL owns a reference to a certificate revocation list.
type X509CRL struct {
	p       *C.X509_CRL
	cleanup runtime.Cleanup
}

func newX509CRL(p *C.X509_CRL) *X509CRL {
	if p == nil {
		return nil
	}
	c := &X509CRL{p: p}
	c.cleanup = runtime.AddCleanup(c, func(p *C.X509_CRL) { C.X509_CRL_free(p) }, p)
	return c
}

// Free drops this reference.
func (c *X509CRL) Free() {
	if c == nil || c.p == nil {
		return
	}
	c.cleanup.Stop()
	C.X509_CRL_free(c.p)
	c.p = nil
}

// SSLCtx owns a reference to an SSL_CTX. Each SSL made from it holds its own
// reference, so freeing the SSLCtx while connections run is safe.
type SSLCtx struct {
	p       *C.SSL_CTX
	cleanup runtime.Cleanup
}

func newSSLCtx(p *C.SSL_CTX) *SSLCtx {
	if p == nil {
		return nil
	}
	c := &SSLCtx{p: p}
	c.cleanup = runtime.AddCleanup(c, func(p *C.SSL_CTX) { C.SSL_CTX_free(p) }, p)
	return c
}

// Free drops this reference.
func (c *SSLCtx) Free() {
	if c == nil || c.p == nil {
		return
	}
	c.cleanup.Stop()
	C.SSL_CTX_free(c.p)
	c.p = nil
}

// Ref returns a new, independently owned reference to the same SSL_CTX.
func (c *SSLCtx) Ref() *SSLCtx {
	if c == nil || c.p == nil {
		return nil
	}
	C.SSL_CTX_up_ref(c.p)
	return newSSLCtx(c.p)
}

// Session owns a reference to an SSL_SESSION.
type Session struct {
	p       *C.SSL_SESSION
	cleanup runtime.Cleanup
}

func newSession(p *C.SSL_SESSION) *Session {
	if p == nil {
		return nil
	}
	s := &Session{p: p}
	s.cleanup = runtime.AddCleanup(s, func(p *C.SSL_SESSION) { C.SSL_SESSION_free(p) }, p)
	return s
}

// Free drops this reference.
func (s *Session) Free() {
	if s == nil || s.p == nil {
		return
	}
	s.cleanup.Stop()
	C.SSL_SESSION_free(s.p)
	s.p = nil
}

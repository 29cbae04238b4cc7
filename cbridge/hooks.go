package cbridge

/*
#include "hooks.h"
*/
import "C"

import (
	"runtime/cgo"
	"strings"
	"unsafe"
)

// Callback bits for SSL.SetCallbacks: which hooks call into Go for this connection.
const (
	CallbackALPN        = uint(C.NT_CB_ALPN)
	CallbackSNI         = uint(C.NT_CB_SNI)
	CallbackPSKServer   = uint(C.NT_CB_PSK_SERVER)
	CallbackPSKClient   = uint(C.NT_CB_PSK_CLIENT)
	CallbackNewSession  = uint(C.NT_CB_NEW_SESSION)
	CallbackGetSession  = uint(C.NT_CB_GET_SESSION)
	CallbackKeylog      = uint(C.NT_CB_KEYLOG)
	CallbackOCSP        = uint(C.NT_CB_OCSP)
	CallbackClientHello = uint(C.NT_CB_CLIENT_HELLO)
	CallbackCertificate = uint(C.NT_CB_CERT)
)

// ALPN verdicts besides an offset into the offered list.
const (
	ALPNFatal = int(C.NT_ALPN_FATAL)
	ALPNNoAck = int(C.NT_ALPN_NOACK)
)

// ConnHooks is implemented by the Go object attached to an SSL (NewSSL's owner).
// The methods run on the goroutine that is inside an engine step, while the
// engine's lock is held: they must not call back into the same connection's
// engine. A panic is recovered and reported through HookPanicked.
type ConnHooks interface {
	// SelectALPN gets the client's protocol list in wire format and returns the
	// offset of the chosen length-prefixed entry, ALPNNoAck or ALPNFatal.
	SelectALPN(offered []byte) int
	// ServerName gets the SNI name ("" when none) and returns the context to
	// switch to (nil keeps the current one); an error ends the handshake. The
	// returned handle is an owned reference (SSLCtx.Ref) that cbridge hands to
	// OpenSSL: the caller must not use or free it afterwards.
	ServerName(name string) (*SSLCtx, error)
	// PSKServer returns the key for identity (at most maxPSK bytes); nil
	// means unknown identity, and an error ends the handshake.
	PSKServer(identity string, maxPSK int) ([]byte, error)
	// PSKClient returns the identity (at most maxIdentity bytes, no NUL) and
	// key (at most maxPSK bytes) for the server's hint; a nil key means no
	// PSK, and an error ends the handshake.
	PSKClient(hint string, hasHint bool, maxIdentity, maxPSK int) (identity string, psk []byte, err error)
	// NewSession gets a new session (borrowed: Ref it to keep it).
	NewSession(s *SessionRef)
	// GetSession looks a session id up in an external cache; nil if unknown.
	GetSession(id []byte) *Session
	// Keylog gets one NSS key log line (without newline).
	Keylog(line string)
	// OCSPRequest (server) returns a DER OCSP response to staple, nil or
	// empty for none; an error ends the handshake.
	OCSPRequest() ([]byte, error)
	// OCSPResponse (client) gets the stapled response, nil if none.
	OCSPResponse(resp []byte)
	// ClientHello (server) gets the ClientHello's legacy session id and
	// whether it carries a non-empty session ticket, before OpenSSL looks for
	// a session to resume.
	ClientHello(sessionID []byte, hasTicket bool)
	// Certificate (server) runs from OpenSSL's certificate callback, once the
	// ClientHello's extensions are known and before the certificate is used
	// (not on a resumed handshake); false ends the handshake.
	Certificate() bool
	// HookPanicked records a panic recovered from one of the methods above.
	HookPanicked(hook string, value any)
}

// SessionRef is a session OpenSSL lends to a callback.
type SessionRef struct{ p *C.SSL_SESSION }

// Ref returns an owned reference to the borrowed session.
func (r *SessionRef) Ref() *Session {
	if r == nil || r.p == nil {
		return nil
	}
	C.SSL_SESSION_up_ref(r.p)
	return newSession(r.p)
}

func hooksOf(h C.uintptr_t) ConnHooks {
	if h == 0 {
		return nil
	}
	v, _ := cgo.Handle(h).Value().(ConnHooks)
	return v
}

func recoverHook(hooks ConnHooks, name string) {
	if r := recover(); r != nil {
		hooks.HookPanicked(name, r)
	}
}

//export ntALPNSelect
func ntALPNSelect(h C.uintptr_t, in *C.uchar, inlen C.uint) (off C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return C.NT_ALPN_NOACK
	}
	off = C.NT_ALPN_FATAL
	defer recoverHook(hooks, "ALPN")
	return C.int(hooks.SelectALPN(C.GoBytes(unsafe.Pointer(in), C.int(inlen))))
}

//export ntServerName
func ntServerName(h C.uintptr_t, name *C.char) (a C.nt_sni_answer) {
	hooks := hooksOf(h)
	if hooks == nil {
		return a
	}
	a.verdict = 1
	defer recoverHook(hooks, "SNI")
	n := ""
	if name != nil {
		n = C.GoString(name)
	}
	ctx, err := hooks.ServerName(n)
	if err != nil {
		ctx.Free()
		return a
	}
	a.verdict = 0
	if ctx != nil && ctx.p != nil {
		// Hand our reference to the trampoline, which drops it.
		a.ctx = ctx.p
		ctx.cleanup.Stop()
		ctx.p = nil
	}
	return a
}

//export ntPSKServer
func ntPSKServer(h C.uintptr_t, identity *C.char, psk *C.uchar, maxPSK C.uint) (n C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return 0
	}
	n = -1 // a panic aborts the handshake
	defer recoverHook(hooks, "PSK")
	id := ""
	if identity != nil {
		id = C.GoString(identity)
	}
	key, err := hooks.PSKServer(id, int(maxPSK))
	if err != nil || len(key) > int(maxPSK) {
		return -1
	}
	if len(key) == 0 {
		return 0
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(psk)), int(maxPSK)), key)
	return C.int(len(key))
}

//export ntPSKClient
func ntPSKClient(h C.uintptr_t, hint *C.char, identity *C.char, maxIdentity C.uint, psk *C.uchar, maxPSK C.uint) (n C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return 0
	}
	n = -1 // a panic aborts the handshake
	defer recoverHook(hooks, "PSK")
	hs, has := "", hint != nil
	if has {
		hs = C.GoString(hint)
	}
	// OpenSSL's identity buffer has maxIdentity bytes plus one for the NUL.
	id, key, err := hooks.PSKClient(hs, has, int(maxIdentity), int(maxPSK))
	if err != nil || len(key) > int(maxPSK) || len(id) > int(maxIdentity) || strings.IndexByte(id, 0) >= 0 {
		return -1
	}
	if len(key) == 0 {
		return 0
	}
	idBuf := unsafe.Slice((*byte)(unsafe.Pointer(identity)), int(maxIdentity)+1)
	copy(idBuf, id)
	idBuf[len(id)] = 0
	copy(unsafe.Slice((*byte)(unsafe.Pointer(psk)), int(maxPSK)), key)
	return C.int(len(key))
}

//export ntNewSession
func ntNewSession(h C.uintptr_t, sess *C.SSL_SESSION) {
	hooks := hooksOf(h)
	if hooks == nil {
		return
	}
	defer recoverHook(hooks, "newSession")
	hooks.NewSession(&SessionRef{p: sess})
}

//export ntGetSession
func ntGetSession(h C.uintptr_t, id *C.uchar, idlen C.int) (out *C.SSL_SESSION) {
	hooks := hooksOf(h)
	if hooks == nil {
		return nil
	}
	defer recoverHook(hooks, "resumeSession")
	s := hooks.GetSession(C.GoBytes(unsafe.Pointer(id), idlen))
	if s == nil || s.p == nil {
		return nil
	}
	// Hand our reference to OpenSSL (the callback's *copy = 0 contract).
	p := s.p
	s.cleanup.Stop()
	s.p = nil
	return p
}

//export ntKeylog
func ntKeylog(h C.uintptr_t, line *C.char) {
	hooks := hooksOf(h)
	if hooks == nil {
		return
	}
	defer recoverHook(hooks, "keylog")
	hooks.Keylog(C.GoString(line))
}

//export ntOCSPRequest
func ntOCSPRequest(h C.uintptr_t, s *C.SSL) (r C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return 0
	}
	r = -1
	defer recoverHook(hooks, "OCSPRequest")
	resp, err := hooks.OCSPRequest()
	if err != nil {
		return -1
	}
	if len(resp) == 0 {
		return 0
	}
	if C.nt_conn_set_ocsp_response(s, cBytes(resp), C.size_t(len(resp))) != 1 {
		return -1
	}
	return 1
}

//export ntOCSPResponse
func ntOCSPResponse(h C.uintptr_t, resp *C.uchar, n C.long) {
	hooks := hooksOf(h)
	if hooks == nil {
		return
	}
	defer recoverHook(hooks, "OCSPResponse")
	var b []byte
	if resp != nil && n > 0 {
		b = C.GoBytes(unsafe.Pointer(resp), C.int(n))
	}
	hooks.OCSPResponse(b)
}

//export ntClientHello
func ntClientHello(h C.uintptr_t, id *C.uchar, idlen C.int, hasTicket C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return
	}
	defer recoverHook(hooks, "ClientHello")
	var b []byte
	if id != nil && idlen > 0 {
		b = C.GoBytes(unsafe.Pointer(id), idlen)
	}
	hooks.ClientHello(b, hasTicket != 0)
}

//export ntCertificate
func ntCertificate(h C.uintptr_t) (ok C.int) {
	hooks := hooksOf(h)
	if hooks == nil {
		return 1
	}
	defer recoverHook(hooks, "certificate")
	if hooks.Certificate() {
		return 1
	}
	return 0
}

// SetCallbacks chooses which hooks call into Go for this connection.
func (s *SSL) SetCallbacks(bits uint) {
	if s != nil && s.p != nil {
		C.nt_conn_want(s.p, C.uint(bits))
	}
}

// SetPSKCallbacks installs (or removes) the PSK callbacks on this connection;
// their presence is what enables the PSK cipher suites in OpenSSL.
func (s *SSL) SetPSKCallbacks(server, client bool) {
	b := func(v bool) C.int {
		if v {
			return 1
		}
		return 0
	}
	C.nt_conn_set_psk(s.p, b(server), b(client))
}

// InstallHooks installs nodetls's context-level callbacks on ctx; NewSSLCtx
// does it once, before any connection uses the context. Each hook calls into Go
// only for connections that asked for it (SSL.SetCallbacks).
func (c *SSLCtx) InstallHooks() { C.nt_ctx_install_hooks(c.p) }

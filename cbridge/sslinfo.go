package cbridge

/*
#include "sslinfo.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Verify modes for SetVerify.
const (
	VerifyNone             = int(C.SSL_VERIFY_NONE)
	VerifyPeer             = int(C.SSL_VERIFY_PEER)
	VerifyFailIfNoPeerCert = int(C.SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
	VerifyClientOnce       = int(C.SSL_VERIFY_CLIENT_ONCE)
	VerifyPostHandshake    = int(C.SSL_VERIFY_POST_HANDSHAKE)
	X509VerifyOK           = int64(C.X509_V_OK)
	PSKMaxIdentityLen      = int(C.PSK_MAX_IDENTITY_LEN)
	PSKMaxPSKLen           = int(C.PSK_MAX_PSK_LEN)
	NIDAuthPSK             = int(C.NID_auth_psk)
	PKeyDH                 = int(C.EVP_PKEY_DH)
	PKeyEC                 = int(C.EVP_PKEY_EC)
	PKeyX25519             = int(C.EVP_PKEY_X25519)
	PKeyX448               = int(C.EVP_PKEY_X448)
	PKeyRSA                = int(C.EVP_PKEY_RSA)
	maxFinishedLen         = 64
	maxALPNLen             = 255
	sessionIDMaxLen        = int(C.SSL_MAX_SSL_SESSION_ID_LENGTH)
)

func (s *SSL) ok() bool { return s != nil && s.p != nil }

// SetHostName sets the SNI name a client sends.
func (s *SSL) SetHostName(name string) error {
	if !s.ok() {
		return errFreed("SSL_set_tlsext_host_name", "connection")
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	_, _, err := result("SSL_set_tlsext_host_name", C.nt_ssl_set_host_name(s.p, cs))
	return err
}

// SetALPNProtos sets the protocols a client offers, in wire format.
func (s *SSL) SetALPNProtos(wire []byte) error {
	if !s.ok() {
		return errFreed("SSL_set_alpn_protos", "connection")
	}
	_, _, err := result("SSL_set_alpn_protos", C.nt_ssl_set_alpn_protos(s.p, cBytes(wire), C.uint(len(wire))))
	return err
}

// SetVerify sets the verify mode, keeping the accept-always callback.
func (s *SSL) SetVerify(mode int) {
	if s.ok() {
		C.nt_ssl_set_verify(s.p, C.int(mode))
	}
}

// SetSessionDER resumes from a DER session (d2i_SSL_SESSION + SSL_set_session).
func (s *SSL) SetSessionDER(der []byte) error {
	if !s.ok() {
		return errFreed("SSL_set_session", "connection")
	}
	_, _, err := result("d2i_SSL_SESSION", C.nt_ssl_set_session_der(s.p, cBytes(der), C.long(len(der))))
	return err
}

// SetSession resumes from a session object.
func (s *SSL) SetSession(sess *Session) error {
	if !s.ok() || sess == nil || sess.p == nil {
		return errFreed("SSL_set_session", "connection")
	}
	_, _, err := result("SSL_set_session", C.nt_ssl_set_session(s.p, sess.p))
	runtime.KeepAlive(sess)
	return err
}

// Session returns the connection's current session (SSL_get1_session), or nil.
func (s *SSL) Session() *Session {
	if !s.ok() {
		return nil
	}
	return newSession(C.nt_ssl_get1_session(s.p))
}

// SessionFromDER parses a DER session; bytes after the session are an error.
func SessionFromDER(der []byte) (*Session, error) {
	if len(der) == 0 {
		return nil, NewError("d2i_SSL_SESSION", "nodetls", "empty DER session")
	}
	used, p, err := result("d2i_SSL_SESSION", C.nt_session_from_der(cBytes(der), C.long(len(der))))
	if err != nil {
		return nil, err
	}
	s := newSession((*C.SSL_SESSION)(p))
	if int(used) != len(der) {
		s.Free()
		return nil, NewError("d2i_SSL_SESSION", "nodetls", fmt.Sprintf("%d bytes of trailing data after the DER session", len(der)-int(used)))
	}
	return s, nil
}

// DER serialises the session (i2d_SSL_SESSION).
func (s *Session) DER() []byte {
	if s == nil || s.p == nil {
		return nil
	}
	return sessionDER(s.p)
}

// DER serialises a borrowed session.
func (r *SessionRef) DER() []byte {
	if r == nil || r.p == nil {
		return nil
	}
	return sessionDER(r.p)
}

// ID is the borrowed session's id.
func (r *SessionRef) ID() []byte {
	if r == nil || r.p == nil {
		return nil
	}
	return sessionID(r.p)
}

func sessionDER(p *C.SSL_SESSION) []byte {
	n := int(C.nt_session_to_der(p, nil, 0))
	if n <= 0 {
		return nil
	}
	out := make([]byte, n)
	m := int(C.nt_session_to_der(p, cBytes(out), C.int(n)))
	if m != n {
		return nil
	}
	return out
}

func sessionID(p *C.SSL_SESSION) []byte {
	buf := make([]byte, sessionIDMaxLen)
	n := int(C.nt_session_id(p, cBytes(buf), C.int(len(buf))))
	return buf[:n]
}

// ID is the session id.
func (s *Session) ID() []byte {
	if s == nil || s.p == nil {
		return nil
	}
	return sessionID(s.p)
}

// Protocol is the session's protocol version number (0 for a freed session).
func (s *Session) Protocol() int {
	if s == nil || s.p == nil {
		return 0
	}
	return int(C.nt_session_get_protocol(s.p))
}

// Resumable reports SSL_SESSION_is_resumable (false for a freed session).
func (s *Session) Resumable() bool {
	return s != nil && s.p != nil && C.nt_session_is_resumable(s.p) == 1
}

// HasTicket reports SSL_SESSION_has_ticket (false for a freed session).
func (s *Session) HasTicket() bool {
	return s != nil && s.p != nil && C.nt_session_has_ticket(s.p) == 1
}

// TimeoutSeconds is SSL_SESSION_get_timeout (0 for a freed session).
func (s *Session) TimeoutSeconds() int64 {
	if s == nil || s.p == nil {
		return 0
	}
	return int64(C.nt_session_get_timeout(s.p))
}

// Cipher returns the negotiated cipher; ok is false before the handshake.
func (s *SSL) Cipher() (CipherInfo, bool) {
	if !s.ok() {
		return CipherInfo{}, false
	}
	ci := C.nt_ssl_cipher(s.p)
	if ci.name == nil {
		return CipherInfo{}, false
	}
	out := CipherInfo{Name: C.GoString(ci.name), Version: C.GoString(ci.version), Bits: int(ci.bits), ID: uint32(ci.id), AuthNID: int(ci.auth_nid)}
	if ci.standard_name != nil {
		out.StandardName = C.GoString(ci.standard_name)
	}
	return out, true
}

// Version is SSL_get_version ("TLSv1.3").
func (s *SSL) Version() string {
	if !s.ok() {
		return ""
	}
	return C.GoString(C.nt_ssl_version(s.p))
}

// VersionNumber is SSL_version.
func (s *SSL) VersionNumber() int {
	if !s.ok() {
		return 0
	}
	return int(C.nt_ssl_version_num(s.p))
}

// ALPNSelected is the negotiated protocol, "" if none.
func (s *SSL) ALPNSelected() string {
	if !s.ok() {
		return ""
	}
	var buf [maxALPNLen]byte
	n := int(C.nt_ssl_alpn_selected(s.p, (*C.uchar)(&buf[0]), C.int(len(buf))))
	return string(buf[:n])
}

// ServerName is SSL_get_servername, "" if none.
func (s *SSL) ServerName() string {
	if !s.ok() {
		return ""
	}
	p := C.nt_ssl_servername(s.p)
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// Finished returns our (peer=false) or the peer's Finished message.
func (s *SSL) Finished(peer bool) []byte {
	if !s.ok() {
		return nil
	}
	var buf [maxFinishedLen]byte
	p := C.int(0)
	if peer {
		p = 1
	}
	n := int(C.nt_ssl_finished(s.p, p, (*C.uchar)(&buf[0]), C.int(len(buf))))
	if n <= 0 {
		return nil
	}
	if n > len(buf) {
		n = len(buf)
	}
	return append([]byte(nil), buf[:n]...)
}

// ExportKeyingMaterial is RFC 5705 / RFC 8446 exporter (SSL_export_keying_material).
func (s *SSL) ExportKeyingMaterial(length int, label string, context []byte, useContext bool) ([]byte, error) {
	if !s.ok() {
		return nil, errFreed("SSL_export_keying_material", "connection")
	}
	out := make([]byte, length)
	lb := []byte(label)
	uc := C.int(0)
	if useContext {
		uc = 1
	}
	var lp *C.char
	if len(lb) > 0 {
		lp = (*C.char)(unsafe.Pointer(&lb[0]))
	}
	_, _, err := result("SSL_export_keying_material", C.nt_ssl_export_keying_material(s.p, cBytes(out), C.size_t(length),
		lp, C.size_t(len(lb)), cBytes(context), C.size_t(len(context)), uc))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TmpKeyInfo describes the peer's ephemeral key.
type TmpKeyInfo struct {
	Type int    // PKeyDH, PKeyEC, PKeyX25519, PKeyX448, or 0 when none
	Name string // curve short name ("prime256v1", "X25519"); "" for DH
	Bits int
}

// PeerTmpKey reports the peer's ephemeral key (SSL_get_peer_tmp_key).
func (s *SSL) PeerTmpKey() TmpKeyInfo {
	if !s.ok() {
		return TmpKeyInfo{}
	}
	k := C.nt_ssl_peer_tmp_key(s.p)
	info := TmpKeyInfo{Type: int(k.id), Bits: int(k.bits)}
	if k.id != 0 && k.id != C.EVP_PKEY_DH && k.nid != 0 {
		if sn := C.nt_nid_sn(k.nid); sn != nil {
			info.Name = C.GoString(sn)
		}
	}
	return info
}

// SharedSigalg is one shared signature algorithm.
type SharedSigalg struct{ SignNID, HashNID, SigNID int }

// SharedSigalgs lists SSL_get_shared_sigalgs.
func (s *SSL) SharedSigalgs() []SharedSigalg {
	if !s.ok() {
		return nil
	}
	var sign, hash, sig C.int
	n := int(C.nt_ssl_shared_sigalg(s.p, 0, nil, nil, nil))
	out := make([]SharedSigalg, 0, n)
	for i := 0; i < n; i++ {
		C.nt_ssl_shared_sigalg(s.p, C.int(i), &sign, &hash, &sig)
		out = append(out, SharedSigalg{int(sign), int(hash), int(sig)})
	}
	return out
}

// NIDShortName is OBJ_nid2sn ("" for NID_undef).
func NIDShortName(nid int) string {
	p := C.nt_nid_sn(C.int(nid))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// SetMaxSendFragment is SSL_set_max_send_fragment; false outside 512..16384.
func (s *SSL) SetMaxSendFragment(n int) bool {
	if !s.ok() {
		return false
	}
	return C.nt_ssl_set_max_send_fragment(s.p, C.long(n)) == 1
}

// Ticket returns the session ticket the client received, nil if none.
func (s *SSL) Ticket() []byte {
	if !s.ok() {
		return nil
	}
	n := int(C.nt_ssl_ticket(s.p, nil, 0))
	if n <= 0 {
		return nil
	}
	out := make([]byte, n)
	C.nt_ssl_ticket(s.p, cBytes(out), C.int(n))
	return out
}

// UsePSKIdentityHint sets the server's PSK identity hint.
func (s *SSL) UsePSKIdentityHint(hint string) error {
	if !s.ok() {
		return errFreed("SSL_use_psk_identity_hint", "connection")
	}
	cs, err := cStringNoNUL("SSL_use_psk_identity_hint", hint)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	_, _, err = result("SSL_use_psk_identity_hint", C.nt_ssl_use_psk_identity_hint(s.p, cs))
	return err
}

// RequestOCSP makes a client ask for a stapled OCSP response.
func (s *SSL) RequestOCSP() {
	if s.ok() {
		C.nt_ssl_request_ocsp(s.p)
	}
}

// EnableTrace writes OpenSSL's protocol trace (SSL_trace) to stderr.
func (s *SSL) EnableTrace() {
	if s.ok() {
		C.nt_ssl_enable_trace(s.p)
	}
}

// HaveSSLTrace reports whether the linked OpenSSL was built with SSL_trace.
func HaveSSLTrace() bool { return C.nt_have_ssl_trace() == 1 }

// PeerCertificate returns the peer's certificate (SSL_get1_peer_certificate), or nil.
func (s *SSL) PeerCertificate() *X509 {
	if !s.ok() {
		return nil
	}
	return newX509(C.nt_ssl_get1_peer_cert(s.p))
}

// Certificate returns the local certificate in use, or nil.
func (s *SSL) Certificate() *X509 {
	if !s.ok() {
		return nil
	}
	return newX509(C.nt_ssl_get1_cert(s.p))
}

// PeerChain returns the chain the peer sent (SSL_get_peer_cert_chain; on a
// server it does not include the peer's own certificate).
func (s *SSL) PeerChain() []*X509 {
	if !s.ok() {
		return nil
	}
	n := int(C.nt_ssl_peer_chain_len(s.p))
	out := make([]*X509, 0, n)
	for i := 0; i < n; i++ {
		if x := newX509(C.nt_ssl_get1_peer_chain_cert(s.p, C.int(i))); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// FindIssuer looks x's issuer up in the connection's trust store, or nil.
func (s *SSL) FindIssuer(x *X509) *X509 {
	if !s.ok() || x == nil || x.p == nil {
		return nil
	}
	r := newX509(C.nt_ssl_find_issuer(s.p, x.p))
	runtime.KeepAlive(x)
	return r
}

// CheckIssued reports whether issuer issued subject (X509_check_issued).
func CheckIssued(issuer, subject *X509) bool {
	if issuer == nil || subject == nil || issuer.p == nil || subject.p == nil {
		return false
	}
	ok := C.nt_x509_check_issued(issuer.p, subject.p) == 1
	runtime.KeepAlive(issuer)
	runtime.KeepAlive(subject)
	return ok
}

// NamesIssuer reports whether issuer's subject is subject's issuer name
// (X509_NAME_cmp), whatever the keys and extensions say.
func NamesIssuer(issuer, subject *X509) bool {
	if issuer == nil || subject == nil || issuer.p == nil || subject.p == nil {
		return false
	}
	ok := C.nt_x509_names_issuer(issuer.p, subject.p) == 1
	runtime.KeepAlive(issuer)
	runtime.KeepAlive(subject)
	return ok
}

// VerifyResult is SSL_get_verify_result.
func (s *SSL) VerifyResult() int64 {
	if !s.ok() {
		return -1
	}
	return int64(C.nt_ssl_verify_result(s.p))
}

// VerifyErrorString is X509_verify_cert_error_string.
func VerifyErrorString(code int64) string { return C.GoString(C.nt_verify_error_string(C.long(code))) }

// SessionReused is SSL_session_reused.
func (s *SSL) SessionReused() bool { return s.ok() && C.nt_ssl_session_reused(s.p) == 1 }

// RenegotiatePending is SSL_renegotiate_pending.
func (s *SSL) RenegotiatePending() bool { return s.ok() && C.nt_ssl_renegotiate_pending(s.p) == 1 }

// SetSSLCtx switches the connection to another context (SSL_set_SSL_CTX).
func (s *SSL) SetSSLCtx(ctx *SSLCtx) error {
	if !s.ok() || ctx == nil || ctx.p == nil {
		return errFreed("SSL_set_SSL_CTX", "connection")
	}
	_, _, err := result("SSL_set_SSL_CTX", C.nt_ssl_set_ssl_ctx(s.p, ctx.p))
	runtime.KeepAlive(ctx)
	return err
}

// UseCertificateAndKey replaces the connection's certificate and key.
func (s *SSL) UseCertificateAndKey(cert *X509, key *PKey) error {
	if !s.ok() {
		return errFreed("SSL_use_certificate", "connection")
	}
	var cp *C.X509
	var kp *C.EVP_PKEY
	if cert != nil {
		cp = cert.p
	}
	if key != nil {
		kp = key.p
	}
	_, _, err := result("SSL_use_certificate", C.nt_ssl_use_cert_key(s.p, cp, kp))
	runtime.KeepAlive(cert)
	runtime.KeepAlive(key)
	return err
}

// AddChainCert adds a certificate to the connection's chain.
func (s *SSL) AddChainCert(x *X509) error {
	if !s.ok() || x == nil || x.p == nil {
		return errFreed("SSL_add1_chain_cert", "connection")
	}
	_, _, err := result("SSL_add1_chain_cert", C.nt_ssl_add1_chain_cert(s.p, x.p))
	runtime.KeepAlive(x)
	return err
}

// SetOptions sets and clears SSL_OP_* bits on this connection.
func (s *SSL) SetOptions(set, clear uint64) {
	if s.ok() {
		C.nt_ssl_set_options(s.p, C.uint64_t(set), C.uint64_t(clear))
	}
}

// Options returns the connection's SSL_OP_* bits.
func (s *SSL) Options() uint64 {
	if !s.ok() {
		return 0
	}
	return uint64(C.nt_ssl_get_options(s.p))
}

// Ref returns a new, independently owned reference to the same session.
func (s *Session) Ref() *Session {
	if s == nil || s.p == nil {
		return nil
	}
	C.SSL_SESSION_up_ref(s.p)
	return newSession(s.p)
}

// SameX509 reports whether two handles hold the same certificate object.
func SameX509(a, b *X509) bool { return a != nil && b != nil && a.p == b.p }

// IsCA reports X509_check_ca(x) >= 1.
func (x *X509) IsCA() bool {
	if x == nil || x.p == nil {
		return false
	}
	r := C.nt_x509_check_ca(x.p) >= 1
	runtime.KeepAlive(x)
	return r
}

// UseContextCAs gives the connection the trust store and client CA names of
// ctx, keeping its own context.
func (s *SSL) UseContextCAs(ctx *SSLCtx) error {
	if !s.ok() || ctx == nil || ctx.p == nil {
		return errFreed("SSL_set1_verify_cert_store", "connection")
	}
	_, _, err := result("SSL_set1_verify_cert_store", C.nt_ssl_use_ctx_cas(s.p, ctx.p))
	runtime.KeepAlive(ctx)
	return err
}

// UseContextCertificate copies the certificate, key and chain of ctx into
// the connection.
func (s *SSL) UseContextCertificate(ctx *SSLCtx) error {
	if !s.ok() || ctx == nil || ctx.p == nil {
		return errFreed("SSL_use_certificate", "connection")
	}
	_, _, err := result("SSL_use_certificate", C.nt_ssl_use_ctx_cert(s.p, ctx.p))
	runtime.KeepAlive(ctx)
	return err
}

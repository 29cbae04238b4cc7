package openssl

import (
	"context"
	"errors"
	"net"

	"github.com/nodetls/nodetls/cbridge"
)

// ErrHandshakeIncomplete is returned by calls that need a finished handshake.
var ErrHandshakeIncomplete = errors.New("openssl: the TLS handshake has not completed")

// withSSL runs f under the connection's lock with the live SSL, or returns
// net.ErrClosed.
func (c *Conn) withSSL(f func(s *cbridge.SSL) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ssl == nil {
		return net.ErrClosed
	}
	return f(c.ssl)
}

// HandshakeComplete reports whether the first handshake finished successfully.
func (c *Conn) HandshakeComplete() bool { return c.hsDone.Load() && c.hsErr == nil }

// CipherInfo names a negotiated cipher as OpenSSL does.
type CipherInfo struct {
	Name         string // "ECDHE-RSA-AES128-GCM-SHA256"
	StandardName string // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	Version      string // the cipher's minimum protocol version: "TLSv1.2", "TLSv1.3", "SSLv3"
	Bits         int
	ID           uint32
	AuthPSK      bool // the suite authenticates with a PSK
}

// Cipher returns the negotiated cipher; ok is false before the handshake.
func (c *Conn) Cipher() (info CipherInfo, ok bool) {
	_ = c.withSSL(func(s *cbridge.SSL) error {
		var ci cbridge.CipherInfo
		ci, ok = s.Cipher()
		info = CipherInfo{Name: ci.Name, StandardName: ci.StandardName, Version: ci.Version, Bits: ci.Bits, ID: ci.ID,
			AuthPSK: ci.AuthNID == cbridge.NIDAuthPSK}
		return nil
	})
	return info, ok
}

// Version is the protocol version name (SSL_get_version: "TLSv1.3", ...); ""
// once the connection is closed.
func (c *Conn) Version() string {
	var v string
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.Version(); return nil })
	return v
}

// ProtocolVersion is the negotiated protocol version number.
func (c *Conn) ProtocolVersion() ProtocolVersion {
	var v int
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.VersionNumber(); return nil })
	return ProtocolVersion(v)
}

// ALPNProtocol is the negotiated application protocol, "" if none.
func (c *Conn) ALPNProtocol() string {
	var v string
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.ALPNSelected(); return nil })
	return v
}

// ServerName is the SNI name: what a client asked for, or what a server received.
func (c *Conn) ServerName() string {
	var v string
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.ServerName(); return nil })
	return v
}

// Context returns the context in use (after an SNI switch, the new one).
func (c *Conn) Context() *Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.curCtx
}

// PeerCertificate returns the peer's certificate, or nil if it sent none.
func (c *Conn) PeerCertificate() *Certificate {
	var x *cbridge.X509
	_ = c.withSSL(func(s *cbridge.SSL) error { x = s.PeerCertificate(); return nil })
	if x == nil {
		return nil
	}
	return &Certificate{x: x}
}

// LocalCertificate returns the certificate this side presented, or nil.
func (c *Conn) LocalCertificate() *Certificate {
	var x *cbridge.X509
	_ = c.withSSL(func(s *cbridge.SSL) error { x = s.Certificate(); return nil })
	if x == nil {
		return nil
	}
	return &Certificate{x: x}
}

// PeerCertificateChain returns the peer's certificate followed by its issuers:
// first from what the peer sent (matched with X509_check_issued), then from the
// connection's trust store, ending at a self-issued certificate or where no
// issuer is known. The caller frees the certificates.
func (c *Conn) PeerCertificateChain() []*Certificate {
	var out []*Certificate
	_ = c.withSSL(func(s *cbridge.SSL) error {
		leaf := s.PeerCertificate()
		if leaf == nil {
			return nil
		}
		sent := s.PeerChain()
		defer func() {
			for _, x := range sent {
				x.Free()
			}
		}()
		chain := []*cbridge.X509{leaf}
		cur := leaf
		for len(chain) < 16 {
			if cbridge.CheckIssued(cur, cur) {
				break // self-issued: the end
			}
			var next *cbridge.X509
			for _, x := range sent {
				if cbridge.CheckIssued(x, cur) && !containsX509(chain, x) {
					next = x.Ref()
					break
				}
			}
			if next == nil {
				next = s.FindIssuer(cur)
			}
			if next == nil {
				break
			}
			chain = append(chain, next)
			cur = next
		}
		for _, x := range chain {
			out = append(out, &Certificate{x: x})
		}
		return nil
	})
	return out
}

func containsX509(list []*cbridge.X509, x *cbridge.X509) bool {
	for _, y := range list {
		if cbridge.SameX509(x, y) {
			return true
		}
	}
	return false
}

// VerifyResult is the chain verification result (SSL_get_verify_result): 0 is
// X509_V_OK, others are X509_V_ERR_* codes; see VerifyCodeName and
// VerifyErrorString. The handshake never fails on it (the verify callback
// accepts every chain); with verification going on past the first error, it
// is the last error found. A server that got no client certificate reports
// X509_V_OK.
func (c *Conn) VerifyResult() int64 {
	v := int64(-1)
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.VerifyResult(); return nil })
	return v
}

// VerifyErrorString is OpenSSL's text for a verify result code.
func VerifyErrorString(code int64) string { return cbridge.VerifyErrorString(code) }

// Session returns the connection's current session (SSL_get1_session), or
// nil; the caller frees it. On TLS 1.2 it is the session to resume with once
// the handshake is done. On a TLS 1.3 client it is not resumable until a
// ticket has arrived (tickets come after the handshake and are processed by
// Read); it is then the session of the latest ticket. ConnConfig.OnNewSession
// delivers every ticket as it arrives.
func (c *Conn) Session() *Session {
	var sess *cbridge.Session
	_ = c.withSSL(func(s *cbridge.SSL) error { sess = s.Session(); return nil })
	return newSessionFrom(sess)
}

// SetSession sets a client session to resume; call it before the handshake.
// The connection takes its own reference: the caller still owns sess.
func (c *Conn) SetSession(sess *Session) error {
	if sess == nil {
		return errors.New("openssl: nil session")
	}
	return c.withSSL(func(s *cbridge.SSL) error { return sess.use("SSL_set_session", s.SetSession) })
}

// SessionReused reports whether the handshake resumed a session (or, on TLS
// 1.3, used a PSK).
func (c *Conn) SessionReused() bool {
	var v bool
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.SessionReused(); return nil })
	return v
}

// Ticket is the raw ticket of the client's current session (the latest one
// received), nil if none and always nil on a server.
func (c *Conn) Ticket() []byte {
	var v []byte
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.Ticket(); return nil })
	return v
}

// Finished is the Finished message this side sent; nil before the handshake.
func (c *Conn) Finished() []byte {
	var v []byte
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.Finished(false); return nil })
	return v
}

// PeerFinished is the Finished message the peer sent; nil before the handshake.
func (c *Conn) PeerFinished() []byte {
	var v []byte
	_ = c.withSSL(func(s *cbridge.SSL) error { v = s.Finished(true); return nil })
	return v
}

// ExportKeyingMaterial derives keying material (RFC 5705, RFC 8446 §7.5).
// useContext distinguishes "no context" from an empty one.
func (c *Conn) ExportKeyingMaterial(length int, label string, ctx []byte, useContext bool) ([]byte, error) {
	if !c.HandshakeComplete() {
		return nil, ErrHandshakeIncomplete
	}
	if length <= 0 {
		return nil, errors.New("openssl: keying material length must be positive")
	}
	var out []byte
	err := c.withSSL(func(s *cbridge.SSL) error {
		var err error
		out, err = s.ExportKeyingMaterial(length, label, ctx, useContext)
		return err
	})
	return out, err
}

// EphemeralKey describes the peer's ephemeral key exchange key.
type EphemeralKey struct {
	Kind string // "DH", "ECDH", or "" when the exchange had none (e.g. RSA key exchange)
	Name string // curve or group name for ECDH ("prime256v1", "X25519")
	Bits int
}

// PeerEphemeralKey reports the peer's ephemeral key (SSL_get_peer_tmp_key).
func (c *Conn) PeerEphemeralKey() EphemeralKey {
	var k cbridge.TmpKeyInfo
	_ = c.withSSL(func(s *cbridge.SSL) error { k = s.PeerTmpKey(); return nil })
	switch k.Type {
	case cbridge.PKeyDH:
		return EphemeralKey{Kind: "DH", Bits: k.Bits}
	case cbridge.PKeyEC, cbridge.PKeyX25519, cbridge.PKeyX448:
		return EphemeralKey{Kind: "ECDH", Name: k.Name, Bits: k.Bits}
	}
	return EphemeralKey{}
}

// SigAlg is a shared signature algorithm.
type SigAlg struct {
	SignNID, HashNID int
	Sign, Hash       string // OpenSSL short names; "UNDEF" for none
}

// SharedSigalgs lists the signature algorithms both sides support.
func (c *Conn) SharedSigalgs() []SigAlg {
	var raw []cbridge.SharedSigalg
	_ = c.withSSL(func(s *cbridge.SSL) error { raw = s.SharedSigalgs(); return nil })
	out := make([]SigAlg, len(raw))
	for i, r := range raw {
		out[i] = SigAlg{SignNID: r.SignNID, HashNID: r.HashNID, Sign: cbridge.NIDShortName(r.SignNID), Hash: cbridge.NIDShortName(r.HashNID)}
	}
	return out
}

// SetMaxSendFragment limits the plaintext per record (512..16384); it reports
// false for a size OpenSSL refuses.
func (c *Conn) SetMaxSendFragment(n int) bool {
	ok := false
	_ = c.withSSL(func(s *cbridge.SSL) error {
		ok = s.SetMaxSendFragment(n)
		if ok {
			c.maxFrag = n
		}
		return nil
	})
	return ok
}

// UseCertificate replaces the certificate and key this connection presents
// (SSL_use_certificate / SSL_use_PrivateKey), with optional chain certificates.
func (c *Conn) UseCertificate(cert *Certificate, key *PrivateKey, chain []*Certificate) error {
	return c.withSSL(func(s *cbridge.SSL) error {
		var x *cbridge.X509
		var k *cbridge.PKey
		if cert != nil {
			x = cert.x
		}
		if key != nil {
			k = key.k
		}
		if err := s.UseCertificateAndKey(x, k); err != nil {
			return err
		}
		for _, ch := range chain {
			if err := s.AddChainCert(ch.x); err != nil {
				return err
			}
		}
		return nil
	})
}

// DisableRenegotiation refuses every later renegotiation (SSL_OP_NO_RENEGOTIATION).
func (c *Conn) DisableRenegotiation() {
	_ = c.withSSL(func(s *cbridge.SSL) error { s.SetOptions(OpNoRenegotiation, 0); return nil })
}

// HandshakeCount is how many handshakes have finished (renegotiations
// included). As in Node, a handshake end reported while a renegotiation is
// still pending (a server's HelloRequest) is not counted; a renegotiation the
// peer or this side refused is (OpenSSL reports it as a start and an end).
func (c *Conn) HandshakeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.dones)
}

// Renegotiate starts a TLS 1.2 renegotiation (SSL_renegotiate + the first
// handshake step). It returns once the first message is sent; the rest of the
// handshake runs inside later Reads and Writes (a Write that meets it reads
// the peer's messages, keeping any application data for Read), and
// OnHandshakeDone reports its end. On TLS 1.3 it fails with OpenSSL's "wrong
// ssl version". A server refuses a client's renegotiation (OpenSSL 3's
// default) unless its context has OpAllowClientRenegotiation; the client then
// fails with "no renegotiation".
func (c *Conn) Renegotiate() error {
	return c.controlStep(cbridge.OpRenegotiate)
}

// KeyUpdate sends a TLS 1.3 KeyUpdate that also asks the peer to update.
func (c *Conn) KeyUpdate() error {
	return c.controlStep(cbridge.OpKeyUpdate)
}

func (c *Conn) controlStep(op int) error {
	if err := c.Handshake(context.Background()); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed || c.ssl == nil {
		c.mu.Unlock()
		return net.ErrClosed
	}
	// The operation only has to send its message; the step leaves received
	// records for Read (nt_conn_step reads nothing for these operations):
	// SSL_do_handshake would treat application data in them as an
	// unexpected record.
	st := c.stepLocked(op, nil, controlRoom)
	var err error
	if st.Ret != 1 && st.SSLError != cbridge.ErrWantRead {
		err = c.stepError(st)
	}
	c.unlockAndReport()
	if ferr := c.flush(); err == nil {
		err = ferr
	}
	return err
}

// SetVerifyMode changes whether a server asks for (request) and insists on
// (require) a client certificate, for the next handshake.
func (c *Conn) SetVerifyMode(request, require bool) {
	_ = c.withSSL(func(s *cbridge.SSL) error {
		mode := cbridge.VerifyNone
		if request || require {
			mode = cbridge.VerifyPeer
			if require {
				mode |= cbridge.VerifyFailIfNoPeerCert
			}
		}
		s.SetVerify(mode)
		return nil
	})
}

// UseContextCertificate makes the connection present the certificate, key
// and chain of ctx from now on (Node's setKeyCert / UseSNIContext).
func (c *Conn) UseContextCertificate(ctx *Context) error {
	if ctx == nil {
		return errors.New("openssl: nil context")
	}
	return ctx.with("SSL_use_certificate", func(h *cbridge.SSLCtx) error {
		return c.withSSL(func(s *cbridge.SSL) error { return s.UseContextCertificate(h) })
	})
}

// EnableTrace writes OpenSSL's protocol trace (SSL_trace) to stderr from now
// on; it reports false where the linked OpenSSL has no SSL_trace.
func (c *Conn) EnableTrace() bool {
	if !cbridge.HaveSSLTrace() {
		return false
	}
	_ = c.withSSL(func(s *cbridge.SSL) error { s.EnableTrace(); return nil })
	return true
}

// UseContextCertificateFromCallback is UseContextCertificate for code that
// runs inside one of this connection's ConnConfig callbacks (an ALPN or SNI
// choice), where the handshake step running the callback already holds the
// connection.
func (c *Conn) UseContextCertificateFromCallback(ctx *Context) error {
	if ctx == nil {
		return errors.New("openssl: nil context")
	}
	if c.ssl == nil {
		return net.ErrClosed
	}
	return ctx.with("SSL_use_certificate", func(h *cbridge.SSLCtx) error { return c.ssl.UseContextCertificate(h) })
}

// UseContextCAsFromCallback gives the connection the trust store (used to
// verify the peer) and client CA names of ctx, keeping its own context, from
// inside one of its ConnConfig callbacks (an SNI choice, as Node's
// SetCACerts).
func (c *Conn) UseContextCAsFromCallback(ctx *Context) error {
	if ctx == nil {
		return errors.New("openssl: nil context")
	}
	if c.ssl == nil {
		return net.ErrClosed
	}
	return ctx.with("SSL_set1_verify_cert_store", func(h *cbridge.SSLCtx) error { return c.ssl.UseContextCAs(h) })
}

// ResumingFromCallback reports, from inside one of the connection's
// ConnConfig callbacks, whether the handshake resumes a session; OpenSSL
// knows it once the ClientHello's session or PSK was accepted (by the time of
// ServerNameCallback, not yet at OnClientHello).
func (c *Conn) ResumingFromCallback() bool {
	return c.ssl != nil && c.ssl.SessionReused()
}

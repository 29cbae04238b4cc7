package openssl

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// ContextOptions configure a Context. The zero value of every field leaves
// OpenSSL's default (and the system configuration's) in place.
//
// NewContext applies the options in this order, because OpenSSL checks what is
// loaded against what was set before it:
//
//  1. ClearOptions, Options, ClearMode, Mode, MinVersion, MaxVersion;
//  2. CipherList, Ciphersuites, then SecurityLevel (an "@SECLEVEL=n" in the
//     cipher list sets the level, and an explicit SecurityLevel overrides it);
//  3. Groups, Sigalgs, DHParams / DH (DH strength is checked against the level);
//  4. trust: CA or SystemCA, CRL, PartialChain, VerifyDepth;
//  5. KeyPairs in order, then PFX in order (certificates and keys are checked
//     against the security level; PFX extra certificates join the trust store
//     made in step 4);
//  6. SessionIDContext, SessionTimeout, SessionCacheMode.
type ContextOptions struct {
	// MinVersion and MaxVersion bound the protocol (SSL_CTX_set_min/max_proto_version);
	// 0 leaves OpenSSL's bound.
	MinVersion, MaxVersion ProtocolVersion

	// Options are SSL_OP_* bits (OpNoTicket, OpCipherServerPreference, ...)
	// added to OpenSSL's defaults; ClearOptions are removed first.
	Options, ClearOptions uint64
	// Mode are SSL_MODE_* bits added; ClearMode are removed first.
	Mode, ClearMode int64

	// CipherList is the TLS 1.2-and-below cipher string (SSL_CTX_set_cipher_list);
	// nil keeps OpenSSL's default. A string matching no TLS 1.2 cipher is an
	// error ("no cipher match").
	CipherList *string
	// Ciphersuites is the TLS 1.3 suite list (SSL_CTX_set_ciphersuites); nil
	// keeps OpenSSL's default, "" disables TLS 1.3 suites.
	Ciphersuites *string
	// SecurityLevel (0 to 5) overrides the level after the cipher list; nil
	// keeps the level (OpenSSL's default, or the cipher list's @SECLEVEL).
	SecurityLevel *int

	// Groups is the key exchange group list ("X25519:P-256"); "" or "auto"
	// keeps OpenSSL's default.
	Groups string
	// Sigalgs is the signature algorithm list ("ECDSA+SHA256:RSA-PSS+SHA256");
	// "" keeps OpenSSL's default.
	Sigalgs string
	// DHParams is "auto" (SSL_CTX_set_dh_auto) or PEM DH parameters; empty
	// means none (DHE suites cannot be used). DH, when set, is used instead.
	DHParams []byte
	DH       *DHParams

	// CA, when not empty, replaces the trust store with these PEM certificates
	// (several blocks allowed), which also become the client CA list.
	CA []byte
	// SystemCA adds OpenSSL's default verify paths (SSL_CTX_set_default_verify_paths)
	// to the trust store.
	SystemCA bool
	// CRL holds PEM CRLs; they join the trust store and turn on CRL checking
	// for the whole chain (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL).
	CRL []byte
	// PartialChain lets a trusted intermediate end a chain (X509_V_FLAG_PARTIAL_CHAIN).
	PartialChain bool
	// VerifyDepth limits the verified chain length; 0 keeps OpenSSL's default.
	VerifyDepth int

	// KeyPairs are certificate chains with their keys. OpenSSL keeps one pair
	// per key type, so an RSA and an ECDSA pair can serve side by side; a later
	// pair of the same type replaces an earlier one.
	KeyPairs []KeyPair
	// PFX are PKCS#12 files, each loaded as a key pair whose extra
	// certificates also join the trust store and the client CA list.
	PFX []PFXData

	// SessionIDContext is SSL_CTX_set_session_id_context (at most 32 bytes);
	// nil leaves it unset.
	SessionIDContext []byte
	// SessionTimeout is the session lifetime, in whole seconds; 0 keeps
	// OpenSSL's default, which for TLS_method in OpenSSL 3.0 is 7200 s
	// (tls1_default_timeout; the man page's 300 s is out of date).
	SessionTimeout time.Duration
	// SessionCacheMode sets SSL_SESS_CACHE_* bits; nil keeps OpenSSL's
	// default (SessCacheServer).
	SessionCacheMode *SessionCacheMode
}

// KeyPair is one certificate chain with its private key, either as PEM or as
// parsed objects (PEM is used when CertPEM is not empty).
type KeyPair struct {
	// CertPEM holds the leaf certificate first, then its chain.
	CertPEM []byte
	// KeyPEM holds the private key, encrypted or not.
	KeyPEM []byte
	// Passphrase decrypts KeyPEM.
	Passphrase string

	// Certs is the parsed chain, leaf first; the caller keeps ownership.
	Certs []*Certificate
	// Key is the parsed private key; the caller keeps ownership.
	Key *PrivateKey
}

// PFXData is a DER PKCS#12 file and the passphrase that opens it.
type PFXData struct {
	Data       []byte
	Passphrase string
}

// Context is an OpenSSL SSL_CTX: the configuration shared by connections.
// Build it with NewContext, adjust it with the Set methods before the first
// connection uses it, and Close it when done; connections made from it keep
// their own reference, so Close never cuts a running connection. The methods
// are safe for concurrent use, but changing a context while connections are
// being made from it gives those connections an unspecified mix.
type Context struct {
	mu  sync.Mutex
	ctx *cbridge.SSLCtx // nil after Close
}

// NewContext makes an SSL_CTX (TLS_method) and applies opts in the order that
// ContextOptions documents. On error nothing is left allocated.
func NewContext(opts ContextOptions) (*Context, error) {
	h, err := cbridge.NewSSLCtx()
	if err != nil {
		return nil, err
	}
	c := &Context{ctx: h}
	if err := c.apply(&opts); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Context) apply(o *ContextOptions) error {
	// 1. Options, modes and protocol bounds.
	if o.ClearOptions != 0 {
		c.ClearOptions(o.ClearOptions)
	}
	if o.Options != 0 {
		c.SetOptions(o.Options)
	}
	if o.ClearMode != 0 {
		c.ClearMode(o.ClearMode)
	}
	if o.Mode != 0 {
		c.SetMode(o.Mode)
	}
	if o.MinVersion != 0 {
		if err := c.SetMinVersion(o.MinVersion); err != nil {
			return err
		}
	}
	if o.MaxVersion != 0 {
		if err := c.SetMaxVersion(o.MaxVersion); err != nil {
			return err
		}
	}

	// 2. Ciphers and the security level, before anything the level judges.
	if o.CipherList != nil {
		if err := c.SetCipherList(*o.CipherList); err != nil {
			return err
		}
	}
	if o.Ciphersuites != nil {
		if err := c.SetCiphersuites(*o.Ciphersuites); err != nil {
			return err
		}
	}
	if o.SecurityLevel != nil {
		if err := c.SetSecurityLevel(*o.SecurityLevel); err != nil {
			return err
		}
	}

	// 3. Key exchange and signatures.
	if o.Groups != "" {
		if err := c.SetGroups(o.Groups); err != nil {
			return err
		}
	}
	if o.Sigalgs != "" {
		if err := c.SetSigalgs(o.Sigalgs); err != nil {
			return err
		}
	}
	switch {
	case o.DH != nil:
		if err := c.SetDHParams(o.DH); err != nil {
			return err
		}
	case string(o.DHParams) == "auto":
		if err := c.SetDHAuto(); err != nil {
			return err
		}
	case len(o.DHParams) > 0:
		if err := c.SetDHParamsPEM(o.DHParams); err != nil {
			return err
		}
	}

	// 4. Trust.
	if len(o.CA) > 0 {
		if err := c.SetCA(o.CA); err != nil {
			return err
		}
	}
	if o.SystemCA {
		if err := c.UseSystemCA(); err != nil {
			return err
		}
	}
	if len(o.CRL) > 0 {
		if err := c.AddCRLs(o.CRL); err != nil {
			return err
		}
	}
	if o.PartialChain {
		if err := c.SetPartialChain(true); err != nil {
			return err
		}
	}
	if o.VerifyDepth != 0 {
		if err := c.SetVerifyDepth(o.VerifyDepth); err != nil {
			return err
		}
	}

	// 5. Certificates and keys.
	for i, kp := range o.KeyPairs {
		if err := c.AddKeyPair(kp); err != nil {
			return fmt.Errorf("openssl: key pair %d: %w", i, err)
		}
	}
	for i, p := range o.PFX {
		if err := c.LoadPFX(p.Data, p.Passphrase); err != nil {
			return fmt.Errorf("openssl: PFX %d: %w", i, err)
		}
	}

	// 6. Sessions.
	if o.SessionIDContext != nil {
		if err := c.SetSessionIDContext(o.SessionIDContext); err != nil {
			return err
		}
	}
	if o.SessionTimeout != 0 {
		if err := c.SetSessionTimeout(o.SessionTimeout); err != nil {
			return err
		}
	}
	if o.SessionCacheMode != nil {
		if err := c.SetSessionCacheMode(*o.SessionCacheMode); err != nil {
			return err
		}
	}
	return nil
}

// errClosed is the error of a method called after Close.
func errClosed(op string) error {
	return cbridge.NewError(op, "nodetls", "context is closed")
}

// with runs f on the live handle under the lock, or fails after Close.
func (c *Context) with(op string, f func(h *cbridge.SSLCtx) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return errClosed(op)
	}
	return f(c.ctx)
}

// read runs f on the live handle under the lock; it reports false after Close.
func (c *Context) read(f func(h *cbridge.SSLCtx)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return false
	}
	f(c.ctx)
	return true
}

// Close drops this Context's reference to the SSL_CTX. Connections already
// made from it keep theirs. Close is idempotent.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ctx.Free()
	c.ctx = nil
	return nil
}

// Handle is the cbridge handle, for the connection engine; nil after Close.
// The handle stays owned by the Context: take a Ref to keep it longer.
func (c *Context) Handle() *cbridge.SSLCtx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctx
}

// validVersion accepts 0 ("no bound") and the versions OpenSSL speaks over TLS.
func validVersion(op string, v ProtocolVersion) error {
	switch v {
	case 0, SSL3, TLS1, TLS1_1, TLS1_2, TLS1_3:
		return nil
	}
	return cbridge.NewError(op, "nodetls", fmt.Sprintf("unknown protocol version 0x%04x", int(v)))
}

// SetMinVersion sets the lowest protocol version (0 = OpenSSL's lowest).
func (c *Context) SetMinVersion(v ProtocolVersion) error {
	const op = "SSL_CTX_set_min_proto_version"
	if err := validVersion(op, v); err != nil {
		return err
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.SetMinProtoVersion(int(v)) })
}

// SetMaxVersion sets the highest protocol version (0 = OpenSSL's highest).
func (c *Context) SetMaxVersion(v ProtocolVersion) error {
	const op = "SSL_CTX_set_max_proto_version"
	if err := validVersion(op, v); err != nil {
		return err
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.SetMaxProtoVersion(int(v)) })
}

// MinVersion is the lowest protocol version set; 0 means no bound.
func (c *Context) MinVersion() ProtocolVersion {
	var v int
	c.read(func(h *cbridge.SSLCtx) { v = h.MinProtoVersion() })
	return ProtocolVersion(v)
}

// MaxVersion is the highest protocol version set; 0 means no bound.
func (c *Context) MaxVersion() ProtocolVersion {
	var v int
	c.read(func(h *cbridge.SSLCtx) { v = h.MaxProtoVersion() })
	return ProtocolVersion(v)
}

// SetCipherList sets the TLS 1.2-and-below cipher string exactly as
// SSL_CTX_set_cipher_list does: an "@SECLEVEL=n" in it sets the security level
// for everything loaded afterwards, and a string that matches no TLS 1.2
// cipher fails with "no cipher match" after OpenSSL has already replaced the
// list (only the TLS 1.3 suites remain). TLS 1.3 suites are not affected.
func (c *Context) SetCipherList(s string) error {
	return c.with("SSL_CTX_set_cipher_list", func(h *cbridge.SSLCtx) error { return h.SetCipherList(s) })
}

// SetCiphersuites sets the TLS 1.3 suites (SSL_CTX_set_ciphersuites,
// "TLS_AES_128_GCM_SHA256:..."); "" disables them. An unknown name is an error.
func (c *Context) SetCiphersuites(s string) error {
	return c.with("SSL_CTX_set_ciphersuites", func(h *cbridge.SSLCtx) error { return h.SetCiphersuites(s) })
}

// CipherNames lists the context's ciphers by OpenSSL name in preference order
// (SSL_CTX_get_ciphers: TLS 1.3 suites first), as `openssl ciphers` prints them.
func (c *Context) CipherNames() []string {
	var out []string
	c.read(func(h *cbridge.SSLCtx) { out = h.CipherNames() })
	return out
}

// SecurityLevel is the context's security level (0 to 5).
func (c *Context) SecurityLevel() int {
	var n int
	c.read(func(h *cbridge.SSLCtx) { n = h.SecurityLevel() })
	return n
}

// SetSecurityLevel sets the security level (0 to 5); it applies to what is
// loaded afterwards and to handshakes.
func (c *Context) SetSecurityLevel(n int) error {
	const op = "SSL_CTX_set_security_level"
	if n < 0 || n > 5 {
		return cbridge.NewError(op, "nodetls", fmt.Sprintf("security level %d is outside 0 to 5", n))
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.SetSecurityLevel(n) })
}

// SetGroups sets the key exchange groups ("X25519:P-256",
// SSL_CTX_set1_groups_list). "" and "auto" change nothing, so OpenSSL's
// default list stays unless one was set before. An unknown group is an error.
func (c *Context) SetGroups(list string) error {
	if list == "" || list == "auto" {
		return nil
	}
	return c.with("SSL_CTX_set1_groups_list", func(h *cbridge.SSLCtx) error { return h.SetGroupsList(list) })
}

// SetSigalgs sets the signature algorithms (SSL_CTX_set1_sigalgs_list,
// "ECDSA+SHA256:RSA-PSS+SHA256:ed25519"). An invalid list is an error.
func (c *Context) SetSigalgs(list string) error {
	return c.with("SSL_CTX_set1_sigalgs_list", func(h *cbridge.SSLCtx) error { return h.SetSigalgsList(list) })
}

// SetDHAuto lets OpenSSL pick FFDHE parameters that match the server key's
// strength (SSL_CTX_set_dh_auto).
func (c *Context) SetDHAuto() error {
	return c.with("SSL_CTX_set_dh_auto", func(h *cbridge.SSLCtx) error { return h.SetDHAuto(true) })
}

// SetDHParams sets the DH parameters for DHE suites. Parameters under
// MinDHBits are refused with "DH parameter is less than 1024 bits"; OpenSSL
// also refuses parameters weaker than the security level ("dh key too small").
// The context keeps its own reference.
func (c *Context) SetDHParams(d *DHParams) error {
	const op = "SSL_CTX_set0_tmp_dh_pkey"
	if d == nil || d.Handle() == nil {
		return cbridge.NewError(op, "nodetls", "no DH parameters")
	}
	if bits := d.Bits(); bits < MinDHBits {
		return cbridge.NewError(op, "nodetls", fmt.Sprintf("DH parameter is less than %d bits", MinDHBits))
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.SetTmpDH(d.Handle()) })
}

// SetDHParamsPEM reads DH parameters from PEM and sets them as SetDHParams
// does. Unparsable text is an error with OpenSSL's reason.
func (c *Context) SetDHParamsPEM(pem []byte) error {
	d, err := ParseDHParamsPEM(pem)
	if err != nil {
		return err
	}
	defer d.Free()
	return c.SetDHParams(d)
}

// SetOptions adds SSL_OP_* bits and returns the resulting set.
func (c *Context) SetOptions(op uint64) uint64 {
	var v uint64
	c.read(func(h *cbridge.SSLCtx) { v = h.SetOptions(op) })
	return v
}

// ClearOptions removes SSL_OP_* bits and returns the resulting set.
func (c *Context) ClearOptions(op uint64) uint64 {
	var v uint64
	c.read(func(h *cbridge.SSLCtx) { v = h.ClearOptions(op) })
	return v
}

// Options is the set of SSL_OP_* bits in force (OpenSSL's defaults included).
func (c *Context) Options() uint64 {
	var v uint64
	c.read(func(h *cbridge.SSLCtx) { v = h.Options() })
	return v
}

// SetMode adds SSL_MODE_* bits and returns the resulting mode.
func (c *Context) SetMode(m int64) int64 {
	var v int64
	c.read(func(h *cbridge.SSLCtx) { v = h.SetMode(m) })
	return v
}

// ClearMode removes SSL_MODE_* bits (ModeNoAutoChain, ...) and returns the resulting mode.
func (c *Context) ClearMode(m int64) int64 {
	var v int64
	c.read(func(h *cbridge.SSLCtx) { v = h.ClearMode(m) })
	return v
}

// Mode is the set of SSL_MODE_* bits in force.
func (c *Context) Mode() int64 {
	var v int64
	c.read(func(h *cbridge.SSLCtx) { v = h.Mode() })
	return v
}

// SetSessionIDContext sets the session ID context (SSL_CTX_set_session_id_context);
// OpenSSL refuses more than 32 bytes.
func (c *Context) SetSessionIDContext(b []byte) error {
	return c.with("SSL_CTX_set_session_id_context", func(h *cbridge.SSLCtx) error { return h.SetSessionIDContext(b) })
}

// SetSessionTimeout sets how long sessions stay valid (SSL_CTX_set_timeout).
// OpenSSL counts whole seconds, so d must be a whole number of seconds, from
// 0 to math.MaxInt32 seconds.
func (c *Context) SetSessionTimeout(d time.Duration) error {
	const op = "SSL_CTX_set_timeout"
	if d < 0 || d%time.Second != 0 || d/time.Second > math.MaxInt32 {
		return cbridge.NewError(op, "nodetls", fmt.Sprintf("session timeout %v is not a whole number of seconds from 0 to %d", d, math.MaxInt32))
	}
	return c.with(op, func(h *cbridge.SSLCtx) error {
		h.SetTimeout(int64(d / time.Second))
		return nil
	})
}

// SessionTimeout is how long sessions stay valid (SSL_CTX_get_timeout;
// OpenSSL 3.0's default for TLS_method is 7200 s).
func (c *Context) SessionTimeout() time.Duration {
	var s int64
	c.read(func(h *cbridge.SSLCtx) { s = h.Timeout() })
	return time.Duration(s) * time.Second
}

// SetSessionCacheMode sets the session cache mode (SSL_CTX_set_session_cache_mode).
func (c *Context) SetSessionCacheMode(m SessionCacheMode) error {
	return c.with("SSL_CTX_set_session_cache_mode", func(h *cbridge.SSLCtx) error {
		h.SetSessionCacheMode(int64(m))
		return nil
	})
}

// SessionCacheMode is the session cache mode in force.
func (c *Context) SessionCacheMode() SessionCacheMode {
	var m int64
	c.read(func(h *cbridge.SSLCtx) { m = h.SessionCacheMode() })
	return SessionCacheMode(m)
}

// SetCA replaces the trust store with the certificates of a PEM text (several
// blocks allowed) and makes them the client CA list, so the system's roots no
// longer count. Text without a certificate is an error ("no start line").
func (c *Context) SetCA(pem []byte) error {
	certs, err := ParseCertificatesPEM(pem)
	if err != nil {
		return err
	}
	defer freeCertificates(certs)
	if len(certs) == 0 {
		return cbridge.NewError("PEM_read_bio_X509_AUX", "nodetls", "no certificate in CA PEM")
	}
	return c.SetCACertificates(certs)
}

// SetCACertificates replaces the trust store with certs and makes them the
// client CA list. The caller keeps its certificates.
func (c *Context) SetCACertificates(certs []*Certificate) error {
	for _, x := range certs {
		if x == nil || x.Handle() == nil {
			return cbridge.NewError("X509_STORE_add_cert", "nodetls", "nil certificate")
		}
	}
	return c.with("X509_STORE_new", func(h *cbridge.SSLCtx) error {
		if err := h.NewCertStore(); err != nil {
			return err
		}
		return addCAs(h, certs)
	})
}

// AddCACertificate adds one certificate to the current trust store and the
// client CA list.
func (c *Context) AddCACertificate(cert *Certificate) error {
	return c.with("X509_STORE_add_cert", func(h *cbridge.SSLCtx) error { return addCAs(h, []*Certificate{cert}) })
}

func addCAs(h *cbridge.SSLCtx, certs []*Certificate) error {
	for _, x := range certs {
		if x == nil {
			return cbridge.NewError("X509_STORE_add_cert", "nodetls", "nil certificate")
		}
		if err := h.StoreAddCert(x.Handle()); err != nil {
			return err
		}
		if err := h.AddClientCA(x.Handle()); err != nil {
			return err
		}
	}
	return nil
}

// UseSystemCA adds OpenSSL's default CA file and directory to the trust store
// (SSL_CTX_set_default_verify_paths).
func (c *Context) UseSystemCA() error {
	return c.with("SSL_CTX_set_default_verify_paths", func(h *cbridge.SSLCtx) error { return h.SetDefaultVerifyPaths() })
}

// AddCRLs adds the CRLs of a PEM text to the trust store and turns on CRL
// checking for the whole chain (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL).
// A later SetCA drops the CRLs but not the flags, so verification then fails
// rather than silently skipping revocation.
func (c *Context) AddCRLs(pem []byte) error {
	return c.with("PEM_read_bio_X509_CRL", func(h *cbridge.SSLCtx) error {
		if _, err := h.AddCRLsPEM(pem); err != nil {
			return err
		}
		return h.SetVerifyFlags(VerifyCRLCheck | VerifyCRLCheckAll)
	})
}

// SetPartialChain turns X509_V_FLAG_PARTIAL_CHAIN on or off: with it, a
// trusted intermediate may end a chain.
func (c *Context) SetPartialChain(on bool) error {
	if on {
		return c.SetVerifyFlags(VerifyPartialChain)
	}
	return c.ClearVerifyFlags(VerifyPartialChain)
}

// SetVerifyFlags adds X509_V_FLAG_* bits to the context's verification parameters.
func (c *Context) SetVerifyFlags(f uint64) error {
	return c.with("X509_VERIFY_PARAM_set_flags", func(h *cbridge.SSLCtx) error { return h.SetVerifyFlags(f) })
}

// ClearVerifyFlags removes X509_V_FLAG_* bits from the context's verification parameters.
func (c *Context) ClearVerifyFlags(f uint64) error {
	return c.with("X509_VERIFY_PARAM_clear_flags", func(h *cbridge.SSLCtx) error { return h.ClearVerifyFlags(f) })
}

// VerifyFlags is the set of X509_V_FLAG_* bits of the context's verification parameters.
func (c *Context) VerifyFlags() uint64 {
	var f uint64
	c.read(func(h *cbridge.SSLCtx) { f = h.VerifyFlags() })
	return f
}

// SetVerifyDepth limits the length of verified chains (SSL_CTX_set_verify_depth).
func (c *Context) SetVerifyDepth(d int) error {
	return c.with("SSL_CTX_set_verify_depth", func(h *cbridge.SSLCtx) error { return h.SetVerifyDepth(d) })
}

// VerifyDepth is the chain length limit; -1 means OpenSSL's default.
func (c *Context) VerifyDepth() int {
	var d int
	c.read(func(h *cbridge.SSLCtx) { d = h.VerifyDepth() })
	return d
}

// TrustedCertCount counts the certificates in the trust store (the system's
// lazily loaded directory is not counted).
func (c *Context) TrustedCertCount() int {
	var n int
	c.read(func(h *cbridge.SSLCtx) { n = h.StoreCertCount() })
	return n
}

// ClientCACount is the number of names in the client CA list.
func (c *Context) ClientCACount() int {
	var n int
	c.read(func(h *cbridge.SSLCtx) { n = h.ClientCACount() })
	return n
}

// KeyTypes names the key types that have a certificate and key loaded
// ("RSA", "EC", "ED25519", ...), in OpenSSL's slot order.
func (c *Context) KeyTypes() []string {
	var out []string
	c.read(func(h *cbridge.SSLCtx) { out = h.KeyTypes() })
	return out
}

// AddKeyPair loads a certificate chain and its private key. The errors keep
// OpenSSL's reasons: "no start line" for text without a certificate, the
// decoder's reason for an unreadable key, "bad decrypt" for a wrong or missing
// passphrase, "key values mismatch" (or "key type mismatch") when the key is
// not the certificate's, "ee key too small" / "ee md too weak" for a leaf the
// security level refuses, and "ca key too small" / "ca md too weak" for a
// chain certificate. On error the context may hold part of the pair.
func (c *Context) AddKeyPair(kp KeyPair) error {
	certs, key := kp.Certs, kp.Key
	if len(kp.CertPEM) > 0 {
		parsed, err := ParseCertificatesPEM(kp.CertPEM)
		if err != nil {
			return err
		}
		defer freeCertificates(parsed)
		certs = parsed
	}
	if len(kp.KeyPEM) > 0 {
		parsed, err := ParsePrivateKeyPEM(kp.KeyPEM, []byte(kp.Passphrase))
		if err != nil {
			return err
		}
		defer parsed.Free()
		key = parsed
	}
	return c.UseKeyPair(certs, key)
}

// UseKeyPair loads a parsed chain (leaf first) and its key into the slot of
// the key's type, replacing what that slot held. The caller keeps its objects;
// the context takes its own references. Errors are as for AddKeyPair.
func (c *Context) UseKeyPair(chain []*Certificate, key *PrivateKey) error {
	const op = "SSL_CTX_use_certificate"
	if len(chain) == 0 || chain[0] == nil {
		return cbridge.NewError(op, "nodetls", "no certificate")
	}
	if key == nil || key.Handle() == nil {
		return cbridge.NewError("SSL_CTX_use_PrivateKey", "nodetls", "no private key")
	}
	for _, x := range chain {
		if x == nil {
			return cbridge.NewError(op, "nodetls", "nil certificate in chain")
		}
	}
	leaf := chain[0].Handle()
	if err := leaf.CheckPrivateKey(key.Handle()); err != nil {
		return err
	}
	return c.with(op, func(h *cbridge.SSLCtx) error {
		if err := h.UseCertificate(leaf); err != nil {
			return err
		}
		if err := h.ClearChainCerts(); err != nil {
			return err
		}
		for _, x := range chain[1:] {
			if err := h.AddChainCert(x.Handle()); err != nil {
				return err
			}
		}
		if err := h.UsePrivateKey(key.Handle()); err != nil {
			return err
		}
		return h.CheckPrivateKey()
	})
}

// LoadPFX reads a DER PKCS#12 file and loads it with UsePKCS12.
func (c *Context) LoadPFX(der []byte, passphrase string) error {
	p, err := ParsePKCS12(der, passphrase)
	if err != nil {
		return err
	}
	defer p.Free()
	return c.UsePKCS12(p)
}

// UsePKCS12 loads the key, its certificate and the extra certificates as
// chain; the extra certificates also join the trust store and the client CA
// list. The caller keeps p.
func (c *Context) UsePKCS12(p *PKCS12) error {
	if p == nil || p.Key == nil || p.Cert == nil {
		return cbridge.NewError("PKCS12_parse", "nodetls", "no private key in PKCS#12 data")
	}
	chain := append([]*Certificate{p.Cert}, p.CA...)
	if err := c.UseKeyPair(chain, p.Key); err != nil {
		return err
	}
	if len(p.CA) == 0 {
		return nil
	}
	return c.with("X509_STORE_add_cert", func(h *cbridge.SSLCtx) error { return addCAs(h, p.CA) })
}

func freeCertificates(cs []*Certificate) {
	for _, x := range cs {
		x.Free()
	}
}

// UseCertificateChain loads a chain (leaf first) into the slot of the leaf
// key's type, as SSL_CTX_use_certificate followed by SSL_CTX_add1_chain_cert
// for each further certificate (Node's setCert). A key already in that slot
// that does not match is dropped by OpenSSL; load the key after the chain.
func (c *Context) UseCertificateChain(chain []*Certificate) error {
	const op = "SSL_CTX_use_certificate"
	if len(chain) == 0 || chain[0] == nil {
		return cbridge.NewError(op, "nodetls", "no certificate")
	}
	return c.with(op, func(h *cbridge.SSLCtx) error {
		if err := h.UseCertificate(chain[0].Handle()); err != nil {
			return err
		}
		if err := h.ClearChainCerts(); err != nil {
			return err
		}
		for _, x := range chain[1:] {
			if x == nil {
				return cbridge.NewError(op, "nodetls", "nil certificate in chain")
			}
			if err := h.AddChainCert(x.Handle()); err != nil {
				return err
			}
		}
		return nil
	})
}

// UsePrivateKey loads a private key into the slot of its type
// (SSL_CTX_use_PrivateKey); it fails with "key values mismatch" when that
// slot holds a certificate of another key.
func (c *Context) UsePrivateKey(key *PrivateKey) error {
	const op = "SSL_CTX_use_PrivateKey"
	if key == nil || key.Handle() == nil {
		return cbridge.NewError(op, "nodetls", "no private key")
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.UsePrivateKey(key.Handle()) })
}

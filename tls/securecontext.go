package tls

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// SecureContextOptions are the options of Node's tls.createSecureContext
// (also embedded in ServerOptions and ConnectOptions). Zero values mean
// Node's defaults.
type SecureContextOptions struct {
	// Key, Cert and CA are PEM. Cert may hold several chains (each starts at
	// a certificate that is neither a CA nor the issuer of the one before, so
	// an RSA and an ECDSA chain can follow each other); Key may hold several
	// keys (an RSA and an ECDSA key serve side by side; OpenSSL picks by
	// cipher). CA, when not empty, replaces the trusted roots.
	Key, Cert, CA []byte
	// Passphrase decrypts Key and PFX.
	Passphrase string
	// PFX is a PKCS#12 (DER) holding a key and certificate chain; its extra
	// certificates are also trusted, as in Node.
	PFX []byte
	// CRL holds PEM certificate revocation lists; they turn on revocation
	// checking for the whole chain.
	CRL []byte
	// Ciphers is an OpenSSL cipher string. Entries starting "TLS_" or "!TLS_"
	// set the TLS 1.3 suites, the rest the TLS 1.2 list, as Node splits them
	// (without any TLS_ entry OpenSSL's TLS 1.3 suites stay; a TLS 1.3-only
	// list raises the minimum to TLS 1.3). "" means DefaultCiphers.
	// "@SECLEVEL=N" sets the security level before keys are loaded.
	Ciphers string
	// Sigalgs is the signature algorithm list ("ECDSA+SHA256:RSA-PSS+SHA256");
	// "" keeps OpenSSL's default.
	Sigalgs string
	// ECDHCurve is a group list such as "X25519:P-256"; "" or "auto" keeps
	// OpenSSL's default groups.
	ECDHCurve string
	// DHParam is "auto" (OpenSSL picks FFDHE parameters to match the key) or
	// PEM DH parameters (at least 1024 bits); "" means no DHE, as in Node.
	DHParam string
	// HonorCipherOrder makes the server's cipher order win
	// (SSL_OP_CIPHER_SERVER_PREFERENCE). Servers default to true.
	HonorCipherOrder bool
	// MinVersion and MaxVersion: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3";
	// "" means DefaultMinVersion / DefaultMaxVersion.
	MinVersion, MaxVersion string
	// SecureOptions are SSL_OP_* bits (openssl.OpNoTicket, ...).
	SecureOptions int64
	// SessionIDContext scopes session-ID resumption (at most 32 bytes).
	SessionIDContext string
	// SessionTimeout is the session lifetime, in whole seconds; 0 keeps
	// OpenSSL's default (7200 s for OpenSSL 3's TLS method, which is what
	// Node 20 uses too).
	SessionTimeout time.Duration
	// TicketKeys are 48 bytes of session ticket key material (16 name, 16
	// HMAC, 16 AES); nil makes random keys.
	TicketKeys []byte
	// AllowPartialTrustChain lets a trusted intermediate CA end a chain
	// (X509_V_FLAG_PARTIAL_CHAIN), Node's allowPartialTrustChain.
	AllowPartialTrustChain bool
	// SecureProtocol is Node's secureProtocol ("TLSv1_2_method", ...); it
	// cannot be combined with MinVersion or MaxVersion.
	SecureProtocol string
}

// SecureContext is Node's SecureContext: an OpenSSL SSL_CTX configured from
// SecureContextOptions, shareable by many sockets. Close releases it;
// sockets that use it keep their own reference.
type SecureContext struct {
	ctx *openssl.Context

	mu         sync.Mutex
	ticketKeys []byte
	hasCert    bool
	// leafDER and issuerDER are the last loaded certificate and its issuer
	// (from its chain or the CA option), for OCSPRequest handlers.
	leafDER, issuerDER []byte
}

// Context returns the underlying OpenSSL context, for code that needs
// OpenSSL's own settings (a nodetls addition; Node keeps it internal as
// secureContext.context).
func (sc *SecureContext) Context() *openssl.Context { return sc.ctx }

// Close releases the context (a nodetls addition: Node's garbage collector
// frees it). Sockets and servers already using it keep it alive.
func (sc *SecureContext) Close() error {
	if sc == nil || sc.ctx == nil {
		return nil
	}
	return sc.ctx.Close()
}

// CreateSecureContext is Node's tls.createSecureContext(options). Options
// are applied in Node's order — protocol bounds and secureOptions, then the
// ciphers (so "@SECLEVEL" governs what follows), the trust store, the
// certificate chains, the keys, sigalgs, curves, DH, CRLs, session id
// context, PFX, ticket keys and session timeout — and each bad option is an
// *Error with Node's code.
func CreateSecureContext(opts SecureContextOptions) (*SecureContext, error) {
	return createSecureContext(opts, "options")
}

// Node's SecureContext::Init defaults, set on every context.
const (
	// SSL_MODE_NO_AUTO_CHAIN is cleared: a server whose store holds its
	// intermediate sends the whole chain.
	nodeSessionCache = openssl.SessCacheClient | openssl.SessCacheServer | openssl.SessCacheNoInternal | openssl.SessCacheNoAutoClear
)

func createSecureContext(opts SecureContextOptions, name string) (*SecureContext, error) {
	secureOptions := uint64(opts.SecureOptions)
	if opts.HonorCipherOrder {
		secureOptions |= openssl.OpCipherServerPreference
	}
	minV, maxV, err := versionRange(opts)
	if err != nil {
		return nil, err
	}
	if opts.TicketKeys != nil && len(opts.TicketKeys) != 48 {
		return nil, errInvalidArgValue(name+".ticketKeys", len(opts.TicketKeys), "must be exactly 48 bytes")
	}
	secs := int64(opts.SessionTimeout / time.Second)
	if opts.SessionTimeout < 0 || secs > 2147483647 {
		return nil, errOutOfRange(name+".sessionTimeout", ">= 0 && <= 2147483647", secs)
	}
	cipherList, cipherSuites, err := splitCiphers(opts.Ciphers, name+".ciphers")
	if err != nil {
		return nil, err
	}

	mode := nodeSessionCache
	ctx, err := openssl.NewContext(openssl.ContextOptions{
		MinVersion:       minV,
		MaxVersion:       maxV,
		Options:          openssl.OpNoSSLv3 | openssl.OpAllowClientRenegotiation | secureOptions,
		ClearMode:        openssl.ModeNoAutoChain,
		SessionCacheMode: &mode,
	})
	if err != nil {
		return nil, fromConfigError(err)
	}
	sc := &SecureContext{ctx: ctx}
	if err := sc.configure(&opts, name, cipherList, cipherSuites, secs); err != nil {
		ctx.Close()
		return nil, err
	}
	return sc, nil
}

// versionRange applies Node's toV and secureProtocol rules.
func versionRange(opts SecureContextOptions) (openssl.ProtocolVersion, openssl.ProtocolVersion, error) {
	if opts.SecureProtocol != "" {
		if opts.MinVersion != "" {
			return 0, 0, errorf("ERR_TLS_PROTOCOL_VERSION_CONFLICT", "TLS protocol version %s conflicts with secureProtocol %s", jsonStringify(opts.MinVersion), jsonStringify(opts.SecureProtocol))
		}
		if opts.MaxVersion != "" {
			return 0, 0, errorf("ERR_TLS_PROTOCOL_VERSION_CONFLICT", "TLS protocol version %s conflicts with secureProtocol %s", jsonStringify(opts.MaxVersion), jsonStringify(opts.SecureProtocol))
		}
		return secureProtocolRange(cString(opts.SecureProtocol))
	}
	minV, err := protocolVersion("minimum", opts.MinVersion, DefaultMinVersion)
	if err != nil {
		return 0, 0, err
	}
	maxV, err := protocolVersion("maximum", opts.MaxVersion, DefaultMaxVersion)
	if err != nil {
		return 0, 0, err
	}
	return minV, maxV, nil
}

// secureProtocolRange maps Node's secureProtocol method names.
func secureProtocolRange(method string) (openssl.ProtocolVersion, openssl.ProtocolVersion, error) {
	base := strings.TrimSuffix(strings.TrimSuffix(method, "_server_method"), "_client_method")
	base = strings.TrimSuffix(base, "_method")
	if base+"_method" != method && base+"_server_method" != method && base+"_client_method" != method {
		return 0, 0, errorf("ERR_TLS_INVALID_PROTOCOL_METHOD", "Unknown method: %s", method)
	}
	switch base {
	case "SSLv2":
		return 0, 0, newError("ERR_TLS_INVALID_PROTOCOL_METHOD", "SSLv2 methods disabled")
	case "SSLv3":
		return 0, 0, newError("ERR_TLS_INVALID_PROTOCOL_METHOD", "SSLv3 methods disabled")
	case "SSLv23":
		minV, err := protocolVersion("minimum", "", DefaultMinVersion)
		return minV, openssl.TLS1_2, err
	case "TLS":
		return openssl.TLS1, openssl.TLS1_3, nil
	case "TLSv1":
		return openssl.TLS1, openssl.TLS1, nil
	case "TLSv1_1":
		return openssl.TLS1_1, openssl.TLS1_1, nil
	case "TLSv1_2":
		return openssl.TLS1_2, openssl.TLS1_2, nil
	}
	return 0, 0, errorf("ERR_TLS_INVALID_PROTOCOL_METHOD", "Unknown method: %s", method)
}

// cString is s as Node's C++ hands a JavaScript string to OpenSSL (the
// char* of a Utf8Value): C ends it at the first NUL. Node's JavaScript checks
// ("is the option set?", "is the TLS 1.2 list empty?") see the whole string,
// its OpenSSL calls only what is before the NUL; the openssl package refuses
// a NUL instead of cutting it, so the cut is made here.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// splitCiphers is Node's processCiphers: TLS_ and !TLS_ entries are TLS 1.3
// suites, the rest the TLS 1.2 list.
func splitCiphers(ciphers, name string) (list, suites string, err error) {
	if ciphers == "" {
		ciphers = DefaultCiphers
	}
	all := strings.Split(ciphers, ":")
	var l, s []string
	for _, c := range all {
		switch {
		case c == "":
		case strings.HasPrefix(c, "TLS_") || strings.HasPrefix(c, "!TLS_"):
			s = append(s, c)
		default:
			l = append(l, c)
		}
	}
	if len(l) == 0 && len(s) == 0 {
		return "", "", errInvalidArgValue(name, all, "")
	}
	return strings.Join(l, ":"), strings.Join(s, ":"), nil
}

func (sc *SecureContext) configure(o *SecureContextOptions, name, cipherList, cipherSuites string, timeoutSecs int64) error {
	ctx := sc.ctx
	// Ciphers first: "@SECLEVEL=N" changes what may be loaded next.
	if cipherSuites != "" {
		if err := ctx.SetCiphersuites(cString(cipherSuites)); err != nil {
			return fromConfigError(err)
		}
	}
	if err := ctx.SetCipherList(cString(cipherList)); err != nil {
		// An empty TLS 1.2 list is deliberate (TLS 1.3 only): OpenSSL's
		// "no cipher match" is then no error, as in Node (which asks
		// strlen, so a list that starts with NUL is empty too).
		var oe *openssl.Error
		if cString(cipherList) != "" || !errors.As(err, &oe) || oe.Reason != "no cipher match" {
			return fromConfigError(err)
		}
	}
	if cipherList == "" && ctx.MinVersion() < openssl.TLS1_3 && ctx.MaxVersion() > openssl.TLS1_2 {
		if err := ctx.SetMinVersion(openssl.TLS1_3); err != nil {
			return fromConfigError(err)
		}
	}

	// Trust: the CA option replaces the roots; without it, the system's.
	if len(o.CA) > 0 {
		certs := caCertificates(o.CA) // junk is ignored, as in Node
		err := ctx.SetCACertificates(certs)
		for _, c := range certs {
			c.Free()
		}
		if err != nil {
			return fromConfigError(err)
		}
	} else if err := ctx.UseSystemCA(); err != nil {
		return fromConfigError(err)
	}
	if o.AllowPartialTrustChain {
		if err := ctx.SetPartialChain(true); err != nil {
			return fromConfigError(err)
		}
	}

	if len(o.Cert) > 0 {
		certs, err := openssl.ParseCertificatesPEM(o.Cert)
		if err != nil {
			return fromConfigError(err)
		}
		err = useChains(ctx, certs)
		if err == nil {
			sc.rememberLeaf(certs, o.CA)
		}
		for _, c := range certs {
			c.Free()
		}
		if err != nil {
			return fromConfigError(err)
		}
		sc.hasCert = true
	}
	if len(o.Key) > 0 {
		for _, block := range pemBlocks(o.Key) {
			k, err := openssl.ParsePrivateKeyPEM(block, []byte(o.Passphrase))
			if err != nil {
				return fromConfigError(err)
			}
			err = ctx.UsePrivateKey(k)
			k.Free()
			if err != nil {
				return fromConfigError(err)
			}
		}
	}

	if o.Sigalgs != "" {
		if err := ctx.SetSigalgs(cString(o.Sigalgs)); err != nil {
			var oe *openssl.Error
			if errors.As(err, &oe) && oe.Code == 0 {
				// OpenSSL leaves no queue entry; Node throws ERR_get_error()'s text.
				return &Error{Message: "error:00000000:lib(0)::reason(0)", Err: err}
			}
			return fromConfigError(err)
		}
	}
	if curve := cString(o.ECDHCurve); o.ECDHCurve != "" && curve != "auto" {
		// SetGroups keeps the default groups for "", where Node hands ""
		// (an ecdhCurve starting with NUL) to SSL_CTX_set1_curves_list,
		// which refuses an empty list.
		err := errors.New("empty group list")
		if curve != "" {
			err = ctx.SetGroups(curve)
		}
		if err != nil {
			return &Error{Code: "ERR_CRYPTO_OPERATION_FAILED", Message: "Failed to set ECDH curve", Err: err}
		}
	}
	if o.DHParam != "" {
		if err := sc.setDHParam(o.DHParam); err != nil {
			return err
		}
	}
	if len(o.CRL) > 0 {
		if err := ctx.AddCRLs(o.CRL); err != nil {
			return &Error{Code: "ERR_CRYPTO_OPERATION_FAILED", Message: "Failed to parse CRL", Err: err}
		}
	}
	if o.SessionIDContext != "" {
		if err := ctx.SetSessionIDContext([]byte(o.SessionIDContext)); err != nil {
			// Node throws a TypeError without a code whose message is
			// ERR_print_errors' text of the queue.
			return fromPrintedError(err)
		}
	}
	if len(o.PFX) > 0 {
		if err := loadPFX(ctx, o.PFX, o.Passphrase); err != nil {
			return err
		}
		sc.hasCert = true
	}
	keys := o.TicketKeys
	if keys == nil {
		keys = make([]byte, 48)
		if _, err := rand.Read(keys); err != nil {
			return &Error{Message: err.Error(), Err: err}
		}
	}
	if err := sc.SetTicketKeys(keys); err != nil {
		return err
	}
	if timeoutSecs > 0 {
		if err := ctx.SetSessionTimeout(time.Duration(timeoutSecs) * time.Second); err != nil {
			return fromConfigError(err)
		}
	}
	return nil
}

// rememberLeaf records the last chain's leaf and its issuer, looked up in the
// chain and then among the CA certificates.
func (sc *SecureContext) rememberLeaf(certs []*openssl.Certificate, caPEM []byte) {
	leafIdx := 0
	for i := range certs {
		if startsChain(certs, i) {
			leafIdx = i
		}
	}
	leaf := certs[leafIdx]
	sc.leafDER, _ = leaf.DER()
	sc.issuerDER = nil
	candidates := certs[leafIdx+1:]
	var cas []*openssl.Certificate
	if len(caPEM) > 0 {
		cas = caCertificates(caPEM)
		defer func() {
			for _, c := range cas {
				c.Free()
			}
		}()
	}
	for _, c := range append(append([]*openssl.Certificate{}, candidates...), cas...) {
		if c.Issued(leaf) {
			sc.issuerDER, _ = c.DER()
			return
		}
	}
}

// startsChain reports whether certs[i] starts a new chain of a PEM cert
// option: the first certificate does, and every later one that is not a CA
// and is not the issuer the certificate before it names. So "RSA leaf, RSA
// intermediate, EC leaf" gives two chains, as Node's array of cert strings
// would, and an intermediate whose key usage lacks keyCertSign (so not a CA
// to OpenSSL) stays in the chain of the leaf it issued, as in Node.
func startsChain(certs []*openssl.Certificate, i int) bool {
	return i == 0 || (!certs[i].IsCA() && !certs[i].NamesIssuer(certs[i-1]))
}

// useChains loads each chain of a PEM cert option (startsChain).
func useChains(ctx *openssl.Context, certs []*openssl.Certificate) error {
	var chain []*openssl.Certificate
	flush := func() error {
		if len(chain) == 0 {
			return nil
		}
		err := ctx.UseCertificateChain(chain)
		chain = nil
		return err
	}
	for i, c := range certs {
		if i > 0 && startsChain(certs, i) {
			if err := flush(); err != nil {
				return err
			}
		}
		chain = append(chain, c)
	}
	return flush()
}

// pemBlocks splits a PEM text into its blocks (with their headers), so each
// key of a multi-key option is read on its own.
func pemBlocks(data []byte) [][]byte {
	var out [][]byte
	rest := data
	for {
		start := bytes.Index(rest, []byte("-----BEGIN "))
		if start < 0 {
			break
		}
		b, after := pem.Decode(rest[start:])
		if b == nil {
			break
		}
		out = append(out, rest[start:len(rest)-len(after)])
		rest = after
	}
	if len(out) == 0 {
		return [][]byte{data} // let OpenSSL report what is wrong
	}
	return out
}

// setDHParam is Node's SetDHParam: "auto", or PEM of at least 1024 bits;
// unparsable text is ignored (DHE stays unavailable), as in Node.
func (sc *SecureContext) setDHParam(v string) error {
	if v == "auto" {
		if err := sc.ctx.SetDHAuto(); err != nil {
			return fromConfigError(err)
		}
		return nil
	}
	dh, err := openssl.ParseDHParamsPEM([]byte(v))
	if err != nil {
		return nil
	}
	defer dh.Free()
	bits := dh.Bits()
	if bits < 1024 {
		return newError("ERR_INVALID_ARG_VALUE", "DH parameter is less than 1024 bits")
	}
	if bits < 2048 {
		emitWarning("DH parameter is less than 2048 bits", "SecurityWarning")
	}
	if err := sc.ctx.SetDHParams(dh); err != nil {
		return fromConfigError(err)
	}
	return nil
}

// loadPFX is Node's LoadPKCS12 with its errors.
func loadPFX(ctx *openssl.Context, der []byte, passphrase string) error {
	p, err := openssl.ParsePKCS12(der, passphrase)
	if err != nil {
		var oe *openssl.Error
		if errors.As(err, &oe) && oe.Reason != "" {
			// Node throws a plain Error with OpenSSL's reason as message.
			return &Error{Message: oe.Reason, Library: oe.Library, Reason: oe.Reason, Err: err}
		}
		return &Error{Message: err.Error(), Err: err}
	}
	defer p.Free()
	if p.Key == nil {
		return newError("ERR_CRYPTO_OPERATION_FAILED", "Unable to load private key from PFX data")
	}
	if p.Cert == nil {
		return newError("ERR_CRYPTO_OPERATION_FAILED", "Unable to load certificate from PFX data")
	}
	if err := ctx.UsePKCS12(p); err != nil {
		return fromConfigError(err)
	}
	return nil
}

// GetTicketKeys returns a copy of the context's 48 bytes of ticket keys, as
// Server.GetTicketKeys (Node's server.getTicketKeys()) does for a server's
// context.
func (sc *SecureContext) GetTicketKeys() []byte {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]byte(nil), sc.ticketKeys...)
}

// SetTicketKeys replaces the context's ticket keys (48 bytes), as
// Server.SetTicketKeys (Node's server.setTicketKeys()) does for a server's
// context; tickets made or checked from now on use them.
func (sc *SecureContext) SetTicketKeys(keys []byte) error {
	if len(keys) != 48 {
		return errInternalAssertion("Session ticket keys must be a 48-byte buffer")
	}
	if err := sc.ctx.SetTicketKeys(keys); err != nil {
		return fromConfigError(err)
	}
	sc.mu.Lock()
	sc.ticketKeys = append([]byte(nil), keys...)
	sc.mu.Unlock()
	return nil
}

// emitWarning prints a process warning the way Node does on stderr.
var emitWarning = func(msg, kind string) {
	fmt.Fprintf(os.Stderr, "(nodetls:%d) %s: %s\n", os.Getpid(), kind, msg)
}

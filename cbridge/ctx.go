package cbridge

/*
#include "bridge.h"
#include <stdlib.h>
nt_result nt_ctx_new(void);
nt_result nt_ctx_set_min_proto(SSL_CTX *c, int v);
nt_result nt_ctx_set_max_proto(SSL_CTX *c, int v);
int nt_ctx_get_min_proto(SSL_CTX *c);
int nt_ctx_get_max_proto(SSL_CTX *c);
nt_result nt_ctx_set_cipher_list(SSL_CTX *c, const char *s);
nt_result nt_ctx_set_ciphersuites(SSL_CTX *c, const char *s);
int nt_ctx_cipher_count(SSL_CTX *c);
const char *nt_ctx_cipher_name(SSL_CTX *c, int i);
int nt_ctx_get_security_level(SSL_CTX *c);
void nt_ctx_set_security_level(SSL_CTX *c, int n);
nt_result nt_ctx_set_groups(SSL_CTX *c, const char *s);
nt_result nt_ctx_set_sigalgs(SSL_CTX *c, const char *s);
nt_result nt_ctx_set_dh_auto(SSL_CTX *c, int on);
nt_result nt_ctx_set_tmp_dh(SSL_CTX *c, EVP_PKEY *k);
uint64_t nt_ctx_set_options(SSL_CTX *c, uint64_t op);
uint64_t nt_ctx_clear_options(SSL_CTX *c, uint64_t op);
uint64_t nt_ctx_get_options(SSL_CTX *c);
long nt_ctx_set_mode(SSL_CTX *c, long m);
long nt_ctx_clear_mode(SSL_CTX *c, long m);
long nt_ctx_get_mode(SSL_CTX *c);
nt_result nt_ctx_set_session_id_context(SSL_CTX *c, const unsigned char *b, int n);
long nt_ctx_set_timeout(SSL_CTX *c, long t);
long nt_ctx_get_timeout(SSL_CTX *c);
long nt_ctx_set_session_cache_mode(SSL_CTX *c, long m);
long nt_ctx_get_session_cache_mode(SSL_CTX *c);
nt_result nt_ctx_use_certificate(SSL_CTX *c, X509 *x);
nt_result nt_ctx_clear_chain_certs(SSL_CTX *c);
nt_result nt_ctx_add_chain_cert(SSL_CTX *c, X509 *x);
nt_result nt_ctx_use_private_key(SSL_CTX *c, EVP_PKEY *k);
nt_result nt_ctx_check_private_key(SSL_CTX *c);
nt_result nt_ctx_new_cert_store(SSL_CTX *c);
nt_result nt_ctx_store_add_cert(SSL_CTX *c, X509 *x);
nt_result nt_ctx_add_client_ca(SSL_CTX *c, X509 *x);
nt_result nt_ctx_set_default_verify_paths(SSL_CTX *c);
nt_result nt_ctx_add_crls_pem(SSL_CTX *c, const char *pem, int len);
nt_result nt_ctx_set_verify_flags(SSL_CTX *c, unsigned long f);
nt_result nt_ctx_clear_verify_flags(SSL_CTX *c, unsigned long f);
unsigned long nt_ctx_get_verify_flags(SSL_CTX *c);
void nt_ctx_set_verify_depth(SSL_CTX *c, int d);
int nt_ctx_get_verify_depth(SSL_CTX *c);
int nt_ctx_store_cert_count(SSL_CTX *c);
int nt_ctx_client_ca_count(SSL_CTX *c);
char *nt_ctx_key_types(SSL_CTX *c);
*/
import "C"

import (
	"math"
	"runtime"
	"strings"
	"unsafe"
)

// SSL_OP_* option bits (SSL_CTX_set_options), from the OpenSSL headers.
const (
	OpNoExtendedMasterSecret         = uint64(C.SSL_OP_NO_EXTENDED_MASTER_SECRET)
	OpCleansePlaintext               = uint64(C.SSL_OP_CLEANSE_PLAINTEXT)
	OpLegacyServerConnect            = uint64(C.SSL_OP_LEGACY_SERVER_CONNECT)
	OpEnableKTLS                     = uint64(C.SSL_OP_ENABLE_KTLS)
	OpTLSExtPadding                  = uint64(C.SSL_OP_TLSEXT_PADDING)
	OpSafariECDHEECDSABug            = uint64(C.SSL_OP_SAFARI_ECDHE_ECDSA_BUG)
	OpIgnoreUnexpectedEOF            = uint64(C.SSL_OP_IGNORE_UNEXPECTED_EOF)
	OpAllowClientRenegotiation       = uint64(C.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
	OpDisableTLSExtCANames           = uint64(C.SSL_OP_DISABLE_TLSEXT_CA_NAMES)
	OpAllowNoDHEKex                  = uint64(C.SSL_OP_ALLOW_NO_DHE_KEX)
	OpDontInsertEmptyFragments       = uint64(C.SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS)
	OpNoQueryMTU                     = uint64(C.SSL_OP_NO_QUERY_MTU)
	OpCookieExchange                 = uint64(C.SSL_OP_COOKIE_EXCHANGE)
	OpNoTicket                       = uint64(C.SSL_OP_NO_TICKET)
	OpCiscoAnyConnect                = uint64(C.SSL_OP_CISCO_ANYCONNECT)
	OpNoSessionResumptionOnRenego    = uint64(C.SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION)
	OpNoCompression                  = uint64(C.SSL_OP_NO_COMPRESSION)
	OpAllowUnsafeLegacyRenegotiation = uint64(C.SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION)
	OpNoEncryptThenMac               = uint64(C.SSL_OP_NO_ENCRYPT_THEN_MAC)
	OpEnableMiddleboxCompat          = uint64(C.SSL_OP_ENABLE_MIDDLEBOX_COMPAT)
	OpPrioritizeChaCha               = uint64(C.SSL_OP_PRIORITIZE_CHACHA)
	OpCipherServerPreference         = uint64(C.SSL_OP_CIPHER_SERVER_PREFERENCE)
	OpTLSRollbackBug                 = uint64(C.SSL_OP_TLS_ROLLBACK_BUG)
	OpNoAntiReplay                   = uint64(C.SSL_OP_NO_ANTI_REPLAY)
	OpNoSSLv2                        = uint64(C.SSL_OP_NO_SSLv2)
	OpNoSSLv3                        = uint64(C.SSL_OP_NO_SSLv3)
	OpNoTLSv1                        = uint64(C.SSL_OP_NO_TLSv1)
	OpNoTLSv1_1                      = uint64(C.SSL_OP_NO_TLSv1_1)
	OpNoTLSv1_2                      = uint64(C.SSL_OP_NO_TLSv1_2)
	OpNoTLSv1_3                      = uint64(C.SSL_OP_NO_TLSv1_3)
	OpNoRenegotiation                = uint64(C.SSL_OP_NO_RENEGOTIATION)
	OpCryptoProTLSExtBug             = uint64(C.SSL_OP_CRYPTOPRO_TLSEXT_BUG)
	OpAll                            = uint64(C.SSL_OP_ALL)
)

// SSL_MODE_* bits (SSL_CTX_set_mode).
const (
	ModeEnablePartialWrite      = int64(C.SSL_MODE_ENABLE_PARTIAL_WRITE)
	ModeAcceptMovingWriteBuffer = int64(C.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
	ModeAutoRetry               = int64(C.SSL_MODE_AUTO_RETRY)
	ModeNoAutoChain             = int64(C.SSL_MODE_NO_AUTO_CHAIN)
	ModeReleaseBuffers          = int64(C.SSL_MODE_RELEASE_BUFFERS)
	ModeSendFallbackSCSV        = int64(C.SSL_MODE_SEND_FALLBACK_SCSV)
	ModeAsync                   = int64(C.SSL_MODE_ASYNC)
	ModeSendClientHelloTime     = int64(C.SSL_MODE_SEND_CLIENTHELLO_TIME)
	ModeSendServerHelloTime     = int64(C.SSL_MODE_SEND_SERVERHELLO_TIME)
	ModeDTLSSCTPLabelLengthBug  = int64(C.SSL_MODE_DTLS_SCTP_LABEL_LENGTH_BUG)
)

// maxCString is the largest input handed to C with an int length.
const maxCString = math.MaxInt32

// SSL_SESS_CACHE_* bits (SSL_CTX_set_session_cache_mode).
const (
	SessCacheOff              = int64(C.SSL_SESS_CACHE_OFF)
	SessCacheClient           = int64(C.SSL_SESS_CACHE_CLIENT)
	SessCacheServer           = int64(C.SSL_SESS_CACHE_SERVER)
	SessCacheBoth             = int64(C.SSL_SESS_CACHE_BOTH)
	SessCacheNoAutoClear      = int64(C.SSL_SESS_CACHE_NO_AUTO_CLEAR)
	SessCacheNoInternalLookup = int64(C.SSL_SESS_CACHE_NO_INTERNAL_LOOKUP)
	SessCacheNoInternalStore  = int64(C.SSL_SESS_CACHE_NO_INTERNAL_STORE)
	SessCacheNoInternal       = int64(C.SSL_SESS_CACHE_NO_INTERNAL)
	SessCacheUpdateTime       = int64(C.SSL_SESS_CACHE_UPDATE_TIME)
)

// X509_V_FLAG_* verification flags (X509_VERIFY_PARAM_set_flags).
const (
	VerifyFlagCRLCheck         = uint64(C.X509_V_FLAG_CRL_CHECK)
	VerifyFlagCRLCheckAll      = uint64(C.X509_V_FLAG_CRL_CHECK_ALL)
	VerifyFlagX509Strict       = uint64(C.X509_V_FLAG_X509_STRICT)
	VerifyFlagPartialChain     = uint64(C.X509_V_FLAG_PARTIAL_CHAIN)
	VerifyFlagTrustedFirst     = uint64(C.X509_V_FLAG_TRUSTED_FIRST)
	VerifyFlagNoCheckTime      = uint64(C.X509_V_FLAG_NO_CHECK_TIME)
	VerifyFlagCheckSSSignature = uint64(C.X509_V_FLAG_CHECK_SS_SIGNATURE)
	VerifyFlagUseDeltas        = uint64(C.X509_V_FLAG_USE_DELTAS)
	VerifyFlagExtendedCRL      = uint64(C.X509_V_FLAG_EXTENDED_CRL_SUPPORT)
)

// NewSSLCtx makes a new SSL_CTX with the version-flexible TLS_method(), with
// OpenSSL's defaults (and the system configuration's) in place. The caller owns
// the returned handle and frees it with Free.
func NewSSLCtx() (*SSLCtx, error) {
	_, p, err := result("SSL_CTX_new", C.nt_ctx_new())
	if err != nil {
		return nil, err
	}
	c := newSSLCtx((*C.SSL_CTX)(p))
	c.InstallHooks()
	return c, nil
}

// valid reports whether the handle still holds its SSL_CTX; methods on a freed
// handle fail with this error rather than touching freed memory.
func (c *SSLCtx) check(op string) error {
	if c == nil || c.p == nil {
		return NewError(op, "nodetls", "SSL_CTX already freed")
	}
	return nil
}

// cStringNoNUL copies s for C; it refuses interior NUL bytes, which C would
// silently cut the string at. The caller frees the result with C.free.
func cStringNoNUL(op, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, NewError(op, "nodetls", "string contains a NUL byte")
	}
	if len(s) > maxCString {
		return nil, NewError(op, "nodetls", "input too large")
	}
	return C.CString(s), nil
}

// ctxString runs a shim taking the context and one C string.
func (c *SSLCtx) ctxString(op string, s string, f func(*C.SSL_CTX, *C.char) C.nt_result) error {
	if err := c.check(op); err != nil {
		return err
	}
	cs, err := cStringNoNUL(op, s)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	_, _, err = result(op, f(c.p, cs))
	runtime.KeepAlive(c)
	return err
}

// ctxCall runs a shim taking only the context.
func (c *SSLCtx) ctxCall(op string, f func(*C.SSL_CTX) C.nt_result) error {
	if err := c.check(op); err != nil {
		return err
	}
	_, _, err := result(op, f(c.p))
	runtime.KeepAlive(c)
	return err
}

// SetMinProtoVersion is SSL_CTX_set_min_proto_version (0 = the lowest OpenSSL allows).
func (c *SSLCtx) SetMinProtoVersion(v int) error {
	return c.ctxCall("SSL_CTX_set_min_proto_version", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_min_proto(p, C.int(v)) })
}

// SetMaxProtoVersion is SSL_CTX_set_max_proto_version (0 = the highest OpenSSL supports).
func (c *SSLCtx) SetMaxProtoVersion(v int) error {
	return c.ctxCall("SSL_CTX_set_max_proto_version", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_max_proto(p, C.int(v)) })
}

// MinProtoVersion is SSL_CTX_get_min_proto_version (0 = no bound set).
func (c *SSLCtx) MinProtoVersion() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_get_min_proto(c.p))
}

// MaxProtoVersion is SSL_CTX_get_max_proto_version (0 = no bound set).
func (c *SSLCtx) MaxProtoVersion() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_get_max_proto(c.p))
}

// SetCipherList is SSL_CTX_set_cipher_list (the TLS 1.2-and-below list; an
// "@SECLEVEL=n" in it sets the security level). When no TLS 1.2 cipher
// matches, OpenSSL has already replaced the list and reports "no cipher match".
func (c *SSLCtx) SetCipherList(s string) error {
	return c.ctxString("SSL_CTX_set_cipher_list", s, func(p *C.SSL_CTX, cs *C.char) C.nt_result { return C.nt_ctx_set_cipher_list(p, cs) })
}

// SetCiphersuites is SSL_CTX_set_ciphersuites (the TLS 1.3 suites; "" disables them all).
func (c *SSLCtx) SetCiphersuites(s string) error {
	return c.ctxString("SSL_CTX_set_ciphersuites", s, func(p *C.SSL_CTX, cs *C.char) C.nt_result { return C.nt_ctx_set_ciphersuites(p, cs) })
}

// CipherNames lists SSL_CTX_get_ciphers by OpenSSL name, in preference order
// (TLS 1.3 suites first, as OpenSSL orders them).
func (c *SSLCtx) CipherNames() []string {
	if c.check("") != nil {
		return nil
	}
	defer runtime.KeepAlive(c)
	n := int(C.nt_ctx_cipher_count(c.p))
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if s := C.nt_ctx_cipher_name(c.p, C.int(i)); s != nil {
			out = append(out, C.GoString(s))
		}
	}
	return out
}

// SecurityLevel is SSL_CTX_get_security_level.
func (c *SSLCtx) SecurityLevel() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_get_security_level(c.p))
}

// SetSecurityLevel is SSL_CTX_set_security_level. OpenSSL accepts any integer
// (levels above 5 act as 5); range policy belongs to the caller.
func (c *SSLCtx) SetSecurityLevel(n int) error {
	if err := c.check("SSL_CTX_set_security_level"); err != nil {
		return err
	}
	C.nt_ctx_set_security_level(c.p, C.int(n))
	runtime.KeepAlive(c)
	return nil
}

// SetGroupsList is SSL_CTX_set1_groups_list ("X25519:P-256").
func (c *SSLCtx) SetGroupsList(s string) error {
	return c.ctxString("SSL_CTX_set1_groups_list", s, func(p *C.SSL_CTX, cs *C.char) C.nt_result { return C.nt_ctx_set_groups(p, cs) })
}

// SetSigalgsList is SSL_CTX_set1_sigalgs_list ("ECDSA+SHA256:RSA-PSS+SHA256").
func (c *SSLCtx) SetSigalgsList(s string) error {
	return c.ctxString("SSL_CTX_set1_sigalgs_list", s, func(p *C.SSL_CTX, cs *C.char) C.nt_result { return C.nt_ctx_set_sigalgs(p, cs) })
}

// SetDHAuto is SSL_CTX_set_dh_auto: OpenSSL picks FFDHE parameters that match
// the strength of the server key.
func (c *SSLCtx) SetDHAuto(on bool) error {
	v := C.int(0)
	if on {
		v = 1
	}
	return c.ctxCall("SSL_CTX_set_dh_auto", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_dh_auto(p, v) })
}

// SetTmpDH is SSL_CTX_set0_tmp_dh_pkey with DH parameters. The context takes
// its own reference; the caller keeps k. OpenSSL refuses parameters weaker than
// the security level ("dh key too small").
func (c *SSLCtx) SetTmpDH(k *PKey) error {
	const op = "SSL_CTX_set0_tmp_dh_pkey"
	if k == nil || k.p == nil {
		return NewError(op, "nodetls", "no DH parameters")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_tmp_dh(p, k.p) })
	runtime.KeepAlive(k)
	return err
}

// SetOptions is SSL_CTX_set_options: it adds the bits and returns the new set.
func (c *SSLCtx) SetOptions(op uint64) uint64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return uint64(C.nt_ctx_set_options(c.p, C.uint64_t(op)))
}

// ClearOptions is SSL_CTX_clear_options: it removes the bits and returns the new set.
func (c *SSLCtx) ClearOptions(op uint64) uint64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return uint64(C.nt_ctx_clear_options(c.p, C.uint64_t(op)))
}

// Options is SSL_CTX_get_options.
func (c *SSLCtx) Options() uint64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return uint64(C.nt_ctx_get_options(c.p))
}

// SetMode is SSL_CTX_set_mode: it adds the bits and returns the new mode.
func (c *SSLCtx) SetMode(m int64) int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_set_mode(c.p, C.long(m)))
}

// ClearMode is SSL_CTX_clear_mode: it removes the bits and returns the new mode.
func (c *SSLCtx) ClearMode(m int64) int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_clear_mode(c.p, C.long(m)))
}

// Mode is SSL_CTX_get_mode.
func (c *SSLCtx) Mode() int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_get_mode(c.p))
}

// SetSessionIDContext is SSL_CTX_set_session_id_context; OpenSSL refuses more
// than 32 bytes ("ssl session id context too long").
func (c *SSLCtx) SetSessionIDContext(b []byte) error {
	if len(b) > maxCString {
		return NewError("SSL_CTX_set_session_id_context", "nodetls", "input too large")
	}
	err := c.ctxCall("SSL_CTX_set_session_id_context", func(p *C.SSL_CTX) C.nt_result {
		return C.nt_ctx_set_session_id_context(p, cBytes(b), C.int(len(b)))
	})
	return err
}

// SetTimeout is SSL_CTX_set_timeout in seconds; it returns the previous value.
func (c *SSLCtx) SetTimeout(seconds int64) int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_set_timeout(c.p, C.long(seconds)))
}

// Timeout is SSL_CTX_get_timeout in seconds (7200 for a new TLS_method
// context on OpenSSL 3.0).
func (c *SSLCtx) Timeout() int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_get_timeout(c.p))
}

// SetSessionCacheMode is SSL_CTX_set_session_cache_mode; it returns the previous mode.
func (c *SSLCtx) SetSessionCacheMode(m int64) int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_set_session_cache_mode(c.p, C.long(m)))
}

// SessionCacheMode is SSL_CTX_get_session_cache_mode (OpenSSL's default is SSL_SESS_CACHE_SERVER).
func (c *SSLCtx) SessionCacheMode() int64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int64(C.nt_ctx_get_session_cache_mode(c.p))
}

// UseCertificate is SSL_CTX_use_certificate: the certificate goes into the slot
// of its key type, which becomes the current slot. The context takes its own
// reference; the caller keeps x. OpenSSL's security checks apply ("ee key too
// small", "ee md too weak").
func (c *SSLCtx) UseCertificate(x *X509) error {
	const op = "SSL_CTX_use_certificate"
	if x == nil || x.p == nil {
		return NewError(op, "nodetls", "no certificate")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_use_certificate(p, x.p) })
	runtime.KeepAlive(x)
	return err
}

// ClearChainCerts is SSL_CTX_clear_chain_certs for the current slot.
func (c *SSLCtx) ClearChainCerts() error {
	return c.ctxCall("SSL_CTX_clear_chain_certs", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_clear_chain_certs(p) })
}

// AddChainCert is SSL_CTX_add1_chain_cert: an extra chain certificate for the
// current slot. The context takes its own reference. OpenSSL's security checks
// apply ("ca key too small", "ca md too weak").
func (c *SSLCtx) AddChainCert(x *X509) error {
	const op = "SSL_CTX_add1_chain_cert"
	if x == nil || x.p == nil {
		return NewError(op, "nodetls", "no certificate")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_add_chain_cert(p, x.p) })
	runtime.KeepAlive(x)
	return err
}

// UsePrivateKey is SSL_CTX_use_PrivateKey: the key goes into the slot of its
// type; when that slot has a certificate the two must match ("key values
// mismatch"). The context takes its own reference; the caller keeps k.
func (c *SSLCtx) UsePrivateKey(k *PKey) error {
	const op = "SSL_CTX_use_PrivateKey"
	if k == nil || k.p == nil {
		return NewError(op, "nodetls", "no private key")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_use_private_key(p, k.p) })
	runtime.KeepAlive(k)
	return err
}

// CheckPrivateKey is SSL_CTX_check_private_key for the current slot.
func (c *SSLCtx) CheckPrivateKey() error {
	return c.ctxCall("SSL_CTX_check_private_key", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_check_private_key(p) })
}

// NewCertStore replaces the context's trust store with a fresh, empty
// X509_STORE (dropping every certificate and CRL of the old one) and empties the
// client CA list.
func (c *SSLCtx) NewCertStore() error {
	return c.ctxCall("X509_STORE_new", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_new_cert_store(p) })
}

// StoreAddCert is X509_STORE_add_cert on the context's trust store; the store
// takes its own reference. A certificate already present is not an error.
func (c *SSLCtx) StoreAddCert(x *X509) error {
	const op = "X509_STORE_add_cert"
	if x == nil || x.p == nil {
		return NewError(op, "nodetls", "no certificate")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_store_add_cert(p, x.p) })
	runtime.KeepAlive(x)
	return err
}

// AddClientCA is SSL_CTX_add_client_CA: the certificate's subject joins the CA
// names a server sends in its certificate request (OpenSSL copies the name).
func (c *SSLCtx) AddClientCA(x *X509) error {
	const op = "SSL_CTX_add_client_CA"
	if x == nil || x.p == nil {
		return NewError(op, "nodetls", "no certificate")
	}
	err := c.ctxCall(op, func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_add_client_ca(p, x.p) })
	runtime.KeepAlive(x)
	return err
}

// SetDefaultVerifyPaths is SSL_CTX_set_default_verify_paths: the system's
// default CA file and directory join the trust store (loaded lazily).
func (c *SSLCtx) SetDefaultVerifyPaths() error {
	return c.ctxCall("SSL_CTX_set_default_verify_paths", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_default_verify_paths(p) })
}

// AddCRLsPEM reads every X509 CRL block of a PEM text into the context's trust
// store and returns how many were added. Text without any CRL fails with
// OpenSSL's "no start line". It does not set the CRL-checking flags.
func (c *SSLCtx) AddCRLsPEM(pem []byte) (int, error) {
	const op = "PEM_read_bio_X509_CRL"
	if len(pem) > maxCString {
		return 0, NewError(op, "nodetls", "input too large")
	}
	if err := c.check(op); err != nil {
		return 0, err
	}
	n, _, err := result(op, C.nt_ctx_add_crls_pem(c.p, cChars(pem), C.int(len(pem))))
	runtime.KeepAlive(c)
	runtime.KeepAlive(pem)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// SetVerifyFlags adds X509_V_FLAG_* bits to the context's verification
// parameters (SSL_CTX_get0_param), which every SSL inherits. They stay in
// force when the trust store is replaced.
func (c *SSLCtx) SetVerifyFlags(f uint64) error {
	return c.ctxCall("X509_VERIFY_PARAM_set_flags", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_set_verify_flags(p, C.ulong(f)) })
}

// ClearVerifyFlags removes X509_V_FLAG_* bits from the context's verification parameters.
func (c *SSLCtx) ClearVerifyFlags(f uint64) error {
	return c.ctxCall("X509_VERIFY_PARAM_clear_flags", func(p *C.SSL_CTX) C.nt_result { return C.nt_ctx_clear_verify_flags(p, C.ulong(f)) })
}

// VerifyFlags reports the X509_V_FLAG_* bits of the context's verification parameters.
func (c *SSLCtx) VerifyFlags() uint64 {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return uint64(C.nt_ctx_get_verify_flags(c.p))
}

// SetVerifyDepth is SSL_CTX_set_verify_depth (a negative depth means OpenSSL's default limit).
func (c *SSLCtx) SetVerifyDepth(d int) error {
	if err := c.check("SSL_CTX_set_verify_depth"); err != nil {
		return err
	}
	C.nt_ctx_set_verify_depth(c.p, C.int(d))
	runtime.KeepAlive(c)
	return nil
}

// VerifyDepth is SSL_CTX_get_verify_depth (-1 when none was set).
func (c *SSLCtx) VerifyDepth() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_get_verify_depth(c.p))
}

// StoreCertCount counts the certificates in the context's trust store (those
// loaded lazily from the default verify paths are not counted until used).
func (c *SSLCtx) StoreCertCount() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_store_cert_count(c.p))
}

// ClientCACount is the length of the context's client CA name list.
func (c *SSLCtx) ClientCACount() int {
	if c.check("") != nil {
		return 0
	}
	defer runtime.KeepAlive(c)
	return int(C.nt_ctx_client_ca_count(c.p))
}

// KeyTypes names the key types ("RSA", "EC", "ED25519", ...) of the certificate
// slots that hold both a certificate and a private key, in OpenSSL's slot order.
func (c *SSLCtx) KeyTypes() []string {
	if c.check("") != nil {
		return nil
	}
	defer runtime.KeepAlive(c)
	cs := C.nt_ctx_key_types(c.p)
	if cs == nil {
		return nil
	}
	s := C.GoString(cs)
	C.free(unsafe.Pointer(cs))
	if s == "" {
		return nil
	}
	return strings.Split(s, ":")
}

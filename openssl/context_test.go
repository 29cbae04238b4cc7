package openssl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestContext(t *testing.T, opts ContextOptions) *Context {
	t.Helper()
	c, err := NewContext(opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// assertSameError checks that err is an *Error that says what Node's
// tls.createSecureContext (on OpenSSL 3.0) said for the same input: OpenSSL's
// one-line text when Node showed it, otherwise the reason text.
func assertSameError(t *testing.T, err error, node nodeResult) {
	t.Helper()
	require.False(t, node.OK, "the oracle accepted the input")
	var oe *Error
	require.ErrorAs(t, err, &oe, "got %v", err)
	if strings.HasPrefix(node.Message, "error:") {
		assert.Equal(t, node.Message, oe.Text())
		assert.Equal(t, node.Reason, oe.Reason)
		assert.Equal(t, node.Library, oe.Library)
		assert.True(t, errors.Is(err, &Error{Reason: node.Reason}))
		return
	}
	assert.Equal(t, node.Message, oe.Reason)
}

// assertSameAsCLI checks that err carries the first error the openssl CLI
// printed for the same input (code, library and reason).
func assertSameAsCLI(t *testing.T, err error, stderr string) {
	t.Helper()
	entries := cliErrorEntries(stderr)
	require.NotEmpty(t, entries, "the CLI printed no error queue: %s", stderr)
	var oe *Error
	require.ErrorAs(t, err, &oe, "got %v", err)
	assert.Equal(t, entries[0].Code, fmt.Sprintf("%08X", oe.Code), "code of %v", oe)
	assert.Equal(t, entries[0].Library, oe.Library)
	assert.Equal(t, entries[0].Reason, oe.Reason)
}

// TestContextLoadErrors: every way loading keys and certificates can fail
// reports OpenSSL's reason, as Node on the same OpenSSL reports it.
func TestContextLoadErrors(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	p.selfSigned("other", "rsa:2048")
	p.selfSigned("small", "rsa:1024")
	p.encryptKey("rsa", "secret")
	p.selfSigned("root", "rsa:2048")
	p.issued("int", "root", "sha1", true)
	p.issued("leaf", "int", "sha256", false)
	p.write("chain.pem", append(p.read("leaf.pem"), p.read("int.pem")...))
	p.write("garbage", []byte("garbage\n"))
	p.write("empty", nil)
	p.pkcs12("rsa.p12", "rsa", "", "pw", false)
	p.pkcs12("nokey.p12", "rsa", "", "pw", true)
	p.dhParams("dh512.pem", "DH", "dh_paramgen_prime_len:512")

	tests := []struct {
		name string
		node map[string]string // the same input for tls.createSecureContext
		opts ContextOptions
	}{
		{"garbage cert", map[string]string{"cert": "garbage", "key": "rsa.key"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("garbage"), KeyPEM: p.read("rsa.key")}}}},
		{"garbage key", map[string]string{"cert": "rsa.pem", "key": "garbage"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("garbage")}}}},
		{"cert as key", map[string]string{"cert": "rsa.pem", "key": "rsa.pem"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("rsa.pem")}}}},
		{"wrong passphrase", map[string]string{"cert": "rsa.pem", "key": "rsa.enc.key", "passphrase": "wrong"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("rsa.enc.key"), Passphrase: "wrong"}}}},
		{"missing passphrase", map[string]string{"cert": "rsa.pem", "key": "rsa.enc.key"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("rsa.enc.key")}}}},
		{"mismatched key", map[string]string{"cert": "rsa.pem", "key": "other.key"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("other.key")}}}},
		{"RSA-1024 at level 2", map[string]string{"cert": "small.pem", "key": "small.key", "ciphers": "DEFAULT:@SECLEVEL=2"},
			ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=2"), KeyPairs: []KeyPair{{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}}}},
		{"SHA-1 intermediate at level 2", map[string]string{"cert": "chain.pem", "key": "leaf.key", "ciphers": "DEFAULT:@SECLEVEL=2"},
			ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=2"), KeyPairs: []KeyPair{{CertPEM: p.read("chain.pem"), KeyPEM: p.read("leaf.key")}}}},
		{"SHA-1 intermediate at level 1", map[string]string{"cert": "chain.pem", "key": "leaf.key", "ciphers": "DEFAULT:@SECLEVEL=1"},
			ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=1"), KeyPairs: []KeyPair{{CertPEM: p.read("chain.pem"), KeyPEM: p.read("leaf.key")}}}},
		{"PFX wrong password", map[string]string{"pfx": "rsa.p12", "passphrase": "wrong"},
			ContextOptions{PFX: []PFXData{{Data: p.read("rsa.p12"), Passphrase: "wrong"}}}},
		{"PFX missing password", map[string]string{"pfx": "rsa.p12"},
			ContextOptions{PFX: []PFXData{{Data: p.read("rsa.p12")}}}},
		{"PFX garbage", map[string]string{"pfx": "garbage"},
			ContextOptions{PFX: []PFXData{{Data: p.read("garbage")}}}},
		{"DH 512", map[string]string{"dhparam": "dh512.pem"},
			ContextOptions{DHParams: p.read("dh512.pem")}},
		{"cipher string matching nothing", map[string]string{"ciphers": "nope"},
			ContextOptions{CipherList: String("nope")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := nodeCreateSecureContext(t, p.dir, tt.node)
			var c *Context
			var err error
			require.NotPanics(t, func() { c, err = NewContext(tt.opts) })
			assert.Nil(t, c)
			assertSameError(t, err, node)
		})
	}

	t.Run("PFX without key", func(t *testing.T) {
		node := nodeCreateSecureContext(t, p.dir, map[string]string{"pfx": "nokey.p12", "passphrase": "pw"})
		require.False(t, node.OK, "Node refuses a PFX without a key")
		_, err := NewContext(ContextOptions{PFX: []PFXData{{Data: p.read("nokey.p12"), Passphrase: "pw"}}})
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "no private key in PKCS#12 data", oe.Reason)
	})

	t.Run("empty key and cert", func(t *testing.T) {
		_, err := NewContext(ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem")}}})
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "no private key", oe.Reason)
		_, err = NewContext(ContextOptions{KeyPairs: []KeyPair{{KeyPEM: p.read("rsa.key")}}})
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "no certificate", oe.Reason)
	})

	t.Run("key of another type", func(t *testing.T) {
		// Node accepts an RSA certificate with an EC key (the key lands in
		// another slot and the context cannot serve); s_server refuses the
		// pair. We refuse it with X509_check_private_key's queue.
		p.ecSelfSigned("ec")
		_, ok := sServerResult(t, p.dir, "-cert", "rsa.pem", "-key", "ec.key")
		require.False(t, ok, "s_server refuses the pair")
		_, err := NewContext(ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("ec.key")}}})
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "X509_check_private_key", oe.Op)
		assert.True(t, errors.Is(err, &Error{Library: "x509 certificate routines", Reason: "key type mismatch"}), "got %v", oe.Queue)
	})
}

// TestLoadErrorsMatchSServer: the same load errors as openssl s_server prints them.
func TestLoadErrorsMatchSServer(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	p.selfSigned("small", "rsa:1024")
	p.selfSigned("root", "rsa:2048")
	p.issued("int", "root", "sha1", true)
	p.issued("leaf", "int", "sha256", false)

	tests := []struct {
		name   string
		server []string
		opts   ContextOptions
	}{
		{"RSA-1024 at the system's default level", []string{"-cert", "small.pem", "-key", "small.key"},
			ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}}}},
		{"SHA-1 chain cert at level 2", []string{"-cert", "leaf.pem", "-key", "leaf.key", "-cert_chain", "int.pem", "-cipher", "DEFAULT:@SECLEVEL=2"},
			ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=2"), KeyPairs: []KeyPair{{CertPEM: append(p.read("leaf.pem"), p.read("int.pem")...), KeyPEM: p.read("leaf.key")}}}},
		{"mismatched key", []string{"-cert", "rsa.pem", "-key", "small.key", "-cipher", "DEFAULT:@SECLEVEL=0"},
			ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=0"), KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("small.key")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr, ok := sServerResult(t, p.dir, tt.server...)
			require.False(t, ok, "s_server started: %s", stderr)
			_, err := NewContext(tt.opts)
			assertSameAsCLI(t, err, stderr)
		})
	}
}

// TestSecLevelInCipherStringLetsSmallKeyLoad: "@SECLEVEL=n" applies to the key
// and certificate loaded after it, through the options and one by one.
func TestSecLevelInCipherStringLetsSmallKeyLoad(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("small", "rsa:1024")
	for _, level := range []int{0, 1} {
		cipher := "DEFAULT:@SECLEVEL=" + strconv.Itoa(level)
		t.Run(cipher, func(t *testing.T) {
			node := nodeCreateSecureContext(t, p.dir, map[string]string{"cert": "small.pem", "key": "small.key", "ciphers": cipher})
			require.True(t, node.OK, "Node loads it: %+v", node)

			c := newTestContext(t, ContextOptions{
				CipherList: String(cipher),
				KeyPairs:   []KeyPair{{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}},
			})
			assert.Equal(t, level, c.SecurityLevel())
			assert.Equal(t, []string{"RSA"}, c.KeyTypes())

			one := newTestContext(t, ContextOptions{})
			require.NoError(t, one.SetCipherList(cipher))
			require.NoError(t, one.AddKeyPair(KeyPair{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}))
			assert.Equal(t, level, one.SecurityLevel())
		})
	}
	t.Run("explicit SecurityLevel overrides the cipher string", func(t *testing.T) {
		_, err := NewContext(ContextOptions{
			CipherList:    String("DEFAULT:@SECLEVEL=0"),
			SecurityLevel: Int(2),
			KeyPairs:      []KeyPair{{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}},
		})
		assert.True(t, errors.Is(err, &Error{Reason: "ee key too small"}), "got %v", err)
		c := newTestContext(t, ContextOptions{
			SecurityLevel: Int(1),
			KeyPairs:      []KeyPair{{CertPEM: p.read("small.pem"), KeyPEM: p.read("small.key")}},
		})
		assert.Equal(t, 1, c.SecurityLevel())
	})
}

func TestRSAAndECDSAPairsSideBySide(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	p.ecSelfSigned("ec")
	p.selfSigned("root", "rsa:2048")
	p.issued("leaf", "root", "sha256", false)

	c := newTestContext(t, ContextOptions{KeyPairs: []KeyPair{
		{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("rsa.key")},
		{CertPEM: p.read("ec.pem"), KeyPEM: p.read("ec.key")},
	}})
	assert.Equal(t, []string{"RSA", "EC"}, c.KeyTypes())

	// A later RSA pair (with a chain) replaces the RSA slot only.
	require.NoError(t, c.AddKeyPair(KeyPair{CertPEM: append(p.read("leaf.pem"), p.read("root.pem")...), KeyPEM: p.read("leaf.key")}))
	assert.Equal(t, []string{"RSA", "EC"}, c.KeyTypes())

	// Parsed objects work the same; the caller keeps its references.
	certs, err := ParseCertificatesPEM(p.read("ec.pem"))
	require.NoError(t, err)
	key, err := ParsePrivateKeyPEM(p.read("ec.key"), nil)
	require.NoError(t, err)
	only := newTestContext(t, ContextOptions{KeyPairs: []KeyPair{{Certs: certs, Key: key}}})
	assert.Equal(t, []string{"EC"}, only.KeyTypes())
	freeCertificates(certs)
	key.Free()
	assert.Equal(t, []string{"EC"}, only.KeyTypes(), "the context keeps its own references")
}

// opensslCiphers is the oracle for cipher lists: `openssl ciphers` prints
// SSL_get_ciphers of a context with the same strings, colon-separated.
func ctxOpensslCiphers(t *testing.T, suites *string, list *string) []string {
	t.Helper()
	var args []string
	args = append(args, "ciphers")
	if suites != nil {
		args = append(args, "-ciphersuites", *suites)
	}
	if list != nil {
		args = append(args, *list)
	}
	out := strings.TrimSpace(cli(t, t.TempDir(), args...))
	if out == "" {
		return nil
	}
	return strings.Split(out, ":")
}

func TestCipherListsMatchOpenSSLCiphers(t *testing.T) {
	base := newTestContext(t, ContextOptions{})
	defaultLevel := base.SecurityLevel()
	tests := []struct {
		name   string
		list   *string
		suites *string
		level  int
	}{
		{"defaults", nil, nil, defaultLevel},
		{"DEFAULT at level 1", String("DEFAULT:@SECLEVEL=1"), nil, 1},
		{"ALL at level 0", String("ALL:@SECLEVEL=0"), nil, 0},
		{"HIGH without aNULL", String("HIGH:!aNULL:!kRSA"), nil, defaultLevel},
		{"explicit names", String("ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA"), nil, defaultLevel},
		{"level 3", String("ECDHE+AESGCM:@SECLEVEL=3"), nil, 3},
		{"one TLS 1.3 suite", nil, String("TLS_AES_128_GCM_SHA256"), defaultLevel},
		{"TLS 1.3 suites off", String("ECDHE+AESGCM"), String(""), defaultLevel},
		{"both", String("ECDHE-ECDSA-AES256-GCM-SHA384"), String("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"), defaultLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestContext(t, ContextOptions{CipherList: tt.list, Ciphersuites: tt.suites})
			assert.Equal(t, ctxOpensslCiphers(t, tt.suites, tt.list), c.CipherNames())
			assert.Equal(t, tt.level, c.SecurityLevel())

			// The same through the methods, one by one.
			one := newTestContext(t, ContextOptions{})
			if tt.list != nil {
				require.NoError(t, one.SetCipherList(*tt.list))
			}
			if tt.suites != nil {
				require.NoError(t, one.SetCiphersuites(*tt.suites))
			}
			assert.Equal(t, c.CipherNames(), one.CipherNames())
			assert.Equal(t, tt.level, one.SecurityLevel())
		})
	}
}

func TestCipherErrorsMatchOpenSSLCiphers(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cli  []string
		set  func(c *Context) error
	}{
		{"cipher list", []string{"ciphers", "nope"}, func(c *Context) error { return c.SetCipherList("nope") }},
		{"empty cipher list", []string{"ciphers", ""}, func(c *Context) error { return c.SetCipherList("") }},
		{"TLS 1.3 names in the cipher list", []string{"ciphers", "TLS_AES_128_GCM_SHA256"}, func(c *Context) error { return c.SetCipherList("TLS_AES_128_GCM_SHA256") }},
		{"ciphersuites", []string{"ciphers", "-ciphersuites", "nope"}, func(c *Context) error { return c.SetCiphersuites("nope") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, ok := cliResult(t, dir, tt.cli...)
			require.False(t, ok, "openssl ciphers accepted it")
			c := newTestContext(t, ContextOptions{})
			assertSameAsCLI(t, tt.set(c), stderr)
		})
	}
	t.Run("a failed cipher list leaves only TLS 1.3 suites", func(t *testing.T) {
		c := newTestContext(t, ContextOptions{})
		require.Error(t, c.SetCipherList("nope"))
		var tls13 []string
		for _, n := range ctxOpensslCiphers(t, nil, nil) {
			if strings.HasPrefix(n, "TLS_") {
				tls13 = append(tls13, n)
			}
		}
		require.NotEmpty(t, tls13)
		assert.Equal(t, tls13, c.CipherNames(), "OpenSSL replaced the list before reporting no cipher match")
	})
}

func TestSecurityLevelGetSet(t *testing.T) {
	c := newTestContext(t, ContextOptions{})
	for n := 0; n <= 5; n++ {
		require.NoError(t, c.SetSecurityLevel(n))
		assert.Equal(t, n, c.SecurityLevel())
	}
	for _, n := range []int{-1, 6} {
		err := c.SetSecurityLevel(n)
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Contains(t, oe.Reason, "outside 0 to 5")
	}
	_, err := NewContext(ContextOptions{SecurityLevel: Int(9)})
	assert.Error(t, err)
}

func TestGroups(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	for _, g := range []string{"X25519:P-256", "P-521:P-384:P-256", "ffdhe2048:X448", "auto", ""} {
		t.Run("ok "+g, func(t *testing.T) {
			c := newTestContext(t, ContextOptions{Groups: g})
			require.NoError(t, c.SetGroups(g))
		})
	}
	for _, g := range []string{"nope", "X25519:nope", "wap-wsg-idm-ecid-wtls1"} {
		t.Run("bad "+g, func(t *testing.T) {
			stderr, ok := sServerResult(t, p.dir, "-cert", "rsa.pem", "-key", "rsa.key", "-groups", g)
			require.False(t, ok)
			_, err := NewContext(ContextOptions{Groups: g})
			assertSameAsCLI(t, err, stderr)
			c := newTestContext(t, ContextOptions{})
			assertSameAsCLI(t, c.SetGroups(g), stderr)
		})
	}
}

func TestSigalgs(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	for _, s := range []string{"ECDSA+SHA256:RSA-PSS+SHA256", "rsa_pss_rsae_sha256:ed25519", "RSA+SHA256"} {
		t.Run("ok "+s, func(t *testing.T) {
			c := newTestContext(t, ContextOptions{Sigalgs: s})
			require.NoError(t, c.SetSigalgs(s))
		})
	}
	for _, s := range []string{"nope", "RSA+NOPE", "ECDSA+SHA256:"} {
		t.Run("bad "+s, func(t *testing.T) {
			_, ok := sServerResult(t, p.dir, "-cert", "rsa.pem", "-key", "rsa.key", "-sigalgs", s)
			require.False(t, ok, "s_server refuses it too")
			_, err := NewContext(ContextOptions{Sigalgs: s})
			var oe *Error
			require.ErrorAs(t, err, &oe)
			// OpenSSL 3.0 leaves no queue entry for a bad list (Node shows
			// "error:00000000:lib(0)::reason(0)"); the bridge names the failure.
			assert.Equal(t, "invalid signature algorithm list", oe.Reason)
			assert.Zero(t, oe.Code)
		})
	}
}

// nodeConstants are crypto.constants of Node on OpenSSL 3.0, the oracle for
// the SSL_OP_* values.
func nodeConstants(t *testing.T) map[string]uint64 {
	t.Helper()
	requireTool(t, "node")
	out, err := exec.Command("node", "-p", `JSON.stringify(require('crypto').constants)`).Output()
	require.NoError(t, err)
	m := map[string]uint64{}
	for _, kv := range strings.Split(strings.Trim(strings.TrimSpace(string(out)), "{}"), ",") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			m[strings.Trim(k, `"`)] = n
		}
	}
	return m
}

func TestOptionsRoundTrip(t *testing.T) {
	nc := nodeConstants(t)
	for name, v := range map[string]uint64{
		"SSL_OP_NO_TICKET":                         OpNoTicket,
		"SSL_OP_CIPHER_SERVER_PREFERENCE":          OpCipherServerPreference,
		"SSL_OP_NO_RENEGOTIATION":                  OpNoRenegotiation,
		"SSL_OP_NO_TLSv1":                          OpNoTLSv1,
		"SSL_OP_NO_TLSv1_1":                        OpNoTLSv1_1,
		"SSL_OP_NO_TLSv1_2":                        OpNoTLSv1_2,
		"SSL_OP_NO_TLSv1_3":                        OpNoTLSv1_3,
		"SSL_OP_NO_SSLv3":                          OpNoSSLv3,
		"SSL_OP_NO_SSLv2":                          OpNoSSLv2,
		"SSL_OP_NO_COMPRESSION":                    OpNoCompression,
		"SSL_OP_ALL":                               OpAll,
		"SSL_OP_PRIORITIZE_CHACHA":                 OpPrioritizeChaCha,
		"SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION": OpAllowUnsafeLegacyRenegotiation,
		"SSL_OP_LEGACY_SERVER_CONNECT":             OpLegacyServerConnect,
		"SSL_OP_NO_QUERY_MTU":                      OpNoQueryMTU,
		"SSL_OP_ALLOW_NO_DHE_KEX":                  OpAllowNoDHEKex,
	} {
		want, ok := nc[name]
		require.True(t, ok, "Node has %s", name)
		assert.Equal(t, want, v, name)
	}

	c := newTestContext(t, ContextOptions{})
	def := c.Options()
	bits := OpNoTicket | OpCipherServerPreference | OpAllowClientRenegotiation | OpNoRenegotiation | OpNoTLSv1 | OpNoTLSv1_1
	assert.Equal(t, def|bits, c.SetOptions(bits))
	assert.Equal(t, def|bits, c.Options())
	assert.Equal(t, def, c.ClearOptions(bits))
	assert.Equal(t, def, c.Options())
	if def&OpNoCompression != 0 {
		assert.Equal(t, def&^OpNoCompression, c.ClearOptions(OpNoCompression))
	}

	o := newTestContext(t, ContextOptions{Options: OpNoTicket | OpNoTLSv1_3, ClearOptions: OpEnableMiddleboxCompat})
	assert.Equal(t, (def|OpNoTicket|OpNoTLSv1_3)&^OpEnableMiddleboxCompat, o.Options())

	m := newTestContext(t, ContextOptions{Mode: ModeNoAutoChain | ModeReleaseBuffers})
	assert.Equal(t, ModeNoAutoChain|ModeReleaseBuffers, m.Mode()&(ModeNoAutoChain|ModeReleaseBuffers))
	assert.Zero(t, m.ClearMode(ModeNoAutoChain)&ModeNoAutoChain)
	assert.Zero(t, m.Mode()&ModeNoAutoChain)
}

func TestProtocolBounds(t *testing.T) {
	c := newTestContext(t, ContextOptions{MinVersion: TLS1_2, MaxVersion: TLS1_3})
	assert.Equal(t, TLS1_2, c.MinVersion())
	assert.Equal(t, TLS1_3, c.MaxVersion())
	require.NoError(t, c.SetMinVersion(TLS1))
	require.NoError(t, c.SetMaxVersion(0))
	assert.Equal(t, TLS1, c.MinVersion())
	assert.Equal(t, ProtocolVersion(0), c.MaxVersion())
	for _, v := range []ProtocolVersion{0x0999, 0x0200, -1} {
		var oe *Error
		require.ErrorAs(t, c.SetMinVersion(v), &oe)
		assert.Contains(t, oe.Reason, "unknown protocol version")
	}
	_, err := NewContext(ContextOptions{MaxVersion: 0x0305})
	assert.Error(t, err)
}

// TestSessionTimeout: the default is OpenSSL's own (the oracle: the lifetime a
// stock openssl s_server gives its sessions), and set values round-trip.
func TestSessionTimeout(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	want := sServerSessionTimeout(t, p)

	c := newTestContext(t, ContextOptions{})
	assert.Equal(t, want, c.SessionTimeout(), "OpenSSL's default")
	require.NoError(t, c.SetSessionTimeout(42*time.Second))
	assert.Equal(t, 42*time.Second, c.SessionTimeout())
	require.NoError(t, c.SetSessionTimeout(0))
	assert.Equal(t, time.Duration(0), c.SessionTimeout())

	o := newTestContext(t, ContextOptions{SessionTimeout: 10 * time.Minute})
	assert.Equal(t, 10*time.Minute, o.SessionTimeout())

	for _, d := range []time.Duration{-time.Second, 1500 * time.Millisecond, (1 << 31) * time.Second} {
		var oe *Error
		require.ErrorAs(t, c.SetSessionTimeout(d), &oe, "%v", d)
		assert.Contains(t, oe.Reason, "whole number of seconds")
	}
	assert.Equal(t, time.Duration(0), c.SessionTimeout(), "a refused value changes nothing")
}

// sServerSessionTimeout asks a stock s_server for a session and reads its
// timeout with `openssl sess_id` (TLS 1.3 carries the server's lifetime).
func sServerSessionTimeout(t *testing.T, p *pki) time.Duration {
	t.Helper()
	requireTool(t, "openssl")
	srv := exec.Command("openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-cert", "rsa.pem", "-key", "rsa.key", "-www")
	srv.Dir = p.dir
	out, err := srv.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	port := ""
	sc := bufio.NewScanner(out)
	for port == "" && sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "ACCEPT ") {
			port = line[strings.LastIndex(line, ":")+1:]
		}
	}
	require.NotEmpty(t, port, "s_server did not say where it listens")
	go func() { _, _ = io.Copy(io.Discard, out) }()

	// The request makes -www answer and close, so s_client ends after the
	// session ticket arrived.
	cl := exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+port, "-sess_out", "sess.pem", "-ign_eof")
	cl.Dir = p.dir
	cl.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
	clOut, err := cl.CombinedOutput()
	require.NoError(t, err, "%s", clOut)
	text := cli(t, p.dir, "sess_id", "-in", "sess.pem", "-noout", "-text")
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "Timeout" && f[1] == ":" {
			n, err := strconv.Atoi(f[2])
			require.NoError(t, err, line)
			return time.Duration(n) * time.Second
		}
	}
	t.Fatalf("no Timeout in sess_id output: %s", text)
	return 0
}

func TestSessionSettings(t *testing.T) {
	c := newTestContext(t, ContextOptions{
		SessionIDContext: []byte("0123456789abcdef0123456789abcdef"),
		SessionCacheMode: func() *SessionCacheMode { m := SessCacheBoth | SessCacheNoInternal; return &m }(),
	})
	assert.Equal(t, SessCacheBoth|SessCacheNoInternal, c.SessionCacheMode())
	require.NoError(t, c.SetSessionCacheMode(SessCacheOff))
	assert.Equal(t, SessCacheOff, c.SessionCacheMode())

	var oe *Error
	require.ErrorAs(t, c.SetSessionIDContext(make([]byte, 33)), &oe)
	assert.Equal(t, "ssl session id context too long", oe.Reason)
	assert.Equal(t, "SSL routines", oe.Library)
}

func TestCAFromBundle(t *testing.T) {
	p := newPKI(t)
	var bundle []byte
	for _, n := range []string{"ca1", "ca2", "ca3"} {
		p.selfSigned(n, "rsa:2048")
		bundle = append(bundle, p.read(n+".pem")...)
	}
	bundle = append([]byte("a comment before the first block\n"), bundle...)

	fresh := newTestContext(t, ContextOptions{})
	assert.Equal(t, 0, fresh.TrustedCertCount())

	c := newTestContext(t, ContextOptions{CA: bundle})
	assert.Equal(t, 3, c.TrustedCertCount())
	assert.Equal(t, 3, c.ClientCACount())

	// SetCA replaces; AddCACertificate adds.
	require.NoError(t, c.SetCA(p.read("ca1.pem")))
	assert.Equal(t, 1, c.TrustedCertCount())
	assert.Equal(t, 1, c.ClientCACount())
	certs, err := ParseCertificatesPEM(p.read("ca2.pem"))
	require.NoError(t, err)
	require.NoError(t, c.AddCACertificate(certs[0]))
	freeCertificates(certs)
	assert.Equal(t, 2, c.TrustedCertCount())

	// The same certificate twice is fine.
	require.NoError(t, c.SetCA(append(p.read("ca1.pem"), p.read("ca1.pem")...)))
	assert.Equal(t, 1, c.TrustedCertCount())

	var oe *Error
	_, err = NewContext(ContextOptions{CA: []byte("garbage")})
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "no start line", oe.Reason)

	sys := newTestContext(t, ContextOptions{SystemCA: true})
	require.NoError(t, sys.UseSystemCA())
}

// TestSystemCAStoreShared: contexts that trust the system's CAs and nothing
// else share one trust store, loaded once per process as Node's root store
// is (parsing Debian's CA file takes about 20 ms, and tls.Connect makes a
// context for every connection); a CA or CRL added to one of them makes that
// context's store its own, and the others do not see it.
func TestSystemCAStoreShared(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("ca", "rsa:2048")
	warm := newTestContext(t, ContextOptions{SystemCA: true})
	system := warm.TrustedCertCount()

	before := settledLiveObjects()
	ctxs := make([]*Context, 20)
	for i := range ctxs {
		c, err := NewContext(ContextOptions{SystemCA: true})
		require.NoError(t, err)
		ctxs[i] = c
	}
	loaded := settledLiveObjects()
	assert.Equal(t, before.X509Store, loaded.X509Store, "20 contexts on the system's CAs hold no store of their own")
	assert.Equal(t, before.X509, loaded.X509, "nor copies of its certificates")
	for _, c := range ctxs {
		assert.Equal(t, system, c.TrustedCertCount())
	}

	certs, err := ParseCertificatesPEM(p.read("ca.pem"))
	require.NoError(t, err)
	require.NoError(t, ctxs[0].AddCACertificate(certs[0]))
	freeCertificates(certs)
	assert.Equal(t, system+1, ctxs[0].TrustedCertCount(), "the system's CAs and the added one")
	assert.Equal(t, system, ctxs[1].TrustedCertCount(), "the others keep the system's alone")
	assert.Equal(t, system, warm.TrustedCertCount())
	require.NoError(t, ctxs[0].UseSystemCA()) // its own store keeps what was added
	assert.Equal(t, system+1, ctxs[0].TrustedCertCount())

	// A CRL: the same (the store with the CRL keeps the system's CAs).
	p.write("ca.cnf", []byte("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=1\n"))
	p.write("index.txt", nil)
	p.write("crlnumber", []byte("01\n"))
	cli(t, p.dir, "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem")
	withCRL := settledLiveObjects()
	require.NoError(t, ctxs[2].AddCRLs(p.read("crl.pem")))
	assert.Equal(t, withCRL.X509Store+1, settledLiveObjects().X509Store, "the context with the CRL has a store of its own")
	assert.Equal(t, system, ctxs[2].TrustedCertCount())
	assert.Equal(t, system, ctxs[3].TrustedCertCount())

	// Trusting the system's CAs after a CA of one's own adds them to it.
	both, err := NewContext(ContextOptions{CA: p.read("ca.pem"), SystemCA: true})
	require.NoError(t, err)
	assert.Equal(t, system+1, both.TrustedCertCount())
	require.NoError(t, both.Close())

	for _, c := range ctxs {
		require.NoError(t, c.Close())
	}
	after := settledLiveObjects()
	assert.Equal(t, before.X509Store, after.X509Store, "X509_STORE")
	assert.Equal(t, before.X509, after.X509, "X509")
}

// TestSystemCADirectory: the system's CAs are the CA file and the hashed CA
// directory of OpenSSL's default verify paths (SSL_CERT_FILE, SSL_CERT_DIR):
// an issuer found only in the directory verifies.
func TestSystemCADirectory(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("ca", "rsa:2048")
	p.issued("leaf", "ca", "sha256", false)
	p.selfSigned("other", "rsa:2048")
	require.NoError(t, os.Mkdir(p.path("certs"), 0o755))
	p.write("certs/ca.pem", p.read("ca.pem"))
	cli(t, p.dir, "rehash", "certs")
	// The shared system store is made before the environment changes: it
	// reads it once, and later tests use it.
	newTestContext(t, ContextOptions{SystemCA: true})
	t.Setenv("SSL_CERT_FILE", p.path("other.pem"))

	srv := newTestContext(t, ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("leaf.pem"), KeyPEM: p.read("leaf.key")}}})
	for _, dir := range []string{p.path("certs"), p.path("nothing-here")} {
		t.Setenv("SSL_CERT_DIR", dir)
		// A CA of its own first, so that this context's store is its own and
		// reads the environment now (the shared store read it once).
		c := newTestContext(t, ContextOptions{CA: p.read("other.pem"), SystemCA: true})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() {
			raw, err := ln.Accept()
			if err != nil {
				errc <- err
				return
			}
			s, err := Server(raw, srv, ConnConfig{})
			if err == nil {
				err = s.Handshake(context.Background())
				s.Close()
			}
			errc <- err
		}()
		raw, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		cl, err := Client(raw, c, ConnConfig{ServerName: "leaf"})
		require.NoError(t, err)
		require.NoError(t, cl.Handshake(context.Background()))
		require.NoError(t, <-errc)
		ln.Close()
		if dir == p.path("certs") {
			assert.Equal(t, int64(0), cl.VerifyResult(), "the issuer is in the hashed directory")
		} else {
			assert.Equal(t, int64(21), cl.VerifyResult(), "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
		}
		cl.Close()
	}
}

func TestCRLAndVerifyFlags(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("ca", "rsa:2048")
	p.write("ca.cnf", []byte("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=1\n"))
	p.write("index.txt", nil)
	p.write("crlnumber", []byte("01\n"))
	cli(t, p.dir, "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem")

	c := newTestContext(t, ContextOptions{CA: p.read("ca.pem"), CRL: p.read("crl.pem"), PartialChain: true, VerifyDepth: 4})
	want := VerifyCRLCheck | VerifyCRLCheckAll | VerifyPartialChain
	assert.Equal(t, want, c.VerifyFlags()&want)
	assert.Equal(t, 4, c.VerifyDepth())
	require.NoError(t, c.SetPartialChain(false))
	assert.Zero(t, c.VerifyFlags()&VerifyPartialChain)
	assert.Equal(t, VerifyCRLCheck|VerifyCRLCheckAll, c.VerifyFlags()&want)

	fresh := newTestContext(t, ContextOptions{})
	assert.Zero(t, fresh.VerifyFlags()&want)
	assert.Equal(t, -1, fresh.VerifyDepth())

	// Junk is refused as PEM junk is everywhere (the certificate oracle of
	// TestContextLoadErrors shows OpenSSL's "no start line" for the same reader).
	_, err := NewContext(ContextOptions{CRL: []byte("garbage\n")})
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "error:0480006C:PEM routines::no start line", oe.Text())

	// A CRL in front of junk is read; a damaged second block is an error.
	_, err = NewContext(ContextOptions{CRL: append(p.read("crl.pem"), []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")...)})
	assert.Error(t, err)
}

func TestContextClose(t *testing.T) {
	before := cbridge.LiveObjects()
	c, err := NewContext(ContextOptions{})
	require.NoError(t, err)
	ref := c.Handle().Ref()
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	assert.Nil(t, c.Handle())

	var oe *Error
	require.ErrorAs(t, c.SetCipherList("DEFAULT"), &oe)
	assert.Equal(t, "context is closed", oe.Reason)
	assert.Error(t, c.AddKeyPair(KeyPair{}))
	assert.Zero(t, c.SecurityLevel())
	assert.Nil(t, c.CipherNames())

	// A reference taken before Close (as a connection holds one) still works.
	assert.NotEmpty(t, ref.CipherNames())
	assert.Equal(t, before.SSLCtx+1, cbridge.LiveObjects().SSLCtx)
	ref.Free()
	assert.Equal(t, before.SSLCtx, cbridge.LiveObjects().SSLCtx)
}

// TestContextConcurrentUse: the methods may be called from several goroutines
// (run with -race).
func TestContextConcurrentUse(t *testing.T) {
	c, err := NewContext(ContextOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_ = c.SetSecurityLevel((i + j) % 3)
				_ = c.SecurityLevel()
				_ = c.CipherNames()
				c.SetOptions(OpNoTicket)
				_ = c.SetSessionTimeout(time.Duration(j) * time.Second)
			}
		}(i)
	}
	wg.Wait()
	require.NoError(t, c.Close())
}

// settledLiveObjects reads the object counters once the cleanups of objects
// that earlier tests left to the garbage collector have run: a baseline taken
// before they run would see them freed during the measurement.
func settledLiveObjects() cbridge.ObjectCounts {
	prev := cbridge.LiveObjects()
	for range 100 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		cur := cbridge.LiveObjects()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}

// TestContextLeaks: making and closing 1000 contexts, loaded with keys, chains,
// trust, CRL-free PFX and DH, and failing ones, leaves no OpenSSL object behind.
func TestContextLeaks(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	p.ecSelfSigned("ec")
	p.selfSigned("other", "rsa:2048")
	p.selfSigned("root", "rsa:2048")
	p.issued("leaf", "root", "sha256", false)
	p.pkcs12("leaf.p12", "leaf", "root.pem", "pw", false)
	p.dhParams("ffdhe2048.pem", "DH", "group:ffdhe2048")
	chain := append(p.read("leaf.pem"), p.read("root.pem")...)
	pfx := p.read("leaf.p12")
	dh := p.read("ffdhe2048.pem")

	ok := ContextOptions{
		CipherList: String("DEFAULT:@SECLEVEL=2"),
		CA:         append(p.read("root.pem"), p.read("other.pem")...),
		KeyPairs: []KeyPair{
			{CertPEM: chain, KeyPEM: p.read("leaf.key")},
			{CertPEM: p.read("ec.pem"), KeyPEM: p.read("ec.key")},
		},
		DHParams: dh,
		Groups:   "X25519:P-256",
	}
	bad := ContextOptions{KeyPairs: []KeyPair{{CertPEM: p.read("rsa.pem"), KeyPEM: p.read("other.key")}}}
	withPFX := ContextOptions{PFX: []PFXData{{Data: pfx, Passphrase: "pw"}}, DHParams: []byte("auto")}

	// Warm up anything OpenSSL allocates once, then take the baseline.
	for _, o := range []ContextOptions{ok, bad, withPFX} {
		if c, err := NewContext(o); err == nil {
			c.Close()
		}
	}
	before := settledLiveObjects()
	for i := 0; i < 1000; i++ {
		c, err := NewContext(ok)
		require.NoError(t, err)
		require.NoError(t, c.Close())
		_, err = NewContext(bad)
		require.Error(t, err)
		if i%20 == 0 { // PBKDF2 makes PFX slow; 50 rounds are enough
			c, err := NewContext(withPFX)
			require.NoError(t, err)
			require.NoError(t, c.Close())
		}
	}
	after := settledLiveObjects()
	assert.Equal(t, before.SSLCtx, after.SSLCtx, "SSL_CTX")
	assert.Equal(t, before.X509, after.X509, "X509")
	assert.Equal(t, before.PKey, after.PKey, "EVP_PKEY")
	assert.Equal(t, before.X509Store, after.X509Store, "X509_STORE")
	assert.Equal(t, before.BIO, after.BIO, "BIO")
}

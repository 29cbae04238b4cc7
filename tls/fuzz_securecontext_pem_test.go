package tls_test

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzCreateSecureContextPEM is FuzzCreateSecureContext for the options that
// carry keys and certificates — key, cert, ca, crl, pfx (as Buffers) and
// passphrase — seeded with real material (RSA, ECDSA and Ed25519 keys and
// chains, encrypted keys, a PKCS#12 file) and broken PEM: both sides
// succeed, or both fail with the same err.code and err.message (OpenSSL's
// printed lines without thread id and file:line, parity.Normalize).
//
// An empty argument is an option left out (the Go API has no "present but
// empty"). Keys are 2048-bit RSA or elliptic curves and signatures SHA-256,
// so the security levels (Node's 1, the system's 2) decide no outcome.
func FuzzCreateSecureContextPEM(f *testing.F) {
	ca := testpki.NewCA(f, testpki.Options{})
	rsa := ca.Leaf(f, testpki.Options{}, "localhost")
	ec := ca.Intermediate(f, testpki.Options{Key: testpki.ECDSAP256}).Leaf(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	ed := testpki.SelfSigned(f, testpki.Options{Key: testpki.Ed25519}, "localhost")
	encrypted, err := rsa.Key.MarshalEncryptedPKCS8PEM([]byte("secret"))
	require.NoError(f, err)
	pfx, err := openssl.CreatePKCS12(ec.Key, ec.Cert, nil, "secret")
	require.NoError(f, err)
	traditional := traditionalEncryptedKey(f, rsa.KeyPEM, "secret")
	broken := []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	brokenCert := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	keyDER, err := rsa.Key.MarshalDER()
	require.NoError(f, err)
	certDER, err := rsa.Cert.DER()
	require.NoError(f, err)
	brokenCRL := []byte("-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n")
	type seed struct {
		key, cert, ca, crl, pfx []byte
		passphrase              string
	}
	for _, s := range []seed{
		{key: rsa.KeyPEM, cert: rsa.ChainPEM, ca: ca.CertPEM},
		{key: ec.KeyPEM, cert: ec.ChainPEM},
		{key: ed.KeyPEM, cert: ed.CertPEM, ca: ed.CertPEM},
		{key: rsa.KeyPEM, cert: ec.ChainPEM},
		{key: append(append([]byte{}, rsa.KeyPEM...), ec.KeyPEM...), cert: append(append([]byte{}, rsa.ChainPEM...), ec.ChainPEM...)},
		{key: encrypted, cert: rsa.ChainPEM, passphrase: "secret"},
		{key: encrypted, cert: rsa.ChainPEM, passphrase: "wrong"},
		{key: encrypted, cert: rsa.ChainPEM},
		{key: traditional, cert: rsa.ChainPEM, passphrase: "secret"},
		{key: traditional, cert: rsa.ChainPEM, passphrase: "wrong"},
		{pfx: pfx, passphrase: "secret"},
		{pfx: pfx, passphrase: "wrong"},
		{pfx: pfx},
		{pfx: []byte("not a pfx")},
		{key: rsa.KeyPEM},
		{cert: rsa.ChainPEM},
		{key: broken, cert: rsa.ChainPEM},
		{key: rsa.KeyPEM, cert: brokenCert},
		{ca: brokenCert},
		{ca: []byte("no PEM at all")},
		{crl: brokenCRL},
		{crl: []byte("no PEM at all"), ca: ca.CertPEM},
		{key: keyDER, cert: rsa.ChainPEM},
		{key: rsa.KeyPEM, cert: certDER},
	} {
		f.Add(s.key, s.cert, s.ca, s.crl, s.pfx, s.passphrase)
	}

	oracle := startNodeOracle(f, secureContextOracleScript)
	require.Equal(f, parity.Line{"ok": true}, oracle.ask(f, map[string]any{}))
	require.Equal(f, parity.Line{"ok": true}, goSecureContextLine(f, map[string]any{}))
	f.Fuzz(func(t *testing.T, key, cert, caPEM, crl, pfx []byte, passphrase string) {
		options := map[string]any{}
		for k, v := range map[string][]byte{"key": key, "cert": cert, "ca": caPEM, "crl": crl, "pfx": pfx} {
			if len(v) > 0 {
				options[k] = map[string]any{"$hex": hex.EncodeToString(v)}
			}
		}
		if passphrase = jsText(passphrase); passphrase != "" {
			options["passphrase"] = passphrase
		}
		want := parity.Normalize(oracle.ask(t, options))
		got := parity.Normalize(goSecureContextLine(t, options))
		assert.Equal(t, want, got, "options %v", options)
	})
}

// traditionalEncryptedKey is keyPEM as OpenSSL's traditional encrypted PEM
// ("Proc-Type: 4,ENCRYPTED", AES-128-CBC), written by the openssl command.
func traditionalEncryptedKey(t testing.TB, keyPEM []byte, passphrase string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", "rsa", "-traditional", "-aes128", "-passout", "pass:"+passphrase)
	cmd.Stdin = bytes.NewReader(keyPEM)
	out, err := cmd.Output()
	require.NoError(t, err)
	return out
}

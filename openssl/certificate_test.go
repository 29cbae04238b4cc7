package openssl

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustKey generates a key of the given kind ("rsa", "ec", "ed25519", "ed448").
func mustKey(t *testing.T, kind string) *PrivateKey {
	t.Helper()
	var k *PrivateKey
	var err error
	switch kind {
	case "rsa":
		k, err = GenerateRSAKey(2048)
	case "ec":
		k, err = GenerateECKey("P-256")
	case "ed25519":
		k, err = GenerateEd25519Key()
	case "ed448":
		k, err = GenerateEd448Key()
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	require.NoError(t, err)
	t.Cleanup(k.Free)
	return k
}

// mustCert creates a certificate and frees it at the end of the test.
func mustCert(t *testing.T, tmpl *CertificateTemplate, key *PrivateKey, issuer *Certificate, issuerKey *PrivateKey) *Certificate {
	t.Helper()
	c, err := CreateCertificate(tmpl, key, issuer, issuerKey)
	require.NoError(t, err)
	t.Cleanup(c.Free)
	return c
}

func mustPEM(t *testing.T, c *Certificate) []byte {
	t.Helper()
	b, err := c.PEM()
	require.NoError(t, err)
	return b
}

func mustDER(t *testing.T, c *Certificate) []byte {
	t.Helper()
	b, err := c.DER()
	require.NoError(t, err)
	return b
}

func TestParseCertificateForms(t *testing.T) {
	k := mustKey(t, "ec")
	c1 := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "one"}}}, k, nil, nil)
	c2 := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "two"}}}, k, nil, nil)
	pem1, pem2 := mustPEM(t, c1), mustPEM(t, c2)
	der1, der2 := mustDER(t, c1), mustDER(t, c2)

	// The PEM block as the CLI writes it, and its DER, agree with ours.
	dir := t.TempDir()
	f := writeFile(t, dir, "c.pem", pem1)
	cliDER, stderr, code := runTool(t, dir, "openssl", "x509", "-in", f, "-outform", "DER")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []byte(cliDER), der1)
	cliPEM, stderr, code := runTool(t, dir, "openssl", "x509", "-in", f)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(pem1), cliPEM)
	// TRUSTED CERTIFICATE as `openssl x509 -trustout` writes it.
	trusted, stderr, code := runTool(t, dir, "openssl", "x509", "-in", f, "-trustout", "-addtrust", "serverAuth")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, trusted, "BEGIN TRUSTED CERTIFICATE")
	x509Cert := bytes.ReplaceAll(pem2, []byte(" CERTIFICATE-----"), []byte(" X509 CERTIFICATE-----"))

	cases := []struct {
		name string
		data []byte
		want [][]byte // DER of each certificate ParseCertificates returns
	}{
		{"PEM", pem1, [][]byte{der1}},
		{"DER", der1, [][]byte{der1}},
		{"DER back to back", append(append([]byte{}, der1...), der2...), [][]byte{der1, der2}},
		{"PEM bundle with text around", []byte("junk\n" + string(pem1) + "between\n" + string(pem2) + "after\n"), [][]byte{der1, der2}},
		{"TRUSTED and X509 CERTIFICATE", []byte(trusted + string(x509Cert)), [][]byte{der1, der2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCertificates(tc.data)
			require.NoError(t, err)
			defer FreeCertificates(certs)
			require.Len(t, certs, len(tc.want))
			for i, c := range certs {
				assert.Equal(t, tc.want[i], mustDER(t, c))
			}
			first, err := ParseCertificate(tc.data)
			require.NoError(t, err)
			defer first.Free()
			assert.Equal(t, tc.want[0], mustDER(t, first))
		})
	}

	_, err := ParseCertificate(nil)
	assert.Error(t, err)
	_, err = ParseCertificates(nil)
	assert.Error(t, err)
}

// TestParseCertificateErrorsMatchNode checks bad certificate input against the
// error Node's X509Certificate constructor reports (PEM, then DER, then the
// PEM error), on the same OpenSSL 3.0.
func TestParseCertificateErrorsMatchNode(t *testing.T) {
	k := mustKey(t, "ec")
	c := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "x"}}}, k, nil, nil)
	der := mustDER(t, c)
	pemText := mustPEM(t, c)
	randomBytes := make([]byte, 64)
	_, _ = rand.Read(randomBytes)
	damaged := bytes.Replace(pemText, pemText[40:60], bytes.Repeat([]byte("A"), 20), 1)
	cases := []struct {
		name string
		data []byte
	}{
		{"junk text", []byte("junk")},
		{"junk PEM block", []byte("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n")},
		{"random bytes", randomBytes},
		{"truncated DER", der[:len(der)/2]},
		{"damaged PEM", damaged},
		{"PEM without end line", pemText[:len(pemText)-30]},
	}
	dir := t.TempDir()
	var files []string
	for i, tc := range cases {
		files = append(files, writeFile(t, dir, fmt.Sprintf("c%d", i), tc.data))
	}
	var node []struct{ Message, Reason string }
	nodeJSON(t, &node, `
const { X509Certificate } = require('crypto'), fs = require('fs');
console.log(JSON.stringify(process.argv.slice(1).map((f) => {
  try { new X509Certificate(fs.readFileSync(f)); return {}; }
  catch (e) { return { Message: e.message, Reason: e.reason }; }
})));`, files...)
	require.Len(t, node, len(cases))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEmpty(t, node[i].Message, "node accepted the input")
			_, err := ParseCertificate(tc.data)
			var oe *Error
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, node[i].Message, oe.Text())
			assert.Equal(t, node[i].Reason, oe.Reason)
			certs, err := ParseCertificates(tc.data)
			assert.Nil(t, certs)
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, node[i].Reason, oe.Reason)
		})
	}
}

// TestCheckPrivateKey compares a mismatch with what `openssl s_server` reports
// when it is given a certificate and a key that do not belong together.
func TestCheckPrivateKey(t *testing.T) {
	k1, k2, ec := mustKey(t, "rsa"), mustKey(t, "rsa"), mustKey(t, "ec")
	c := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "x"}}}, k1, nil, nil)
	require.NoError(t, c.CheckPrivateKey(k1))

	err := c.CheckPrivateKey(k2)
	var oe *Error
	require.ErrorAs(t, err, &oe)

	dir := t.TempDir()
	certFile := writeFile(t, dir, "c.pem", mustPEM(t, c))
	k2PEM, err := k2.MarshalPKCS8PEM()
	require.NoError(t, err)
	keyFile := writeFile(t, dir, "k.pem", k2PEM)
	requireTool(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "openssl", "s_server", "-cert", certFile, "-key", keyFile, "-accept", "127.0.0.1:0", "-naccept", "1").CombinedOutput()
	errs := cliErrors(string(out))
	require.NotEmpty(t, errs, "s_server output: %s", out)
	assert.Equal(t, errs[0][0], fmt.Sprintf("%08X", oe.Code))
	assert.Equal(t, errs[0][1], oe.Reason)

	// A key of another type: OpenSSL's queue ends in X509's "key type mismatch".
	err = c.CheckPrivateKey(ec)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "x509 certificate routines", oe.Last().Library)
	assert.Equal(t, "key type mismatch", oe.Last().Reason)
	assert.ErrorIs(t, err, &Error{Reason: "key type mismatch"})

	// CreateCertificate refuses an issuer key that is not the issuer's.
	_, err = CreateCertificate(&CertificateTemplate{}, ec, c, k2)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, errs[0][1], oe.Reason)
}

func TestCertificateRefAndFree(t *testing.T) {
	k := mustKey(t, "ed25519")
	c, err := CreateCertificate(&CertificateTemplate{Subject: Name{{"CN", "x"}}}, k, nil, nil)
	require.NoError(t, err)
	r := c.Ref()
	want := mustDER(t, c)
	c.Free()
	c.Free()
	_, err = c.DER()
	assert.Error(t, err, "a freed certificate is an error, not a crash")
	_, err = c.Info()
	assert.Error(t, err)
	assert.Equal(t, want, mustDER(t, r), "the reference outlives the freed one")
	r.Free()
	var nilCert *Certificate
	_, err = nilCert.PEM()
	assert.Error(t, err)
	assert.Error(t, nilCert.CheckPrivateKey(k))
}

// pemBlocks decodes the PEM blocks of data.
func pemBlocks(data []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, b)
	}
}

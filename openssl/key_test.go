package openssl

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type keyCase struct {
	name string
	typ  string
	gen  func() (*PrivateKey, error)
}

func keyCases() []keyCase {
	return []keyCase{
		{"RSA-2048", KeyTypeRSA, func() (*PrivateKey, error) { return GenerateRSAKey(2048) }},
		{"RSA-3072", KeyTypeRSA, func() (*PrivateKey, error) { return GenerateRSAKey(3072) }},
		{"P-256", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("P-256") }},
		{"prime256v1", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("prime256v1") }},
		{"P-384", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("P-384") }},
		{"secp384r1", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("secp384r1") }},
		{"P-521", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("P-521") }},
		{"secp521r1", KeyTypeEC, func() (*PrivateKey, error) { return GenerateECKey("secp521r1") }},
		{"Ed25519", KeyTypeEd25519, GenerateEd25519Key},
		{"Ed448", KeyTypeEd448, GenerateEd448Key},
	}
}

// cliBits reads the key size from `openssl pkey -text`: "Private-Key: (2048 bit, 2 primes)".
var cliBits = regexp.MustCompile(`Private-Key: \((\d+) bit`)

func TestPrivateKeyRoundTrips(t *testing.T) {
	for _, tc := range keyCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k, err := tc.gen()
			require.NoError(t, err)
			t.Cleanup(k.Free)
			assert.Equal(t, tc.typ, k.Type())
			pub, err := k.PublicKeyDER()
			require.NoError(t, err)

			pem, err := k.MarshalPKCS8PEM()
			require.NoError(t, err)
			assert.Contains(t, string(pem), "-----BEGIN PRIVATE KEY-----")
			der, err := k.MarshalDER()
			require.NoError(t, err)
			enc, err := k.MarshalEncryptedPKCS8PEM([]byte("secret"))
			require.NoError(t, err)
			assert.Contains(t, string(enc), "-----BEGIN ENCRYPTED PRIVATE KEY-----")

			// The openssl CLI reads what we wrote and derives the same public key.
			pemFile := writeFile(t, dir, "key.pem", pem)
			cliPub, stderr, code := runTool(t, dir, "openssl", "pkey", "-in", pemFile, "-pubout", "-outform", "DER")
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, []byte(cliPub), pub, "SubjectPublicKeyInfo as the CLI derives it")
			cliDER, stderr, code := runTool(t, dir, "openssl", "pkcs8", "-topk8", "-nocrypt", "-in", pemFile, "-outform", "DER")
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, []byte(cliDER), der, "PKCS#8 DER as the CLI writes it")
			encFile := writeFile(t, dir, "enc.pem", enc)
			decPEM, stderr, code := runTool(t, dir, "openssl", "pkey", "-in", encFile, "-passin", "pass:secret")
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, string(pem), decPEM, "the CLI decrypts our encrypted PKCS#8")
			encInfo, stderr, code := runTool(t, dir, "openssl", "asn1parse", "-in", encFile)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, encInfo, "aes-256-cbc")

			if tc.typ == KeyTypeRSA || tc.typ == KeyTypeEC {
				text, stderr, code := runTool(t, dir, "openssl", "pkey", "-in", pemFile, "-noout", "-text")
				require.Equal(t, 0, code, stderr)
				m := cliBits.FindStringSubmatch(text)
				require.NotNil(t, m, text)
				want, _ := strconv.Atoi(m[1])
				assert.Equal(t, want, k.Bits())
			} else {
				assert.Positive(t, k.Bits())
			}

			for name, in := range map[string]struct {
				data, pass []byte
			}{
				"PKCS#8 PEM":           {pem, nil},
				"PKCS#8 DER":           {der, nil},
				"encrypted PKCS#8 PEM": {enc, []byte("secret")},
			} {
				k2, err := ParsePrivateKey(in.data, in.pass)
				require.NoError(t, err, name)
				assert.Equal(t, tc.typ, k2.Type(), name)
				assert.Equal(t, k.Bits(), k2.Bits(), name)
				pub2, err := k2.PublicKeyDER()
				require.NoError(t, err, name)
				assert.Equal(t, pub, pub2, name)
				k2.Free()
			}
		})
	}
}

// TestParsePrivateKeyCLIForms reads the DER forms the openssl CLI writes:
// traditional RSA and EC, and encrypted PKCS#8 with right, wrong and missing
// passphrases.
func TestParsePrivateKeyCLIForms(t *testing.T) {
	dir := t.TempDir()
	cli := func(args ...string) {
		t.Helper()
		_, stderr, code := runTool(t, dir, "openssl", args...)
		require.Equal(t, 0, code, "openssl %v: %s", args, stderr)
	}
	cli("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
	cli("rsa", "-in", "rsa.pem", "-traditional", "-outform", "DER", "-out", "rsa1.der")
	cli("rsa", "-in", "rsa.pem", "-traditional", "-aes256", "-passout", "pass:secret", "-out", "rsa1enc.pem")
	cli("pkcs8", "-topk8", "-in", "rsa.pem", "-outform", "DER", "-v2", "aes-256-cbc", "-passout", "pass:secret", "-out", "rsa8enc.der")
	cli("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.pem")
	cli("ec", "-in", "ec.pem", "-outform", "DER", "-out", "ec1.der")
	cli("genpkey", "-algorithm", "ED25519", "-out", "ed.pem")
	cli("pkcs8", "-topk8", "-in", "ed.pem", "-outform", "DER", "-v2", "aes-256-cbc", "-passout", "pass:secret", "-out", "ed8enc.der")
	cli("pkey", "-in", "rsa.pem", "-pubout", "-outform", "DER", "-out", "rsa.pub")
	cli("pkey", "-in", "ec.pem", "-pubout", "-outform", "DER", "-out", "ec.pub")
	cli("pkey", "-in", "ed.pem", "-pubout", "-outform", "DER", "-out", "ed.pub")
	read := func(name string) []byte {
		t.Helper()
		b, err := readFile(dir, name)
		require.NoError(t, err)
		return b
	}

	good := []struct {
		file, pass, pub, typ string
	}{
		{"rsa1.der", "", "rsa.pub", KeyTypeRSA},
		{"rsa1enc.pem", "secret", "rsa.pub", KeyTypeRSA},
		{"rsa8enc.der", "secret", "rsa.pub", KeyTypeRSA},
		{"ec.pem", "", "ec.pub", KeyTypeEC},
		{"ec1.der", "", "ec.pub", KeyTypeEC},
		{"ed8enc.der", "secret", "ed.pub", KeyTypeEd25519},
	}
	for _, g := range good {
		t.Run(g.file, func(t *testing.T) {
			var pass []byte
			if g.pass != "" {
				pass = []byte(g.pass)
			}
			k, err := ParsePrivateKey(read(g.file), pass)
			require.NoError(t, err)
			defer k.Free()
			assert.Equal(t, g.typ, k.Type())
			pub, err := k.PublicKeyDER()
			require.NoError(t, err)
			assert.Equal(t, read(g.pub), pub)
		})
	}

	// Wrong and missing passphrases fail with OpenSSL's reason for the same
	// input ("bad decrypt", but for the rare wrong key that decrypts to valid
	// padding): the openssl CLI is the oracle.
	for _, file := range []string{"rsa1enc.pem", "rsa8enc.der", "ed8enc.der"} {
		for _, pass := range [][]byte{nil, []byte("wrong")} {
			t.Run(fmt.Sprintf("%s/pass=%q", file, pass), func(t *testing.T) {
				_, err := ParsePrivateKey(read(file), pass)
				var oe *Error
				require.ErrorAs(t, err, &oe)
				want := cliKeyReasons(t, filepath.Join(dir, file), strings.HasSuffix(file, ".der"), pass)
				assert.Contains(t, want, oe.Reason)
				assert.True(t, errors.Is(err, &Error{Reason: oe.Reason}))
			})
		}
	}
}

// TestPrivateKeyErrorsMatchNode checks bad key input against what Node reports
// for the same input (its tls.createSecureContext reads keys with
// PEM_read_bio_PrivateKey, linked with the same OpenSSL 3.0).
func TestPrivateKeyErrorsMatchNode(t *testing.T) {
	k, err := GenerateRSAKey(2048)
	require.NoError(t, err)
	defer k.Free()
	enc, err := k.MarshalEncryptedPKCS8PEM([]byte("secret"))
	require.NoError(t, err)
	cases := []struct {
		name string
		key  []byte
		pass string
	}{
		{"junk", []byte("junk"), ""},
		{"junk PEM block", []byte("-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n"), ""},
		{"wrong passphrase", enc, "wrong"},
		{"missing passphrase", enc, ""},
	}
	dir := t.TempDir()
	var files []string
	for i, c := range cases {
		files = append(files, writeFile(t, dir, fmt.Sprintf("k%d", i), c.key), c.pass)
	}
	var node []struct{ Message, Reason, Code string }
	nodeJSON(t, &node, `
const tls = require('tls'), fs = require('fs');
const a = process.argv.slice(1), out = [];
for (let i = 0; i < a.length; i += 2) {
  const opts = { key: fs.readFileSync(a[i]) };
  if (a[i + 1] !== '') opts.passphrase = a[i + 1];
  try { tls.createSecureContext(opts); out.push({}); }
  catch (e) { out.push({ Message: e.message, Reason: e.reason, Code: e.code }); }
}
console.log(JSON.stringify(out));`, files...)
	require.Len(t, node, len(cases))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pass []byte
			if c.pass != "" {
				pass = []byte(c.pass)
			}
			_, err := ParsePrivateKey(c.key, pass)
			var oe *Error
			require.ErrorAs(t, err, &oe)
			require.NotEmpty(t, node[i].Message, "node accepted the key")
			assert.Equal(t, node[i].Message, oe.Text())
			assert.Equal(t, node[i].Reason, oe.Reason)
		})
	}
}

func TestGenerateKeyErrors(t *testing.T) {
	for name, gen := range map[string]func() (*PrivateKey, error){
		"unknown curve": func() (*PrivateKey, error) { return GenerateECKey("P-999") },
		"empty curve":   func() (*PrivateKey, error) { return GenerateECKey("") },
		"tiny RSA":      func() (*PrivateKey, error) { return GenerateRSAKey(256) },
		"negative RSA":  func() (*PrivateKey, error) { return GenerateRSAKey(-1) },
	} {
		t.Run(name, func(t *testing.T) {
			k, err := gen()
			var oe *Error
			require.ErrorAs(t, err, &oe)
			assert.Nil(t, k)
			assert.NotEmpty(t, oe.Reason)
		})
	}
}

func TestFreedKeyIsAnError(t *testing.T) {
	k, err := GenerateEd25519Key()
	require.NoError(t, err)
	k.Free()
	k.Free() // idempotent
	_, err = k.MarshalPKCS8PEM()
	assert.Error(t, err)
	_, err = k.PublicKeyDER()
	assert.Error(t, err)
	assert.Equal(t, "", k.Type())
	var nilKey *PrivateKey
	_, err = nilKey.MarshalDER()
	assert.Error(t, err)
	assert.Nil(t, nilKey.Ref())
}

package testpki

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verify runs `openssl verify` on leaf with root as the trust anchor and the
// given untrusted intermediates, plus extra flags; it returns the combined
// output and whether verification succeeded.
func verify(t *testing.T, root, untrusted, leaf []byte, flags ...string) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("openssl not found on PATH (CI installs it)")
		}
		t.Fatal("openssl is not installed")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	args := append([]string{"verify", "-CAfile", write("root.pem", root)}, flags...)
	if len(untrusted) > 0 {
		args = append(args, "-untrusted", write("untrusted.pem", untrusted))
	}
	args = append(args, write("leaf.pem", leaf))
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "openssl verify: %v", err)
		return string(out), false
	}
	return string(out), true
}

func TestChainsVerifyWithOpenSSL(t *testing.T) {
	for _, kt := range []struct {
		name string
		key  KeyType
		typ  string
	}{{"RSA-2048", RSA2048, openssl.KeyTypeRSA}, {"ECDSA P-256", ECDSAP256, openssl.KeyTypeEC}, {"Ed25519", Ed25519, openssl.KeyTypeEd25519}} {
		t.Run(kt.name, func(t *testing.T) {
			opts := Options{Key: kt.key}
			root := NewCA(t, opts)
			inter := root.Intermediate(t, opts)
			leaf := inter.Leaf(t, opts, "localhost", "127.0.0.1")
			assert.Equal(t, kt.typ, leaf.Key.Type())
			assert.NoError(t, leaf.Cert.CheckPrivateKey(leaf.Key))
			assert.Equal(t, root.CertPEM, leaf.CAPEM)
			assert.Equal(t, inter.CertPEM, inter.ChainPEM)
			assert.Equal(t, string(leaf.CertPEM)+string(inter.CertPEM), string(leaf.ChainPEM))

			out, ok := verify(t, root.CertPEM, inter.ChainPEM, leaf.CertPEM, "-verify_hostname", "localhost", "-purpose", "sslserver")
			assert.True(t, ok, out)
			_, ok = verify(t, root.CertPEM, nil, leaf.CertPEM)
			assert.False(t, ok, "without the intermediate the chain does not build")

			direct := root.Leaf(t, opts, "localhost")
			out, ok = verify(t, root.CertPEM, nil, direct.CertPEM)
			assert.True(t, ok, out)

			info, err := leaf.Cert.Info()
			require.NoError(t, err)
			assert.Equal(t, "DNS:localhost, IP Address:127.0.0.1", info.SubjectAltName)
			assert.Equal(t, "localhost", info.Subject.Get("CN"))
			assert.Equal(t, "nodetls intermediate CA", info.Issuer.Get("CN"))
			assert.Equal(t, 0, leaf.Serial.Cmp(info.SerialNumberInt()))
		})
	}
}

func TestVariantsFailAsMeant(t *testing.T) {
	root := NewCA(t, Options{Key: ECDSAP256})
	cases := []struct {
		name  string
		leaf  *Leaf
		flags []string
		want  string // OpenSSL's verify error text
	}{
		{"expired", root.Leaf(t, Options{Key: ECDSAP256, Expired: true}, "localhost"), nil, "certificate has expired"},
		{"not yet valid", root.Leaf(t, Options{Key: ECDSAP256, NotYetValid: true}, "localhost"), nil, "certificate is not yet valid"},
		{"wrong host", root.Leaf(t, Options{Key: ECDSAP256}, "other.example"), []string{"-verify_hostname", "localhost"}, "hostname mismatch"},
		{"client-auth leaf as a server", root.Leaf(t, Options{Key: ECDSAP256, ClientAuth: true}, "localhost"), []string{"-purpose", "sslserver"}, "unsuitable certificate purpose"},
		{"self-signed", SelfSigned(t, Options{Key: ECDSAP256}, "localhost"), nil, "self-signed certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := verify(t, root.CertPEM, nil, tc.leaf.CertPEM, tc.flags...)
			assert.False(t, ok)
			assert.Contains(t, out, tc.want)
		})
	}

	client := root.Leaf(t, Options{Key: ECDSAP256, ClientAuth: true}, "client")
	out, ok := verify(t, root.CertPEM, nil, client.CertPEM, "-purpose", "sslclient")
	assert.True(t, ok, out)

	self := SelfSigned(t, Options{Key: Ed25519}, "localhost")
	out, ok = verify(t, self.CAPEM, nil, self.CertPEM)
	assert.True(t, ok, "a self-signed leaf verifies against itself: %s", out)

	weak := NewCA(t, Options{NoKeyCertSign: true})
	leaf := weak.Leaf(t, Options{}, "localhost")
	out, ok = verify(t, weak.CertPEM, nil, leaf.CertPEM)
	assert.False(t, ok)
	assert.Contains(t, out, "key usage does not include certificate signing")

	zero := 0
	limited := NewCA(t, Options{Key: ECDSAP256, PathLen: &zero})
	sub := limited.Intermediate(t, Options{Key: ECDSAP256})
	deep := sub.Leaf(t, Options{Key: ECDSAP256}, "localhost")
	out, ok = verify(t, limited.CertPEM, sub.ChainPEM, deep.CertPEM)
	assert.False(t, ok)
	assert.Contains(t, out, "path length constraint exceeded")
}

func TestWriteFiles(t *testing.T) {
	l := SelfSigned(t, Options{Key: ECDSAP256}, "localhost")
	keyFile, chainFile, caFile := l.WriteFiles(t)
	for path, want := range map[string][]byte{keyFile: l.KeyPEM, chainFile: l.ChainPEM, caFile: l.CAPEM} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), path)
	}
	k, err := openssl.ParsePrivateKey(l.KeyPEM, nil)
	require.NoError(t, err)
	defer k.Free()
	assert.NoError(t, l.Cert.CheckPrivateKey(k))
}

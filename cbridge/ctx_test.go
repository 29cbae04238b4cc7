package cbridge

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctxTestFiles makes an RSA key and self-signed certificate and FFDHE
// parameters with the openssl CLI (skipped outside CI when it is missing).
func ctxTestFiles(t *testing.T) (certPEM, keyPEM, dhPEM []byte) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("openssl not found on PATH (CI installs it)")
		}
		t.Fatal("openssl is required")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "openssl %v: %s", args, out)
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=cbridge", "-days", "1")
	run("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem")
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		return b
	}
	return read("cert.pem"), read("key.pem"), read("dh.pem")
}

func TestSSLCtxFreedHandle(t *testing.T) {
	before := LiveObjects()
	c, err := NewSSLCtx()
	require.NoError(t, err)
	assert.Equal(t, before.SSLCtx+1, LiveObjects().SSLCtx)
	c.Free()
	c.Free()
	assert.Equal(t, before.SSLCtx, LiveObjects().SSLCtx)

	for name, err := range map[string]error{
		"SetCipherList":   c.SetCipherList("DEFAULT"),
		"SetMinProto":     c.SetMinProtoVersion(0x0303),
		"UseCertificate":  c.UseCertificate(nil),
		"NewCertStore":    c.NewCertStore(),
		"SetVerifyFlags":  c.SetVerifyFlags(VerifyFlagPartialChain),
		"SetSecurityLvl":  c.SetSecurityLevel(1),
		"SetSessionIDCtx": c.SetSessionIDContext([]byte("x")),
	} {
		assert.Error(t, err, name)
	}
	_, err = c.AddCRLsPEM([]byte("x"))
	assert.Error(t, err)
	assert.Nil(t, c.CipherNames())
	assert.Zero(t, c.Options())
	assert.Nil(t, c.KeyTypes())

	var nilCtx *SSLCtx
	assert.Error(t, nilCtx.SetGroupsList("X25519"))
	assert.Zero(t, nilCtx.SecurityLevel())
}

func TestSSLCtxStringsWithNUL(t *testing.T) {
	c, err := NewSSLCtx()
	require.NoError(t, err)
	t.Cleanup(c.Free)
	err = c.SetCipherList("DEFAULT\x00:eNULL")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "string contains a NUL byte", e.Reason)
	assert.Error(t, c.SetGroupsList("X25519\x00"))
}

// TestSSLCtxOwnership: the context takes its own references, so the caller
// may free its handles at once, and everything is gone after Free.
func TestSSLCtxOwnership(t *testing.T) {
	certPEM, keyPEM, dhPEM := ctxTestFiles(t)
	before := LiveObjects()

	c, err := NewSSLCtx()
	require.NoError(t, err)
	xs, err := X509sFromPEM(certPEM)
	require.NoError(t, err)
	k, err := PKeyFromPEM(keyPEM, nil)
	require.NoError(t, err)
	dh, err := DHParamsFromPEM(dhPEM)
	require.NoError(t, err)
	assert.Equal(t, 2048, DHBits(dh))
	assert.Equal(t, "DH", DHTypeName(dh))

	require.NoError(t, xs[0].CheckPrivateKey(k))
	require.NoError(t, c.UseCertificate(xs[0]))
	require.NoError(t, c.UsePrivateKey(k))
	require.NoError(t, c.CheckPrivateKey())
	require.NoError(t, c.NewCertStore())
	require.NoError(t, c.StoreAddCert(xs[0]))
	require.NoError(t, c.StoreAddCert(xs[0]), "a duplicate is not an error")
	require.NoError(t, c.AddClientCA(xs[0]))
	require.NoError(t, c.SetTmpDH(dh))
	assert.Equal(t, 1, c.StoreCertCount())
	assert.Equal(t, 1, c.ClientCACount())

	der, err := CreatePKCS12(k, xs[0], []*X509{xs[0]}, "pw")
	require.NoError(t, err)
	parts, err := ParsePKCS12(der, "pw")
	require.NoError(t, err)
	require.NotNil(t, parts.Key)
	require.NotNil(t, parts.Cert)
	require.Len(t, parts.CA, 1)
	parts.Key.Free()
	parts.Cert.Free()
	parts.CA[0].Free()

	xs[0].Free()
	k.Free()
	dh.Free()
	assert.Equal(t, []string{"RSA"}, c.KeyTypes(), "the context kept its references")
	c.Free()

	after := LiveObjects()
	assert.Equal(t, before.SSLCtx, after.SSLCtx)
	assert.Equal(t, before.X509, after.X509)
	assert.Equal(t, before.PKey, after.PKey)
	assert.Equal(t, before.X509Store, after.X509Store)
	assert.Equal(t, before.BIO, after.BIO)
}

func TestNilArguments(t *testing.T) {
	c, err := NewSSLCtx()
	require.NoError(t, err)
	t.Cleanup(c.Free)
	assert.Error(t, c.UseCertificate(nil))
	assert.Error(t, c.AddChainCert(nil))
	assert.Error(t, c.UsePrivateKey(nil))
	assert.Error(t, c.SetTmpDH(nil))
	assert.Error(t, c.StoreAddCert(nil))
	assert.Error(t, c.AddClientCA(nil))
	assert.Error(t, (*X509)(nil).CheckPrivateKey(nil))
	_, err = CreatePKCS12(nil, nil, nil, "")
	assert.Error(t, err)
	assert.Zero(t, DHBits(nil))
}

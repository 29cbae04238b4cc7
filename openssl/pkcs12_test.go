package openssl

import (
	"testing"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePKCS12(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("root", "rsa:2048")
	p.issued("leaf", "root", "sha256", false)
	p.pkcs12("leaf.p12", "leaf", "root.pem", "pw", false)
	p.pkcs12("nopass.p12", "leaf", "", "", false)
	p.pkcs12("nokey.p12", "leaf", "", "pw", true)
	p.write("garbage", []byte("garbage\n"))

	t.Run("key, certificate and chain", func(t *testing.T) {
		x, err := ParsePKCS12(p.read("leaf.p12"), "pw")
		require.NoError(t, err)
		t.Cleanup(x.Free)
		require.NotNil(t, x.Key)
		require.NotNil(t, x.Cert)
		assert.Len(t, x.CA, 1)
		c := newTestContext(t, ContextOptions{})
		require.NoError(t, c.UsePKCS12(x))
		assert.Equal(t, []string{"RSA"}, c.KeyTypes())
	})
	t.Run("empty password", func(t *testing.T) {
		x, err := ParsePKCS12(p.read("nopass.p12"), "")
		require.NoError(t, err)
		x.Free()
	})
	for _, tt := range []struct{ name, file, pass string }{
		{"wrong password", "leaf.p12", "wrong"},
		{"missing password", "leaf.p12", ""},
		{"garbage", "garbage", "pw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			node := nodeCreateSecureContext(t, p.dir, map[string]string{"pfx": tt.file, "passphrase": tt.pass})
			_, err := ParsePKCS12(p.read(tt.file), tt.pass)
			assertSameError(t, err, node)
		})
	}
	t.Run("no key", func(t *testing.T) {
		_, err := ParsePKCS12(p.read("nokey.p12"), "pw")
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "no private key in PKCS#12 data", oe.Reason)
	})
	t.Run("NUL in the password", func(t *testing.T) {
		_, err := ParsePKCS12(p.read("leaf.p12"), "p\x00w")
		assert.Error(t, err)
	})
}

func TestCreatePKCS12(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("root", "rsa:2048")
	p.issued("leaf", "root", "sha256", false)
	certs, err := ParseCertificatesPEM(append(p.read("leaf.pem"), p.read("root.pem")...))
	require.NoError(t, err)
	t.Cleanup(func() { freeCertificates(certs) })
	key, err := ParsePrivateKeyPEM(p.read("leaf.key"), nil)
	require.NoError(t, err)
	t.Cleanup(key.Free)

	der, err := CreatePKCS12(key, certs[0], certs[1:], "s3cret")
	require.NoError(t, err)
	p.write("made.p12", der)

	// The CLI reads what we wrote, with OpenSSL 3's default algorithms.
	info := cli(t, p.dir, "pkcs12", "-in", "made.p12", "-passin", "pass:s3cret", "-info", "-noout")
	assert.Contains(t, info, "MAC: sha256")
	assert.Contains(t, info, "PBES2, PBKDF2, AES-256-CBC")
	out := cli(t, p.dir, "pkcs12", "-in", "made.p12", "-passin", "pass:s3cret", "-nokeys", "-cacerts")
	assert.Contains(t, out, "subject=CN = root")

	// Node loads it as a pfx, and so do we.
	node := nodeCreateSecureContext(t, p.dir, map[string]string{"pfx": "made.p12", "passphrase": "s3cret"})
	assert.True(t, node.OK, "%+v", node)
	back, err := ParsePKCS12(der, "s3cret")
	require.NoError(t, err)
	t.Cleanup(back.Free)
	assert.Len(t, back.CA, 1)

	_, err = CreatePKCS12(nil, certs[0], nil, "x")
	assert.Error(t, err)
	_, err = CreatePKCS12(key, nil, nil, "x")
	assert.Error(t, err)
	_, err = CreatePKCS12(key, certs[0], []*Certificate{nil}, "x")
	assert.Error(t, err)
}

// TestContextPFX: a PFX loads key, leaf and chain; its extra certificates
// also join the trust store and the client CA list, on top of CA.
func TestContextPFX(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("root", "rsa:2048")
	p.selfSigned("other", "rsa:2048")
	p.issued("leaf", "root", "sha256", false)
	p.pkcs12("leaf.p12", "leaf", "root.pem", "pw", false)
	p.ecSelfSigned("ec")

	before := cbridge.LiveObjects()
	c, err := NewContext(ContextOptions{
		CA:       p.read("other.pem"),
		KeyPairs: []KeyPair{{CertPEM: p.read("ec.pem"), KeyPEM: p.read("ec.key")}},
		PFX:      []PFXData{{Data: p.read("leaf.p12"), Passphrase: "pw"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"RSA", "EC"}, c.KeyTypes())
	assert.Equal(t, 2, c.TrustedCertCount())
	assert.Equal(t, 2, c.ClientCACount())

	// Loading it again replaces the RSA pair; the CA already trusted is not added twice.
	require.NoError(t, c.LoadPFX(p.read("leaf.p12"), "pw"))
	require.NoError(t, c.LoadPFX(p.read("leaf.p12"), "pw"))
	assert.Equal(t, []string{"RSA", "EC"}, c.KeyTypes())
	assert.Equal(t, 2, c.TrustedCertCount())

	require.NoError(t, c.Close())
	after := cbridge.LiveObjects()
	assert.Equal(t, before.X509, after.X509, "X509")
	assert.Equal(t, before.PKey, after.PKey, "EVP_PKEY")
	assert.Equal(t, before.X509Store, after.X509Store, "X509_STORE")
	assert.Equal(t, before.SSLCtx, after.SSLCtx, "SSL_CTX")
}

package openssl

import (
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoLeaks creates, parses, inspects and frees many keys and certificates
// (and fails on purpose a few times) and checks that the live X509, EVP_PKEY
// and BIO counts come back to where they started.
func TestNoLeaks(t *testing.T) {
	caKey, err := GenerateECKey("P-256")
	require.NoError(t, err)
	ca, err := CreateCertificate(&CertificateTemplate{Subject: Name{{"CN", "leak CA"}}, IsCA: true}, caKey, nil, nil)
	require.NoError(t, err)
	rsa, err := GenerateRSAKey(2048)
	require.NoError(t, err)
	rsaPEM, err := rsa.MarshalEncryptedPKCS8PEM([]byte("pw"))
	require.NoError(t, err)

	round := func() {
		k, err := GenerateEd25519Key()
		require.NoError(t, err)
		tmpl := &CertificateTemplate{
			Subject:     Name{{"CN", "leaf"}, {"OU", "a"}},
			DNSNames:    []string{"localhost"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			URIs:        []string{"http://x/"},
			OCSPServer:  []string{"http://ocsp/"},
			ExtKeyUsage: []string{"serverAuth"},
		}
		c, err := CreateCertificate(tmpl, k, ca, caKey)
		require.NoError(t, err)
		pem, err := c.PEM()
		require.NoError(t, err)
		der, err := c.DER()
		require.NoError(t, err)
		_, err = c.Info()
		require.NoError(t, err)
		require.NoError(t, c.CheckPrivateKey(k))
		assert.Error(t, c.CheckPrivateKey(caKey))
		ref := c.Ref()
		ref.Free()
		certs, err := ParseCertificates(append(append([]byte{}, pem...), pem...))
		require.NoError(t, err)
		FreeCertificates(certs)
		c2, err := ParseCertificate(der)
		require.NoError(t, err)
		c2.Free()
		_, err = ParseCertificate([]byte("junk"))
		assert.Error(t, err)
		_, err = ParseCertificates(der[:len(der)-1])
		assert.Error(t, err)

		kp, err := k.MarshalEncryptedPKCS8PEM([]byte("secret"))
		require.NoError(t, err)
		kd, err := k.MarshalDER()
		require.NoError(t, err)
		for _, in := range []struct{ data, pass []byte }{{kp, []byte("secret")}, {kd, nil}, {rsaPEM, []byte("pw")}} {
			k2, err := ParsePrivateKey(in.data, in.pass)
			require.NoError(t, err)
			_, err = k2.PublicKeyDER()
			require.NoError(t, err)
			k2.Free()
		}
		_, err = ParsePrivateKey(kp, []byte("wrong"))
		assert.Error(t, err)
		_, err = ParsePrivateKey([]byte("junk"), nil)
		assert.Error(t, err)
		_, err = CreateCertificate(&CertificateTemplate{SignatureDigest: "NOPE"}, k, ca, caKey)
		assert.Error(t, err)
		_, err = CreateCRL(ca, caKey, []RevokedCertificate{{Serial: big.NewInt(3)}}, time.Now(), time.Now().Add(time.Hour))
		require.NoError(t, err)
		c.Free()
		k.Free()
	}

	round() // warm up OpenSSL's own caches (providers, decoders, names)
	before := cbridge.LiveObjects()
	for i := 0; i < 200; i++ {
		round()
	}
	after := cbridge.LiveObjects()
	// The counters do see our objects: one more certificate and key are counted.
	extra, err := GenerateEd25519Key()
	require.NoError(t, err)
	extraCert, err := CreateCertificate(&CertificateTemplate{}, extra, nil, nil)
	require.NoError(t, err)
	during := cbridge.LiveObjects()
	assert.Greater(t, during.X509, after.X509)
	assert.Greater(t, during.PKey, after.PKey)
	extraCert.Free()
	extra.Free()
	assert.Equal(t, before.X509, after.X509, "X509")
	assert.Equal(t, before.PKey, after.PKey, "EVP_PKEY")
	assert.Equal(t, before.BIO, after.BIO, "BIO")

	ca.Free()
	caKey.Free()
	rsa.Free()
}

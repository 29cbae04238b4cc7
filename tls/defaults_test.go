package tls_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultsMatchNode compares the module's constants and GetCiphers()
// with node's tls.DEFAULT_* values, CLIENT_RENEG_* and tls.getCiphers().
func TestDefaultsMatchNode(t *testing.T) {
	o := nodeoracle.Start(t, `
const tls = require('tls');
function answer() {
  return {ciphers: tls.DEFAULT_CIPHERS, curve: tls.DEFAULT_ECDH_CURVE, min: tls.DEFAULT_MIN_VERSION,
    max: tls.DEFAULT_MAX_VERSION, renegLimit: tls.CLIENT_RENEG_LIMIT, renegWindow: tls.CLIENT_RENEG_WINDOW,
    getCiphers: tls.getCiphers()};
}`)
	var node struct {
		Ciphers, Curve, Min, Max string
		RenegLimit, RenegWindow  int
		GetCiphers               []string
	}
	o.Ask(t, map[string]any{}, &node)
	assert.Equal(t, node.Ciphers, tls.DefaultCiphers)
	assert.Equal(t, node.Curve, tls.DefaultECDHCurve)
	assert.Equal(t, node.Min, tls.DefaultMinVersion)
	assert.Equal(t, node.Max, tls.DefaultMaxVersion)
	assert.Equal(t, node.RenegLimit, tls.ClientRenegLimit)
	assert.Equal(t, time.Duration(node.RenegWindow)*time.Second, tls.ClientRenegWindow)
	require.NotEmpty(t, node.GetCiphers)
	assert.Equal(t, node.GetCiphers, tls.GetCiphers())
	// A copy each time.
	c := tls.GetCiphers()
	c[0] = "changed"
	assert.NotEqual(t, "changed", tls.GetCiphers()[0])
}

// TestRootCertificates checks RootCertificates against the system's CA file
// (where nodetls's default trust comes from; Node lists its bundled roots):
// every certificate of the file once, each in Node's PEM layout.
func TestRootCertificates(t *testing.T) {
	file := openssl.DefaultCertFile()
	data, err := os.ReadFile(file)
	if err != nil && os.Getenv("CI") == "" {
		t.Skipf("missing system CA file (%v)", err)
	}
	require.NoError(t, err, "the system CA file (ca-certificates)")
	certs, err := openssl.ParseCertificatesPEM(data)
	require.NoError(t, err)
	unique := map[string]bool{}
	for _, c := range certs {
		der, err := c.DER()
		require.NoError(t, err)
		unique[string(der)] = true
		c.Free()
	}
	roots := tls.RootCertificates()
	require.Len(t, roots, len(unique))
	seen := map[string]bool{}
	for _, pemText := range roots {
		require.True(t, strings.HasPrefix(pemText, "-----BEGIN CERTIFICATE-----\n"), pemText)
		require.True(t, strings.HasSuffix(pemText, "\n-----END CERTIFICATE-----\n"), pemText)
		for _, line := range strings.Split(strings.TrimSpace(pemText), "\n") {
			require.LessOrEqual(t, len(line), 64)
		}
		c, err := openssl.ParseCertificate([]byte(pemText))
		require.NoError(t, err)
		der, err := c.DER()
		c.Free()
		require.NoError(t, err)
		require.True(t, unique[string(der)], "a root that is not in %s", file)
		require.False(t, seen[string(der)], "a root listed twice")
		seen[string(der)] = true
	}
	roots[0] = "changed"
	assert.NotEqual(t, "changed", tls.RootCertificates()[0], "RootCertificates returns a copy")
}

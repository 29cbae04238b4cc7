package openssl_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliChecks asks `openssl x509 -checkhost/-checkip` (X509_check_host with no
// flags, X509_check_ip_asc) whether the certificate matches.
func cliChecks(t *testing.T, certPEM []byte, flag, value string) bool {
	t.Helper()
	peers.Require(t, "openssl")
	f := filepath.Join(t.TempDir(), "cert.pem")
	require.NoError(t, os.WriteFile(f, certPEM, 0o600))
	out, err := exec.Command("openssl", "x509", "-in", f, "-noout", flag, value).CombinedOutput()
	require.NoError(t, err, "%s", out)
	switch {
	case strings.Contains(string(out), "does match"):
		return true
	case strings.Contains(string(out), "does NOT match"):
		return false
	}
	t.Fatalf("openssl x509 %s %s printed %q", flag, value, out)
	return false
}

func TestCheckHostAndIP(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	san := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "cn.example"},
		"localhost", "*.example.com", "ba*.foo.com", "x*y.bar.com", "*.test", "127.0.0.1", "::1")
	cnOnly := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "cn.example"})
	ipOnly := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, CommonName: "cn.example"}, "10.1.2.3")

	type check struct {
		cert  *testpki.Leaf
		host  string
		isIP  bool
		match bool // expected with our policy
		// partial marks names where our policy (no partial wildcards) departs
		// from OpenSSL's default, so the CLI oracle answers differently.
		partial bool
	}
	checks := []check{
		{cert: san, host: "localhost", match: true},
		{cert: san, host: "LOCALHOST", match: true},
		{cert: san, host: "a.example.com", match: true},
		{cert: san, host: "a.b.example.com"},            // "*" never spans labels
		{cert: san, host: "example.com"},                // nor matches nothing
		{cert: san, host: "cn.example"},                 // CN ignored when DNS SANs exist
		{cert: san, host: "baz.foo.com", partial: true}, // partial wildcard at a label's end
		{cert: san, host: "xzy.bar.com"},                // OpenSSL never allows "x*y"
		{cert: san, host: "other.test"},                 // "*.test" is too wide
		{cert: san, host: "127.0.0.1", isIP: true, match: true},
		{cert: san, host: "::1", isIP: true, match: true},
		{cert: san, host: "0:0:0:0:0:0:0:1", isIP: true, match: true},
		{cert: san, host: "127.0.0.2", isIP: true},
		{cert: cnOnly, host: "cn.example", match: true}, // CN used without DNS SANs
		{cert: cnOnly, host: "other.example"},
		{cert: ipOnly, host: "cn.example", match: true}, // an IP SAN is not a DNS SAN
		{cert: ipOnly, host: "10.1.2.3", isIP: true, match: true},
		{cert: cnOnly, host: "10.1.2.3", isIP: true}, // never the CN for addresses
	}
	for _, c := range checks {
		t.Run(c.host, func(t *testing.T) {
			var err error
			flag := "-checkhost"
			if c.isIP {
				err = openssl.CheckIP(c.cert.Cert, c.host)
				flag = "-checkip"
			} else {
				err = openssl.CheckHost(c.cert.Cert, c.host)
			}
			oracle := cliChecks(t, c.cert.CertPEM, flag, c.host)
			if c.partial {
				assert.True(t, oracle, "OpenSSL's default accepts the partial wildcard")
			} else {
				assert.Equal(t, oracle, c.match, "oracle disagrees with the table")
			}
			if c.match {
				assert.NoError(t, err)
				return
			}
			var me *openssl.HostMismatchError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, c.host, me.Host)
			assert.Equal(t, c.isIP, me.IP)
		})
	}

	t.Run("bad input", func(t *testing.T) {
		var oe *openssl.Error
		assert.ErrorAs(t, openssl.CheckIP(san.Cert, "not-an-ip"), &oe)
		assert.ErrorAs(t, openssl.CheckHost(san.Cert, ""), &oe)
		assert.ErrorAs(t, openssl.CheckHost(san.Cert, "local\x00host"), &oe)
		assert.ErrorAs(t, openssl.CheckHost(nil, "localhost"), &oe)
	})
}

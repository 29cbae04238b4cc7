package openssl_test

import (
	"context"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tlsVersions = []struct {
	name string
	v    openssl.ProtocolVersion
}{{"TLSv1.2", openssl.TLS1_2}, {"TLSv1.3", openssl.TLS1_3}}

// A server that asks for a client certificate: the verdict is recorded, not
// enforced, unless RequireClientCert makes a missing certificate fatal.
func TestClientCertificateRequest(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	srvLeaf := root.Leaf(t, testpki.Options{}, "localhost")
	cliLeaf := root.Leaf(t, testpki.Options{ClientAuth: true}, "client")
	selfCli := testpki.SelfSigned(t, testpki.Options{ClientAuth: true}, "self client")

	type tc struct {
		name       string
		cliPair    *testpki.Leaf
		require    bool
		wantResult string
		wantPeer   bool
	}
	cases := []tc{
		{name: "trusted client certificate", cliPair: cliLeaf, wantResult: "OK", wantPeer: true},
		{name: "trusted client certificate, required", cliPair: cliLeaf, require: true, wantResult: "OK", wantPeer: true},
		{name: "self-signed client certificate", cliPair: selfCli, wantResult: "DEPTH_ZERO_SELF_SIGNED_CERT", wantPeer: true},
		{name: "self-signed client certificate, required", cliPair: selfCli, require: true, wantResult: "DEPTH_ZERO_SELF_SIGNED_CERT", wantPeer: true},
		// No certificate and not required: the handshake succeeds and OpenSSL's
		// result stays X509_V_OK (Node's UNABLE_TO_GET_ISSUER_CERT for this case
		// is the tls layer's rule).
		{name: "no client certificate", wantResult: "OK"},
	}
	for _, c := range cases {
		for _, v := range tlsVersions {
			for _, tr := range transports {
				t.Run(c.name+"/"+v.name+"/"+tr, func(t *testing.T) {
					sctx := serverContext(t, srvLeaf, openssl.ContextOptions{CA: root.CertPEM, MaxVersion: v.v})
					copts := openssl.ContextOptions{}
					if c.cliPair != nil {
						copts.KeyPairs = []openssl.KeyPair{{CertPEM: c.cliPair.ChainPEM, KeyPEM: c.cliPair.KeyPEM}}
					}
					cctx := clientContext(t, root.CertPEM, copts)
					a, b := rawPair(t, tr)
					srv, cli, serr, cerr := handshakePair(t, a, b, sctx, cctx,
						openssl.ConnConfig{RequestClientCert: true, RequireClientCert: c.require}, openssl.ConnConfig{ServerName: "localhost"})
					require.NoError(t, serr)
					require.NoError(t, cerr)
					closeBothAtEnd(t, srv, cli)
					assert.Equal(t, v.name, srv.Version())
					assert.Equal(t, c.wantResult, openssl.VerifyCodeName(srv.VerifyResult()))
					peer := srv.PeerCertificate()
					assert.Equal(t, c.wantPeer, peer != nil)
					if peer != nil {
						assert.Equal(t, derOf(t, c.cliPair.Cert), derOf(t, peer))
						peer.Free()
					}
					assert.Equal(t, "OK", openssl.VerifyCodeName(cli.VerifyResult()))
					echoOnce(t, srv, cli)
				})
			}
		}
	}
}

// RequireClientCert and no certificate: the server fails with "peer did not
// return a certificate". A TLS 1.3 client has finished its handshake by then
// and sees the certificate_required alert on its next read; a TLS 1.2 client
// fails inside the handshake with a handshake_failure alert.
func TestClientCertificateRequiredMissing(t *testing.T) {
	_, srvLeaf := newPKI(t, testpki.Options{})
	for _, v := range tlsVersions {
		for _, tr := range transports {
			t.Run(v.name+"/"+tr, func(t *testing.T) {
				sctx := serverContext(t, srvLeaf, openssl.ContextOptions{CA: srvLeaf.CAPEM, MaxVersion: v.v})
				cctx := clientContext(t, srvLeaf.CAPEM, openssl.ContextOptions{})
				a, b := rawPair(t, tr)
				srv, err := openssl.Server(a, sctx, openssl.ConnConfig{RequestClientCert: true, RequireClientCert: true})
				require.NoError(t, err)
				cli, err := openssl.Client(b, cctx, openssl.ConnConfig{ServerName: "localhost"})
				require.NoError(t, err)
				t.Cleanup(func() { srv.Close(); cli.Close() })
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				serrc := make(chan error, 1)
				go func() { serrc <- srv.Handshake(ctx) }()

				cerr := cli.Handshake(ctx)
				if v.v == openssl.TLS1_3 {
					require.NoError(t, cerr, "a TLS 1.3 client finishes before the server judges its certificate")
					_, cerr = cli.Read(make([]byte, 16))
				}
				require.Error(t, cerr)
				var oe *openssl.Error
				require.ErrorAs(t, cerr, &oe)
				if v.v == openssl.TLS1_3 {
					assert.Equal(t, "tlsv13 alert certificate required", oe.Reason)
				} else {
					assert.Equal(t, "sslv3 alert handshake failure", oe.Reason)
				}
				serr := <-serrc
				require.ErrorAs(t, serr, &oe)
				assert.Equal(t, "peer did not return a certificate", oe.Reason)
			})
		}
	}
}

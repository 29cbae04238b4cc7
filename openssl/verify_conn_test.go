package openssl_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifyScenario is a server certificate chain and what a client trusts.
type verifyScenario struct {
	name      string
	keyPEM    []byte
	chainPEM  []byte // what the server sends, leaf first
	caPEM     []byte // the client's trust store ("" = empty store)
	crlPEM    []byte
	partial   bool
	wantName  string   // VerifyCodeName of the client's result
	wantText  string   // OpenSSL's text for it (checked against s_client in the interop test)
	chainDERs [][]byte // PeerCertificateChain, when checked
}

func joinPEM(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func derOf(t testing.TB, c *openssl.Certificate) []byte {
	t.Helper()
	d, err := c.DER()
	require.NoError(t, err)
	return d
}

// verifyScenarios builds the chains Node's verification tests use, with
// testpki certificates made now.
func verifyScenarios(t testing.TB) []verifyScenario {
	t.Helper()
	root := testpki.NewCA(t, testpki.Options{})
	inter := root.Intermediate(t, testpki.Options{})
	viaInter := inter.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	direct := root.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	self := testpki.SelfSigned(t, testpki.Options{}, "localhost", "127.0.0.1")
	expired := root.Leaf(t, testpki.Options{Expired: true}, "localhost")
	notYet := root.Leaf(t, testpki.Options{NotYetValid: true}, "localhost")
	other := testpki.NewCA(t, testpki.Options{CommonName: "unrelated CA"})
	noSign := testpki.NewCA(t, testpki.Options{NoKeyCertSign: true, CommonName: "CA without keyCertSign"})
	noSignLeaf := noSign.Leaf(t, testpki.Options{}, "localhost")
	revoked := root.Leaf(t, testpki.Options{}, "localhost")
	now := time.Now()
	crl, err := openssl.CreateCRL(root.Cert, root.Key, []openssl.RevokedCertificate{{Serial: revoked.Serial}}, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	emptyCRL, err := openssl.CreateCRL(root.Cert, root.Key, nil, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)

	return []verifyScenario{
		{name: "valid chain via intermediate", keyPEM: viaInter.KeyPEM, chainPEM: viaInter.ChainPEM, caPEM: root.CertPEM,
			wantName: "OK", wantText: "ok",
			chainDERs: [][]byte{derOf(t, viaInter.Cert), derOf(t, inter.Cert), derOf(t, root.Cert)}},
		{name: "self-signed leaf, no CA", keyPEM: self.KeyPEM, chainPEM: self.ChainPEM,
			wantName: "DEPTH_ZERO_SELF_SIGNED_CERT", wantText: "self-signed certificate"},
		{name: "root sent in chain, no CA", keyPEM: viaInter.KeyPEM, chainPEM: joinPEM(viaInter.ChainPEM, root.CertPEM),
			wantName: "SELF_SIGNED_CERT_IN_CHAIN", wantText: "self-signed certificate in certificate chain"},
		{name: "leaf of an untrusted CA", keyPEM: direct.KeyPEM, chainPEM: direct.ChainPEM, caPEM: other.CertPEM,
			wantName: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", wantText: "unable to verify the first certificate"},
		{name: "intermediate missing", keyPEM: viaInter.KeyPEM, chainPEM: viaInter.CertPEM, caPEM: root.CertPEM,
			wantName: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", wantText: "unable to verify the first certificate"},
		{name: "only the intermediate trusted", keyPEM: viaInter.KeyPEM, chainPEM: viaInter.ChainPEM, caPEM: inter.CertPEM,
			wantName: "UNABLE_TO_GET_ISSUER_CERT", wantText: "unable to get issuer certificate"},
		{name: "only the intermediate trusted, partial chain", keyPEM: viaInter.KeyPEM, chainPEM: viaInter.ChainPEM, caPEM: inter.CertPEM, partial: true,
			wantName: "OK", wantText: "ok"},
		{name: "root not trusted", keyPEM: viaInter.KeyPEM, chainPEM: viaInter.ChainPEM, caPEM: other.CertPEM,
			wantName: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", wantText: "unable to get local issuer certificate"},
		{name: "expired", keyPEM: expired.KeyPEM, chainPEM: expired.ChainPEM, caPEM: root.CertPEM,
			wantName: "CERT_HAS_EXPIRED", wantText: "certificate has expired"},
		// Verification goes on after the first error; the result is the
		// last one found (the validity check comes after chain building).
		{name: "expired leaf of an untrusted CA", keyPEM: expired.KeyPEM, chainPEM: expired.ChainPEM, caPEM: other.CertPEM,
			wantName: "CERT_HAS_EXPIRED", wantText: "certificate has expired"},
		{name: "not yet valid", keyPEM: notYet.KeyPEM, chainPEM: notYet.ChainPEM, caPEM: root.CertPEM,
			wantName: "CERT_NOT_YET_VALID", wantText: "certificate is not yet valid"},
		{name: "revoked", keyPEM: revoked.KeyPEM, chainPEM: revoked.ChainPEM, caPEM: root.CertPEM, crlPEM: crl,
			wantName: "CERT_REVOKED", wantText: "certificate revoked"},
		{name: "CRL lists someone else", keyPEM: direct.KeyPEM, chainPEM: direct.ChainPEM, caPEM: root.CertPEM, crlPEM: crl,
			wantName: "OK", wantText: "ok"},
		{name: "empty CRL", keyPEM: revoked.KeyPEM, chainPEM: revoked.ChainPEM, caPEM: root.CertPEM, crlPEM: emptyCRL,
			wantName: "OK", wantText: "ok"},
		{name: "CA without keyCertSign", keyPEM: noSignLeaf.KeyPEM, chainPEM: noSignLeaf.ChainPEM, caPEM: noSign.CertPEM,
			wantName: "UNSPECIFIED", wantText: "key usage does not include certificate signing"},
	}
}

func (sc verifyScenario) serverContext(t testing.TB, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	opts.KeyPairs = append(opts.KeyPairs, openssl.KeyPair{CertPEM: sc.chainPEM, KeyPEM: sc.keyPEM})
	ctx, err := openssl.NewContext(opts)
	require.NoError(t, err)
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

func (sc verifyScenario) clientContext(t testing.TB, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	opts.CRL = sc.crlPEM
	opts.PartialChain = sc.partial
	return clientContext(t, sc.caPEM, opts)
}

// A client records the verification result without failing the handshake
// (Node's rule), and names it as Node does.
func TestVerifyResultClient(t *testing.T) {
	for _, sc := range verifyScenarios(t) {
		for _, transport := range []string{"pipe", "tcp"} {
			t.Run(sc.name+"/"+transport, func(t *testing.T) {
				pair := pipePair
				if transport == "tcp" {
					pair = tcpPair
				}
				srv, cli, serr, cerr := pair(t, sc.serverContext(t, openssl.ContextOptions{}), sc.clientContext(t, openssl.ContextOptions{}),
					openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
				require.NoError(t, serr)
				require.NoError(t, cerr)
				closeBothAtEnd(t, srv, cli)
				code := cli.VerifyResult()
				assert.Equal(t, sc.wantName, openssl.VerifyCodeName(code))
				assert.Equal(t, sc.wantText, openssl.VerifyErrorString(code))
				// The connection works whatever the verdict.
				echoOnce(t, srv, cli)
				if sc.chainDERs != nil {
					chain := cli.PeerCertificateChain()
					defer openssl.FreeCertificates(chain)
					var got [][]byte
					for _, c := range chain {
						got = append(got, derOf(t, c))
					}
					assert.Equal(t, sc.chainDERs, got)
				}
			})
		}
	}
}

// echoOnce sends a line from the client and reads it at the server, then the
// other way, with the reads running beside the writes (net.Pipe is synchronous).
func echoOnce(t testing.TB, srv, cli *openssl.Conn) {
	t.Helper()
	for _, dir := range []struct{ from, to *openssl.Conn }{{cli, srv}, {srv, cli}} {
		msg := []byte("ping " + time.Now().String())
		got := make(chan []byte, 1)
		go func() {
			buf := make([]byte, len(msg))
			if _, err := io.ReadFull(dir.to, buf); err != nil {
				got <- []byte(err.Error())
				return
			}
			got <- buf
		}()
		_, err := dir.from.Write(msg)
		require.NoError(t, err)
		select {
		case b := <-got:
			require.Equal(t, string(msg), string(b))
		case <-time.After(10 * time.Second):
			t.Fatal("no data")
		}
	}
}

func TestVerifyCodeName(t *testing.T) {
	assert.Equal(t, "OK", openssl.VerifyCodeName(openssl.VerifyOK))
	assert.Equal(t, "CERT_HAS_EXPIRED", openssl.VerifyCodeName(openssl.VerifyErrCertHasExpired))
	assert.Equal(t, "UNSPECIFIED", openssl.VerifyCodeName(openssl.VerifyErrKeyUsageNoCertSign))
	assert.Equal(t, "UNSPECIFIED", openssl.VerifyCodeName(9999))
	assert.Equal(t, "ok", openssl.VerifyErrorString(openssl.VerifyOK))
}

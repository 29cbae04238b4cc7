package tls_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Client-side verification and the certificate object, against one node
// server that picks its certificate by SNI (Node's tests ported: client-reject,
// client-verify, friendly-error-message, ca-concat, cert-chains-concat,
// cert-chains-in-ca, client-allow-partial-trust-chain, connect-secure-context,
// peer-certificate, peer-certificate-encoding, peer-certificate-multi-keys).
func TestParityClientVerify(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	other := testpki.NewCA(t, testpki.Options{CommonName: "other test CA"})
	inter := root.Intermediate(t, testpki.Options{})

	def := root.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	self := testpki.SelfSigned(t, testpki.Options{}, "self.test")
	otherLeaf := other.Leaf(t, testpki.Options{}, "other.test")
	chain := inter.Leaf(t, testpki.Options{}, "chain.test")
	expired := root.Leaf(t, testpki.Options{Expired: true}, "expired.test")
	notYet := root.Leaf(t, testpki.Options{NotYetValid: true}, "future.test")
	peer := root.Leaf(t, testpki.Options{
		Subject: openssl.Name{{Type: "C", Value: "US"}, {Type: "ST", Value: "CA"}, {Type: "L", Value: "SF"},
			{Type: "O", Value: "Joyent"}, {Type: "OU", Value: "Node.js"}, {Type: "CN", Value: "peer.test"},
			{Type: "emailAddress", Value: "ry@tinyclouds.org"}},
		OCSPServer:            []string{"http://ocsp.nodejs.org/"},
		IssuingCertificateURL: []string{"http://ca.nodejs.org/ca.cert"},
	}, "peer.test")
	utf8 := root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, Subject: openssl.Name{
		{Type: "C", Value: "HU"}, {Type: "L", Value: "Budapest"}, {Type: "O", Value: "Tresorit"},
		{Type: "CN", Value: "Ádám Lippai"}, {Type: "emailAddress", Value: "adam.lippai@tresorit.com"}}}, "utf8.test")
	multiOU := root.Leaf(t, testpki.Options{Subject: openssl.Name{
		{Type: "C", Value: "UK"}, {Type: "O", Value: "Node.js"},
		{Type: "OU", Value: "Information Technology"}, {Type: "OU", Value: "Engineering"}, {Type: "OU", Value: "Marketing"},
		{Type: "CN", Value: "multi.test"}}}, "multi.test")

	ctx := func(l *testpki.Leaf) map[string]any {
		return map[string]any{"key": str(l.KeyPEM), "cert": str(l.ChainPEM)}
	}
	port, _ := parity.StartNodeServer(t, parity.ServerSpec{
		Options: map[string]any{"key": str(def.KeyPEM), "cert": str(def.ChainPEM)},
		Contexts: map[string]map[string]any{
			"self.test": ctx(self), "other.test": ctx(other.Leaf(t, testpki.Options{}, "other.test")),
			"chain.test": ctx(chain), "expired.test": ctx(expired), "future.test": ctx(notYet),
			"peer.test": ctx(peer), "utf8.test": ctx(utf8), "multi.test": ctx(multiOU),
			"leafonly.test": {"key": str(chain.KeyPEM), "cert": str(chain.CertPEM)},
		},
	})
	rootCA := str(root.CertPEM)
	chainExtra := parity.ClientSpec{Extra: []string{"peerChain", "certificate"}}

	var cases []clientCase
	// test-tls-client-reject (and -12): self-signed server certificate.
	for _, v := range []string{"TLSv1.3", "TLSv1.2"} {
		cases = append(cases,
			clientCase{name: "client-reject/" + v + "/self-signed rejected by default",
				opts: map[string]any{"servername": "self.test", "maxVersion": v}},
			clientCase{name: "client-reject/" + v + "/rejectUnauthorized false connects unauthorized",
				opts: map[string]any{"servername": "self.test", "maxVersion": v, "rejectUnauthorized": false}},
			clientCase{name: "client-reject/" + v + "/ca makes it authorized",
				opts: map[string]any{"servername": "self.test", "maxVersion": v, "ca": str(self.CertPEM)}},
		)
	}
	// test-tls-client-verify: authorized over CA sets x servers, with a client
	// certificate and rejectUnauthorized false.
	clientLeaf := root.Leaf(t, testpki.Options{ClientAuth: true}, "client.test")
	caSets := map[string][]string{
		"ca1":     {rootCA},
		"none":    nil,
		"ca1+ca2": {rootCA, str(other.CertPEM)},
	}
	for _, set := range []string{"ca1", "none", "ca1+ca2"} {
		for _, sn := range []string{"localhost", "self.test", "other.test"} {
			o := map[string]any{"servername": sn, "rejectUnauthorized": false,
				"key": str(clientLeaf.KeyPEM), "cert": str(clientLeaf.CertPEM)}
			if cas := caSets[set]; cas != nil {
				o["ca"] = cas
			}
			cases = append(cases, clientCase{name: "client-verify/" + set + "/" + sn, opts: o})
		}
	}
	cases = append(cases,
		// test-tls-friendly-error-message: UNABLE_TO_VERIFY_LEAF_SIGNATURE.
		clientCase{name: "friendly-error-message/untrusted CA", opts: map[string]any{"servername": "localhost"}},
		// test-tls-ca-concat: an unrelated certificate before the right root.
		clientCase{name: "ca-concat/unrelated cert then root", opts: map[string]any{
			"servername": "localhost", "ca": str(otherLeaf.CertPEM) + "\n" + rootCA}},
		// test-tls-cert-chains-concat: leaf+intermediate sent, completed with the root.
		clientCase{name: "cert-chains-concat/chain and serials", opts: map[string]any{"servername": "chain.test", "ca": rootCA}, spec: chainExtra,
			check: func(t *testing.T, node, goLines []parity.Line) {
				for _, ls := range [][]parity.Line{node, goLines} {
					c := chainOf(t, ls)
					require.Len(t, c, 3, "leaf, intermediate, root")
					assert.Equal(t, hexSerial(chain.Serial), c[0]["serialNumber"])
					assert.Equal(t, map[string]any{"CN": "nodetls intermediate CA"}, c[1]["subject"])
					assert.Equal(t, map[string]any{"CN": "nodetls test CA"}, c[2]["subject"])
					assert.Equal(t, []any{false, false, true}, []any{c[0]["selfIssued"], c[1]["selfIssued"], c[2]["selfIssued"]},
						"the root's issuerCertificate is itself")
				}
			}},
		clientCase{name: "cert-chains-concat/TLS 1.2", opts: map[string]any{"servername": "chain.test", "ca": rootCA, "maxVersion": "TLSv1.2"}, spec: chainExtra},
		clientCase{name: "cert-chains-concat/no ca: UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
			opts: map[string]any{"servername": "chain.test", "rejectUnauthorized": false}, spec: chainExtra},
		clientCase{name: "cert-chains/leaf only, intermediate missing",
			opts: map[string]any{"servername": "leafonly.test", "ca": rootCA}},
		// test-tls-client-allow-partial-trust-chain.
		clientCase{name: "client-allow-partial-trust-chain/intermediate only, not allowed",
			opts: map[string]any{"servername": "chain.test", "ca": str(inter.CertPEM)}},
		clientCase{name: "client-allow-partial-trust-chain/intermediate only, allowed",
			opts: map[string]any{"servername": "chain.test", "ca": str(inter.CertPEM), "allowPartialTrustChain": true}, spec: chainExtra},
		// test-tls-connect-secure-context: a secureContext with only ca.
		clientCase{name: "connect-secure-context/secureContext with ca", opts: map[string]any{
			"servername": "localhost", "secureContext": map[string]any{"ca": rootCA}}},
		clientCase{name: "connect-secure-context/secureContext without the ca", opts: map[string]any{
			"servername": "localhost", "secureContext": map[string]any{"ca": str(other.CertPEM)}}},
		// Verification failures with their codes (section 2.10 of the reference).
		clientCase{name: "client-verify/expired certificate", opts: map[string]any{"servername": "expired.test", "ca": rootCA}},
		clientCase{name: "client-verify/not yet valid certificate", opts: map[string]any{"servername": "future.test", "ca": rootCA}},
		clientCase{name: "client-verify/expired, rejectUnauthorized false", opts: map[string]any{"servername": "expired.test", "ca": rootCA, "rejectUnauthorized": false}},
		// test-tls-peer-certificate: fields, detailed chain, issuer loop at the root.
		clientCase{name: "peer-certificate/fields and issuer loop", opts: map[string]any{"servername": "peer.test", "ca": rootCA}, spec: chainExtra,
			check: func(t *testing.T, node, goLines []parity.Line) {
				for _, ls := range [][]parity.Line{node, goLines} {
					pc, _ := lineOf(ls, "secureConnect")["peerCertificate"].(map[string]any)
					require.NotNil(t, pc)
					assert.Equal(t, "ry@tinyclouds.org", pc["subject"].(map[string]any)["emailAddress"])
					assert.Equal(t, "0x10001", pc["exponent"])
					assert.Equal(t, hexSerial(peer.Serial), pc["serialNumber"])
					assert.Equal(t, map[string]any{"OCSP - URI": []any{"http://ocsp.nodejs.org/"},
						"CA Issuers - URI": []any{"http://ca.nodejs.org/ca.cert"}}, pc["infoAccess"])
					c := chainOf(t, ls)
					require.Len(t, c, 2)
					assert.Equal(t, true, c[1]["selfIssued"])
				}
			}},
		// test-tls-peer-certificate-encoding: UTF-8 subject values (EC key).
		clientCase{name: "peer-certificate-encoding/UTF-8 CN", opts: map[string]any{"servername": "utf8.test", "ca": rootCA}, spec: chainExtra},
		// test-tls-peer-certificate-multi-keys: a repeated OU is an array.
		clientCase{name: "peer-certificate-multi-keys/repeated OU", opts: map[string]any{"servername": "multi.test", "ca": rootCA}},
		// The local certificate of a client with a cert (getCertificate).
		clientCase{name: "getcertificate/client certificate", opts: map[string]any{"servername": "localhost", "ca": rootCA,
			"key": str(clientLeaf.KeyPEM), "cert": str(clientLeaf.CertPEM)}, spec: parity.ClientSpec{Extra: []string{"certificate"}}},
	)
	runClientCases(t, port, cases)
}

// test-tls-cert-chains-in-ca: the server sends only its leaf and completes
// the chain from its own ca (OpenSSL's automatic chain building).
func TestParityClientCertChainsInCA(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	inter := root.Intermediate(t, testpki.Options{})
	leaf := inter.Leaf(t, testpki.Options{}, "localhost")
	port, _ := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{
		"key": str(leaf.KeyPEM), "cert": str(leaf.CertPEM), "ca": str(inter.CertPEM)}})
	node, _ := runClientParity(t, port, map[string]any{"servername": "localhost", "ca": str(root.CertPEM)},
		parity.ClientSpec{Extra: []string{"peerChain"}})
	sc := lineOf(node, "secureConnect")
	require.NotNil(t, sc)
	assert.Equal(t, true, sc["authorized"])
	chain, _ := lineOf(node, "extra")["peerChain"].([]any)
	assert.Len(t, chain, 3, "leaf, intermediate, root")
}

// chainOf is the peerChain of the extra line.
func chainOf(t *testing.T, lines []parity.Line) []map[string]any {
	t.Helper()
	x := lineOf(lines, "extra")
	require.NotNil(t, x, "no extra line in %v", lines)
	raw, _ := x["peerChain"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, e := range raw {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// hexSerial is a serial number as Node shows it (BN_bn2hex: upper case,
// whole bytes).
func hexSerial(n *big.Int) string {
	s := fmt.Sprintf("%X", n)
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

package tls_test

import (
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
)

// Client-side parity: the same tls.connect options run by a node client and
// by tls.Connect against the same node server print the same lines.
func TestParityClientBasics(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	self := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")

	servers := map[string]parity.ServerSpec{
		"ca":   {Options: map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM), "ALPNProtocols": []string{"h2", "http/1.1"}}},
		"self": {Options: map[string]any{"key": string(self.KeyPEM), "cert": string(self.ChainPEM)}},
		"alpn": {Options: map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM), "ALPNProtocols": []string{"é\u0101"}}},
	}
	ports := map[string]int{}
	for name, spec := range servers {
		ports[name], _ = parity.StartNodeServer(t, spec)
	}
	cases := []struct {
		name, server string
		opts         map[string]any
	}{
		{"trusted CA", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "localhost"}},
		{"untrusted CA", "ca", map[string]any{"servername": "localhost"}},
		{"untrusted CA, reject false", "ca", map[string]any{"servername": "localhost", "rejectUnauthorized": false}},
		{"self-signed", "self", map[string]any{"servername": "localhost"}},
		{"self-signed, reject false", "self", map[string]any{"servername": "localhost", "rejectUnauthorized": false}},
		{"self-signed trusted", "self", map[string]any{"servername": "localhost", "ca": string(self.CertPEM)}},
		{"wrong host", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "evil.example"}},
		{"wrong host, reject false", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "evil.example", "rejectUnauthorized": false}},
		{"TLS 1.2", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "localhost", "maxVersion": "TLSv1.2"}},
		{"ALPN", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "localhost", "ALPNProtocols": []string{"http/1.1", "h2"}}},
		{"IP host", "ca", map[string]any{"ca": string(ca.CertPEM), "host": "127.0.0.1"}},
		// Node sends the name as UTF-8 and reads socket.servername back
		// from OpenSSL as Latin-1: "Ã©Ä.example".
		{"servername not ASCII", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "é\u0101.example"}},
		// The negotiated protocol is read back as Latin-1: "Ã©Ä".
		{"ALPN name not ASCII", "alpn", map[string]any{"ca": string(ca.CertPEM), "servername": "localhost", "ALPNProtocols": []string{"x", "é\u0101"}}},
		// Node hands the name to OpenSSL as a C string: a NUL ends it.
		{"servername with NUL", "ca", map[string]any{"ca": string(ca.CertPEM), "servername": "local\u0000host"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := map[string]any{"host": "127.0.0.1", "port": ports[c.server]}
			for k, v := range c.opts {
				opts[k] = v
			}
			spec := parity.ClientSpec{Options: opts}
			node := parity.RunNodeClient(t, spec)
			got := parity.RunGoClient(t, spec)
			assert.NotEmpty(t, node, "node printed nothing")
			assert.Empty(t, parity.Diff(node, got), "node %v\ngo %v", node, got)
			t.Logf("%v", node)
		})
	}
}

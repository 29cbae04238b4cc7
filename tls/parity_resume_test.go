package tls_test

import (
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client that resumes a session from its serialized form has no peer
// certificate chain: Node's getPeerCertificate() gives {} then, on TLS 1.2
// and TLS 1.3 alike.
func TestParityResumedClientPeerCertificate(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost")
	port, _ := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM)}})
	for _, version := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(version, func(t *testing.T) {
			spec := parity.ClientSpec{
				Options:     map[string]any{"host": "127.0.0.1", "port": port, "servername": "localhost", "ca": string(ca.CertPEM), "maxVersion": version},
				Connections: 2,
				Resume:      true,
			}
			node := parity.RunNodeClient(t, spec)
			got := parity.RunGoClient(t, spec)
			require.Len(t, node, 2)
			assert.Equal(t, true, node[1]["isSessionReused"])
			assert.Empty(t, parity.Diff(node, got), "node %v\ngo %v", node, got)
		})
	}
}

package tls_test

import (
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that shares no ALPN protocol with the client reports OpenSSL's
// error (ERR_SSL_NO_APPLICATION_PROTOCOL) through tlsClientError, as Node,
// whether the refusal comes from ALPNProtocols or from an ALPNCallback.
func TestParityServerALPNRefused(t *testing.T) {
	leaf := testpki.NewCA(t, testpki.Options{}).Leaf(t, testpki.Options{}, "localhost")
	base := map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM)}
	cases := map[string]parity.ServerSpec{
		"ALPNProtocols": {Options: map[string]any{"key": base["key"], "cert": base["cert"], "ALPNProtocols": []string{"h2"}}},
		"ALPNCallback":  {Options: base, ALPNCallback: "none"},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			client := parity.ClientSpec{Options: map[string]any{"host": "127.0.0.1", "rejectUnauthorized": false, "ALPNProtocols": []string{"spdy/1"}}}
			nodePort, nodeLines := parity.StartNodeServer(t, spec)
			goPort, goLines := parity.StartGoServer(t, spec)
			client.Options["port"] = nodePort
			parity.RunNodeClient(t, client)
			client.Options["port"] = goPort
			parity.RunNodeClient(t, client)
			// An ALPNCallback also prints a line of its own, before the error.
			lines := 1
			if spec.ALPNCallback != "" {
				lines = 2
			}
			want := parity.WaitLines(nodeLines, lines, 10*time.Second)
			got := parity.WaitLines(goLines, lines, 10*time.Second)
			errs := parity.Events(want, "tlsClientError")
			require.Len(t, errs, 1, "node %v", want)
			assert.Equal(t, "ERR_SSL_NO_APPLICATION_PROTOCOL", errs[0]["code"])
			assert.Empty(t, parity.Diff(want, got), "node %v\ngo %v", want, got)
		})
	}
}

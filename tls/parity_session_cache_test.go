package tls_test

import (
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server with newSession/resumeSession handlers sees the events Node's
// server sees: resumeSession for every ClientHello that carries a session id
// and no ticket (also TLS 1.3's legacy session id, which OpenSSL itself never
// looks up), and, since the server never acknowledges SNI, a TLS 1.2 session
// resumed by id has no servername.
func TestParityServerSessionCache(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost")
	client := map[string]any{"host": "127.0.0.1", "servername": "localhost", "ca": string(ca.CertPEM)}
	// TLS 1.2 resumes by session id (no tickets), TLS 1.3 by ticket.
	cases := map[string]map[string]any{
		"TLSv1.2": {"maxVersion": "TLSv1.2", "secureOptions": 0x4000}, // SSL_OP_NO_TICKET
		"TLSv1.3": {},
	}
	for version, extra := range cases {
		t.Run(version, func(t *testing.T) {
			options := map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM)}
			for k, v := range extra {
				options[k] = v
			}
			spec := parity.ServerSpec{Options: options, SessionCache: true}
			nodePort, nodeLines := parity.StartNodeServer(t, spec)
			goPort, goLines := parity.StartGoServer(t, spec)
			run := func(port int) {
				opts := map[string]any{"port": port}
				for k, v := range client {
					opts[k] = v
				}
				lines := parity.RunNodeClient(t, parity.ClientSpec{Options: opts, Connections: 2, Resume: true})
				require.Len(t, lines, 2)
				assert.Equal(t, true, lines[1]["isSessionReused"], "the second connection resumes")
			}
			run(nodePort)
			want := settle(nodeLines, 5)
			run(goPort)
			got := settle(goLines, len(want))
			// TLS 1.3 tickets: nodetls reports newSession before
			// secureConnection (see cmd/nodetls's server test); compare the
			// other events in order, and the number of new sessions.
			wantOther, wantNew := splitNewSession(want)
			gotOther, gotNew := splitNewSession(got)
			assert.Equal(t, wantNew, gotNew, "newSession events\nnode %v\ngo   %v", want, got)
			assert.Empty(t, parity.Diff(wantOther, gotOther, "id"), "node %v\ngo   %v", want, got)
			require.NotEmpty(t, wantOther)
			assert.Equal(t, "resumeSession", wantOther[0]["event"])
		})
	}
}

func settle(get func() []parity.Line, n int) []parity.Line {
	ls := parity.WaitLines(get, n, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	return parity.WaitLines(get, len(ls), time.Second)
}

func splitNewSession(lines []parity.Line) (other []parity.Line, newSessions int) {
	for _, l := range lines {
		if l["event"] == "newSession" {
			newSessions++
			continue
		}
		other = append(other, l)
	}
	return other, newSessions
}

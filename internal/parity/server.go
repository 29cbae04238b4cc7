package parity

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
)

// Peer is the client side of a server scenario: it talks to the server on
// 127.0.0.1:port and returns the lines it observed. The same peer runs
// against the node server and the Go server.
type Peer func(t testing.TB, port int) []Line

// ServerRun is what one side of a server scenario observed: the server's
// lines (events of tls.Server and its sockets) and the peer's.
type ServerRun struct {
	Server, Client []Line
}

// RunServer runs the scenario on a node server and on a Go server with the
// same peer, and returns both runs. The server's lines are collected once the
// peer has finished and the server has been quiet for a moment; on the Go
// side it also waits (up to a few seconds) for as many lines as node printed.
// Session ids are replaced by "#1", "#2", ... in order of appearance, so the
// two runs compare.
//
// want names events the node run is expected to show (on the server or the
// peer): the node server's lines are awaited (up to 10 s) until they do, so
// that a slow machine does not cut the run short.
func RunServer(t testing.TB, spec ServerSpec, peer Peer, want ...string) (node, goRun ServerRun) {
	t.Helper()
	nport, nget := StartNodeServer(t, spec)
	node.Client = runPeer(t, peer, nport)
	node.Server = numberIDs(settle(nget, 0, hasEvents(node.Client, want), 200*time.Millisecond, 10*time.Second))

	gport, gget := StartGoServer(t, spec)
	goRun.Client = runPeer(t, peer, gport)
	goRun.Server = numberIDs(settle(gget, len(node.Server), nil, 100*time.Millisecond, 5*time.Second))
	return node, goRun
}

// hasEvents reports whether server lines, with the peer's, show every event
// of want.
func hasEvents(peer []Line, want []string) func([]Line) bool {
	return func(server []Line) bool {
		for _, w := range want {
			if len(Events(server, w)) == 0 && len(Events(peer, w)) == 0 {
				return false
			}
		}
		return true
	}
}

func runPeer(t testing.TB, peer Peer, port int) []Line {
	if port == 0 || peer == nil {
		return nil // the server was not created
	}
	return peer(t, port)
}

// settle polls get until it has at least n lines (other than "listening")
// that satisfy ready (when not nil) and then nothing new for quiet, or until
// max has passed.
func settle(get func() []Line, n int, ready func([]Line) bool, quiet, max time.Duration) []Line {
	deadline := time.Now().Add(max)
	var last []Line
	lastChange := time.Now()
	for {
		var ls []Line
		for _, l := range get() {
			if l["event"] != "listening" {
				ls = append(ls, l)
			}
		}
		if len(ls) != len(last) {
			last, lastChange = ls, time.Now()
		}
		if (len(last) >= n && (ready == nil || ready(last)) && time.Since(lastChange) >= quiet) || time.Now().After(deadline) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// numberIDs replaces the values of "id" keys by "#1", "#2", ... in order of
// first appearance.
func numberIDs(ls []Line) []Line {
	ids := map[string]string{}
	for _, l := range ls {
		if v, ok := l["id"].(string); ok {
			if _, seen := ids[v]; !seen {
				ids[v] = "#" + strconv.Itoa(len(ids)+1)
			}
			l["id"] = ids[v]
		}
	}
	return ls
}

// DiffRuns compares both sides of a server scenario, server lines and peer
// lines, ignoring the keys in ignore; "" when they agree.
func DiffRuns(node, goRun ServerRun, ignore ...string) string {
	var b strings.Builder
	if d := Diff(node.Server, goRun.Server, ignore...); d != "" {
		fmt.Fprintf(&b, "server lines differ:\n%s", d)
	}
	// The two servers listen on different ports: a client error's port
	// (Node's err.port) names each one's own.
	if d := Diff(node.Client, goRun.Client, append([]string{"port"}, ignore...)...); d != "" {
		fmt.Fprintf(&b, "peer lines differ:\n%s", d)
	}
	return b.String()
}

// NodeClient is a Peer that runs spec as a node client against the server.
func NodeClient(spec ClientSpec) Peer {
	return func(t testing.TB, port int) []Line {
		s := spec
		s.Options = map[string]any{"host": "127.0.0.1", "port": port}
		for k, v := range spec.Options {
			s.Options[k] = v
		}
		if len(spec.Ports) > 0 {
			s.Ports = make([]int, len(spec.Ports))
			for i, p := range spec.Ports {
				if p == 0 {
					p = port // 0 stands for the server under test
				}
				s.Ports[i] = p
			}
		}
		return RunNodeClient(t, s)
	}
}

// GoClient is a Peer that runs spec with tls.Connect against the server.
func GoClient(spec ClientSpec) Peer {
	return func(t testing.TB, port int) []Line {
		s := spec
		s.Options = map[string]any{"host": "127.0.0.1", "port": float64(port)}
		for k, v := range spec.Options {
			s.Options[k] = v
		}
		if len(spec.Ports) > 0 {
			s.Ports = make([]int, len(spec.Ports))
			for i, p := range spec.Ports {
				if p == 0 {
					p = port
				}
				s.Ports[i] = p
			}
		}
		return RunGoClient(t, s)
	}
}

// sClientSession matches s_client's "New, TLSv1.2, Cipher is X" and
// "Reused, TLSv1.3, Cipher is X" lines.
var sClientSession = regexp.MustCompile(`(?m)^(New|Reused), (\S+), Cipher is (\S+)`)

// OpenSSLClient is a Peer that runs `openssl s_client -connect
// 127.0.0.1:PORT ARGS...`, writes stdin to it (then closes its stdin), and
// prints an s_client line per session it reports ("New"/"Reused", protocol,
// cipher). Stdin lines "R" ask s_client to renegotiate; "@sleep" lines pause
// the writer for 300 ms instead of being sent.
func OpenSSLClient(stdin string, args ...string) Peer {
	return func(t testing.TB, port int) []Line {
		all := append([]string{"s_client", "-connect", "127.0.0.1:" + strconv.Itoa(port)}, args...)
		p := peers.Start(t, "openssl", all...)
		for _, l := range strings.SplitAfter(stdin, "\n") {
			if strings.TrimSpace(l) == "@sleep" {
				time.Sleep(300 * time.Millisecond)
				continue
			}
			if l != "" {
				if _, err := io.WriteString(p.Stdin, l); err != nil {
					break // s_client is gone
				}
			}
		}
		p.CloseStdin()
		p.Wait(t, 30*time.Second)
		var out []Line
		for _, m := range sClientSession.FindAllStringSubmatch(p.Stdout(), -1) {
			out = append(out, Line{"event": "s_client", "session": m[1], "protocol": m[2], "cipher": m[3]})
		}
		return out
	}
}

// RawClient is a Peer that opens a TCP connection, writes payload, and then
// reads for up to wait: it prints a raw line with whether the server closed
// the connection within wait and the hex of the first bytes it sent (up to
// 64).
func RawClient(payload []byte, wait time.Duration) Peer {
	return func(t testing.TB, port int) []Line {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("parity: %v", err)
		}
		defer c.Close()
		if len(payload) > 0 {
			go c.Write(payload) //nolint:errcheck // the server may close first
		}
		return []Line{rawResponse(c, wait)}
	}
}

// rawResponse reads c for up to wait: the raw line of RawClient and
// TrickleClient.
func rawResponse(c net.Conn, wait time.Duration) Line {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var got []byte
	buf := make([]byte, 4096)
	closed := false
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			closed = !errors.Is(err, os.ErrDeadlineExceeded)
			break
		}
	}
	if len(got) > 64 {
		got = got[:64]
	}
	return Line{"event": "raw", "closed": closed, "response": hex.EncodeToString(got)}
}

// TrickleClient is a Peer like RawClient that writes payload one byte at a
// time, a byte every interval, while it reads for up to wait (a slow client:
// each byte is activity on the connection).
func TrickleClient(payload []byte, every, wait time.Duration) Peer {
	return func(t testing.TB, port int) []Line {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("parity: %v", err)
		}
		defer c.Close()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := range payload {
				if _, err := c.Write(payload[i : i+1]); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		return []Line{rawResponse(c, wait)}
	}
}

// WriteTemp writes data to a file in a test's temporary directory (for
// s_client -cert/-key/-CAfile and -sess_out) and returns its path.
func WriteTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatalf("parity: %v", err)
	}
	return p
}

// Events returns the lines whose "event" is one of events, for focused
// checks.
func Events(ls []Line, events ...string) []Line {
	var out []Line
	for _, l := range ls {
		for _, e := range events {
			if l["event"] == e {
				out = append(out, l)
			}
		}
	}
	return out
}

// MultiPeer is the client side of a scenario with several servers: it gets
// their ports in the order of the specs.
type MultiPeer func(t testing.TB, ports []int) []Line

// RunServers is RunServer for several servers started side by side (all node,
// then all Go), e.g. to resume a session made by one on another. Each server
// line gets a "server" key with the server's index.
func RunServers(t testing.TB, specs []ServerSpec, peer MultiPeer, want ...string) (node, goRun ServerRun) {
	t.Helper()
	run := func(start func(testing.TB, ServerSpec) (int, func() []Line), n int, want []string, quiet, max time.Duration) ServerRun {
		var ports []int
		var gets []func() []Line
		for _, s := range specs {
			p, g := start(t, s)
			ports, gets = append(ports, p), append(gets, g)
		}
		var r ServerRun
		r.Client = peer(t, ports)
		all := func() []Line {
			var ls []Line
			for i, g := range gets {
				for _, l := range g() {
					l["server"] = float64(i)
					ls = append(ls, l)
				}
			}
			return ls
		}
		r.Server = numberIDs(settle(all, n, hasEvents(r.Client, want), quiet, max))
		return r
	}
	node = run(StartNodeServer, 0, want, 200*time.Millisecond, 10*time.Second)
	goRun = run(StartGoServer, len(node.Server), nil, 100*time.Millisecond, 5*time.Second)
	return node, goRun
}

// NodeClientPorts is a MultiPeer that runs spec as a node client whose
// connection i goes to ports[spec.Ports[i]] (indexes into the servers).
func NodeClientPorts(spec ClientSpec) MultiPeer {
	return func(t testing.TB, ports []int) []Line {
		s := spec
		s.Options = map[string]any{"host": "127.0.0.1"}
		for k, v := range spec.Options {
			s.Options[k] = v
		}
		s.Ports = make([]int, len(spec.Ports))
		for i, idx := range spec.Ports {
			s.Ports[i] = ports[idx]
		}
		return RunNodeClient(t, s)
	}
}

// Show formats lines for a test log, one JSON object per line, without the
// certificate details of socket lines.
func Show(ls []Line) string {
	var b strings.Builder
	for _, l := range ls {
		c := Line{}
		for k, v := range l {
			if k == "peerCertificate" {
				if m, ok := v.(map[string]any); ok && m["subject"] != nil {
					v = map[string]any{"subject": m["subject"]}
				}
			}
			c[k] = v
		}
		j, _ := json.Marshal(c)
		b.WriteString("\n    ")
		b.Write(j)
	}
	return b.String()
}

// ByEvent orders lines by event name, then by their content (session ids
// aside): for scenarios whose connections overlap (s_client -reconnect starts
// the next connection while the server may still be finishing the last),
// where the order of the events is timing. Session ids are numbered again in
// the new order.
func ByEvent(ls []Line) []Line {
	key := func(l Line) string {
		c := Line{}
		for k, v := range l {
			if k != "id" {
				c[k] = v
			}
		}
		j, _ := json.Marshal(c) // map keys are sorted
		e, _ := l["event"].(string)
		return e + "\x00" + string(j)
	}
	out := append([]Line(nil), ls...)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return numberIDs(out)
}

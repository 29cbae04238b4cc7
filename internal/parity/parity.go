package parity

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeshape"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/tls"
)

// Line is one decoded JSON line of either side.
type Line map[string]any

// Hex marks a Buffer option value: {"$hex": "..."}.
func Hex(b []byte) map[string]any { return map[string]any{"$hex": hex.EncodeToString(b)} }

// PSK is the client psk option of the scripts: the identity and hex key the
// pskCallback returns.
func PSK(identity string, key []byte) map[string]any {
	return map[string]any{"identity": identity, "key": hex.EncodeToString(key)}
}

// ClientSpec is a client scenario.
type ClientSpec struct {
	// Options are tls.connect's options with Node's names.
	Options map[string]any `json:"options"`
	// Connections is how many times to connect, one after the other (0 = 1).
	Connections int `json:"connections,omitempty"`
	// Resume passes each connection's last session to the next one.
	Resume bool `json:"resume,omitempty"`
	// Send is written after secureConnect (nil = "ping\n").
	Send *string `json:"send,omitempty"`
	// Extra asks for more properties in an "extra" line: "ephemeralKeyInfo",
	// "sharedSigalgs", "finishedLength", "certificate", "ticket", "peerChain"
	// (getPeerCertificate(true) walked to its root), "finished" (hex of
	// getFinished and getPeerFinished), "ekm" (EKM's exportKeyingMaterial
	// results), "maxSendFragment" (setMaxSendFragment of each of
	// MaxSendFragment). "ekmBeforeSecure" prints EKM's results right after
	// connect, before the handshake.
	Extra []string `json:"extra,omitempty"`
	// Events asks for lines per event: "keylog" (label and length of each
	// line), "session" (each 'session' event), "end" (getProtocol() at 'end').
	Events []string `json:"events,omitempty"`
	// EKM are the exportKeyingMaterial calls of the "ekm" extra.
	EKM []EKM `json:"ekm,omitempty"`
	// MaxSendFragment are the setMaxSendFragment sizes of the extra.
	MaxSendFragment []int `json:"maxSendFragment,omitempty"`
	// Renegotiate is how many renegotiations to run, one after the other,
	// after secureConnect ("renegotiated" or "renegotiateError" lines).
	Renegotiate int `json:"renegotiate,omitempty"`
	// PrintHint prints the PSK identity hint the pskCallback gets.
	PrintHint bool `json:"printHint,omitempty"`
	// NoEcho ends and closes the connection right after sending (Node's
	// destroySoon), without waiting for the server's echo or its close.
	NoEcho bool `json:"noEcho,omitempty"`
	// Ports, when set, gives connection i the port Ports[i % len(Ports)]
	// (e.g. to resume a session on another server).
	Ports []int `json:"ports,omitempty"`
	// Steps replace Send after secureConnect: "renegotiate" (prints a
	// renegotiate line), "send:TEXT", "read" (prints a data line), "end".
	Steps []string `json:"steps,omitempty"`
	// Delay is how long the client waits between its TCP connection and its
	// ClientHello, in milliseconds.
	Delay int `json:"delay,omitempty"`
}

// EKM is one exportKeyingMaterial(length, label, context) call; Context is
// hex, nil for none (undefined).
type EKM struct {
	Length  int     `json:"length"`
	Label   string  `json:"label"`
	Context *string `json:"context,omitempty"`
}

// ServerSpec is a server scenario.
type ServerSpec struct {
	// Options are tls.createServer's options with Node's names.
	Options map[string]any `json:"options"`
	// Contexts are addContext entries: host name pattern -> options.
	Contexts map[string]map[string]any `json:"contexts,omitempty"`
	// PSK maps identities to hex keys for the server's pskCallback.
	PSK map[string]string `json:"psk,omitempty"`
	// PrintIdentity prints a pskCallback line with the identity the
	// server's pskCallback gets.
	PrintIdentity bool `json:"printIdentity,omitempty"`
	// ALPNCallback is "first" (the client's first protocol) or "none" (refuse).
	ALPNCallback string `json:"alpnCallback,omitempty"`
	// SessionCache serves newSession/resumeSession from memory.
	SessionCache bool `json:"sessionCache,omitempty"`
	// KeepOnError leaves the socket open after tlsClientError (Node's default
	// behaviour for a handshake timeout); by default the handler destroys it.
	KeepOnError bool `json:"-"`
	// DestroyOnError mirrors KeepOnError for the script.
	DestroyOnError *bool `json:"destroyOnError,omitempty"`
	// Report adds to each secureConnection line: "finished" (hex of
	// getFinished and getPeerFinished), "sharedSigalgs", "ekm" (EKM's
	// exportKeyingMaterial results); "data" prints the length of each chunk
	// read.
	Report []string `json:"report,omitempty"`
	// EKM are the exportKeyingMaterial calls of the "ekm" report.
	EKM []EKM `json:"ekm,omitempty"`
	// SNI answers an SNICallback by server name: createSecureContext options,
	// "error" (the callback fails), or "empty" (a context without a
	// certificate). Other names keep the default context.
	SNI map[string]any `json:"sni,omitempty"`
	// SetKeyCert are options the "first" ALPNCallback passes to the socket's
	// setKeyCert before answering.
	SetKeyCert map[string]any `json:"setKeyCert,omitempty"`
	// SessionCacheInvalid makes resumeSession answer with junk data.
	SessionCacheInvalid bool `json:"sessionCacheInvalid,omitempty"`
	// Keylog prints a line per server keylog event.
	Keylog bool `json:"keylog,omitempty"`
	// OCSP answers OCSPRequest: "null" (nothing stapled), "error", or the hex
	// of the response to staple ("" installs no handler).
	OCSP string `json:"ocsp,omitempty"`
	// Calls are server methods called before listening, each printing a
	// call line.
	Calls []Call `json:"calls,omitempty"`
	// SetSecureContextAfterFirst are options for setSecureContext once the
	// first connection is secure.
	SetSecureContextAfterFirst map[string]any `json:"setSecureContextAfterFirst,omitempty"`
	// DisableRenegotiation disables renegotiation on each socket after its
	// first data.
	DisableRenegotiation bool `json:"disableRenegotiation,omitempty"`
	// DestroyOnSocketError destroys a secure socket after its 'error'.
	DestroyOnSocketError bool `json:"destroyOnSocketError,omitempty"`
	// Certificate adds the socket's getCertificate() to secureConnection
	// lines (twice, as test-tls-pfx-authorizationerror reads it twice).
	Certificate bool `json:"certificate,omitempty"`
}

// Call is a server method call of ServerSpec.Calls: "getTicketKeys",
// "setTicketKeys" (Hex), "setSecureContext" (Options), "addContext" (Host,
// Options).
type Call struct {
	Call    string         `json:"call"`
	Hex     string         `json:"hex,omitempty"`
	Host    string         `json:"host,omitempty"`
	Options map[string]any `json:"options,omitempty"`
}

func writeScript(t testing.TB, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatalf("parity: %v", err)
	}
	return p
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("parity: %v", err)
	}
	return string(b)
}

// ParseLines decodes JSON lines.
func ParseLines(t testing.TB, out string) []Line {
	t.Helper()
	var lines []Line
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] != '{' {
			continue
		}
		var l Line
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			t.Fatalf("parity: bad JSON line %q: %v", text, err)
		}
		lines = append(lines, l)
	}
	return lines
}

// RunNodeClient runs the scenario as a node client and returns its lines.
func RunNodeClient(t testing.TB, spec ClientSpec) []Line {
	t.Helper()
	script := writeScript(t, "client.js", clientScript)
	p := peers.Start(t, "node", script, mustJSON(t, spec))
	p.CloseStdin()
	p.Wait(t, 60*time.Second)
	return ParseLines(t, p.Stdout())
}

// RunGoClient runs the scenario with tls.Connect and returns the lines it
// would print, in the node script's shapes. Handlers are registered where a
// Go program would: keylog lines (delivered from the handshake) before the
// secureConnect line, sessions after it.
func RunGoClient(t testing.TB, spec ClientSpec) []Line {
	t.Helper()
	var mu sync.Mutex
	var out []string
	emit := func(o *nodeshape.Object) {
		mu.Lock()
		out = append(out, o.Line())
		mu.Unlock()
	}
	n := spec.Connections
	if n == 0 {
		n = 1
	}
	var session []byte
	for i := 0; i < n; i++ {
		opts, err := ConnectOptions(spec.Options)
		if err != nil {
			var te *tls.Error
			if !errors.As(err, &te) {
				t.Fatalf("parity: %v", err)
			}
			emit(nodeshape.Error(err)) // createSecureContext threw
			continue
		}
		if len(spec.Ports) > 0 {
			opts.Port = spec.Ports[i%len(spec.Ports)]
		}
		mu.Lock()
		if spec.Resume && session != nil {
			opts.Session = session
		}
		mu.Unlock()
		if spec.PrintHint && opts.PSKCallback != nil {
			cb := opts.PSKCallback
			opts.PSKCallback = func(hint string) ([]byte, string, bool) {
				emit(nodeshape.NewObject().Set("event", "pskHint").Set("hint", nullString(hint)))
				return cb(hint)
			}
		}
		if spec.Delay > 0 {
			raw, err := net.Dial("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
			if err != nil {
				t.Fatalf("parity: %v", err)
			}
			time.Sleep(time.Duration(spec.Delay) * time.Millisecond)
			opts.Socket = raw
		}
		s, err := tls.Connect(opts)
		if err == nil {
			runGoConnection(s, spec, emit, func(der []byte) {
				mu.Lock()
				session = der
				mu.Unlock()
			})
		} else {
			emit(nodeshape.Error(err))
		}
		if opts.SecureContext != nil {
			opts.SecureContext.Close() // made by ConnectOptions for this connection
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return ParseLines(t, strings.Join(out, "\n"))
}

// runGoConnection does what the client script does with a connected socket.
func runGoConnection(s *tls.Socket, spec ClientSpec, emit func(*nodeshape.Object), keepSession func([]byte)) {
	if has(spec.Events, "keylog") {
		s.OnKeylog(func(line []byte) {
			label, _, _ := strings.Cut(string(line), " ")
			emit(nodeshape.NewObject().Set("event", "keylog").Set("label", label).Set("length", len(line)))
		})
	}
	s.OnOCSPResponse(func(r []byte) {
		emit(nodeshape.NewObject().Set("event", "OCSPResponse").Set("response", hexOrNil(r)))
	})
	emit(nodeshape.SecureConnect(s))
	if len(spec.Extra) > 0 {
		emit(extraLine(s, spec))
	}
	s.OnSession(func(der []byte) {
		keepSession(der)
		if has(spec.Events, "session") {
			emit(nodeshape.NewObject().Set("event", "session"))
		}
	})
	for k := 0; k < spec.Renegotiate; k++ {
		if err := s.Renegotiate(tls.RenegotiateOptions{}); err != nil {
			emit(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "renegotiateError"), err))
			break
		}
		emit(nodeshape.NewObject().Set("event", "renegotiated").Set("n", k+1))
	}
	if spec.Steps != nil {
		goSteps(s, spec.Steps, emit)
		s.Close()
		return
	}
	send := "ping\n"
	if spec.Send != nil {
		send = *spec.Send
	}
	if _, err := s.Write([]byte(send)); err != nil {
		emit(nodeshape.Error(err))
		s.Close()
		return
	}
	buf := make([]byte, 16*1024)
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
	if !spec.NoEcho {
		if _, err := s.Read(buf); err != nil && !errors.Is(err, io.EOF) {
			emit(nodeshape.Error(err))
		}
	}
	s.End()
	if spec.NoEcho {
		s.Close()
		return
	}
	// Drain to the peer's close, so TLS 1.3 tickets are seen.
	for {
		if _, err := s.Read(buf); err != nil {
			if errors.Is(err, io.EOF) && has(spec.Events, "end") {
				emit(nodeshape.NewObject().Set("event", "end").Set("protocol", nullString(s.GetProtocol())))
			}
			break
		}
	}
	s.Close()
}

func has(list []string, k string) bool {
	for _, e := range list {
		if e == k {
			return true
		}
	}
	return false
}

// nullString is s, or JSON null when it is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// hexOrNil is b in hex, or JSON null when it is nil.
func hexOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return hex.EncodeToString(b)
}

// goSteps runs ClientSpec.Steps on a Go client socket, printing what the
// node script prints.
func goSteps(s *tls.Socket, steps []string, emit func(*nodeshape.Object)) {
	buf := make([]byte, 32*1024)
	for _, st := range steps {
		switch {
		case st == "renegotiate":
			o := nodeshape.NewObject().Set("event", "renegotiate")
			if err := s.Renegotiate(tls.RenegotiateOptions{}); err != nil {
				if isClosed(err) {
					emit(o.Set("closed", true))
					return
				}
				emit(nodeshape.ErrorFields(o, err))
				continue
			}
			emit(o.Set("ok", true))
		case strings.HasPrefix(st, "send:"):
			if _, err := s.Write([]byte(st[len("send:"):])); err != nil {
				emit(nodeshape.NewObject().Set("event", "closed"))
				return
			}
		case st == "read":
			_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
			n, err := s.Read(buf)
			if n == 0 && err != nil {
				emit(nodeshape.NewObject().Set("event", "data").Set("closed", true))
				return
			}
			emit(nodeshape.NewObject().Set("event", "data").Set("data", string(buf[:n])))
		case st == "end":
			s.End() //nolint:errcheck
			for {
				if _, err := s.Read(buf); err != nil {
					break
				}
			}
		}
	}
}

// isClosed reports an error that means the connection went away.
func isClosed(err error) bool {
	var te *tls.Error
	if errors.As(err, &te) && te.Code == "ECONNRESET" {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// ekmResults runs the EKM calls as the scripts do: hex, or the error thrown.
func ekmResults(s *tls.Socket, calls []EKM) []any {
	res := make([]any, 0, len(calls))
	for _, k := range calls {
		var ctx []byte
		if k.Context != nil {
			ctx, _ = hex.DecodeString(*k.Context)
			if ctx == nil {
				ctx = []byte{}
			}
		}
		b, err := s.ExportKeyingMaterial(k.Length, k.Label, ctx)
		if err != nil {
			res = append(res, nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "throw"), err))
			continue
		}
		res = append(res, hex.EncodeToString(b))
	}
	return res
}

// peerChain walks getPeerCertificate(true) to its root, as the script does.
func peerChain(s *tls.Socket) []any {
	chain := []any{}
	seen := map[*tls.Certificate]bool{}
	for c := s.GetPeerCertificate(true); c != nil && !seen[c]; c = c.IssuerCertificate {
		seen[c] = true
		chain = append(chain, nodeshape.NewObject().
			Set("subject", nameJSON(c.Subject)).
			Set("issuer", nameJSON(c.Issuer)).
			Set("serialNumber", c.SerialNumber).
			Set("selfIssued", c.IssuerCertificate == c))
	}
	return chain
}

// nameJSON is a subject or issuer as Node prints it: one value as a string,
// a repeated attribute as an array (key order does not matter to Diff).
func nameJSON(n tls.Name) map[string]any {
	out := map[string]any{}
	for k, v := range n {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

func extraLine(s *tls.Socket, spec ClientSpec) *nodeshape.Object {
	o := nodeshape.NewObject().Set("event", "extra")
	for _, e := range spec.Extra {
		switch e {
		case "ephemeralKeyInfo":
			k := s.GetEphemeralKeyInfo()
			ko := nodeshape.NewObject()
			if k.Type != "" {
				ko.Set("type", k.Type)
				if k.Name != "" {
					ko.Set("name", k.Name)
				}
				ko.Set("size", k.Size)
			}
			o.Set("ephemeralKeyInfo", ko)
		case "sharedSigalgs":
			o.Set("sharedSigalgs", s.GetSharedSigalgs())
		case "finishedLength":
			o.Set("finishedLength", len(s.GetFinished()))
		case "certificate":
			o.Set("certificate", nodeshape.PeerCertificate(s.GetCertificate()))
		case "ticket":
			o.Set("ticket", s.GetTLSTicket() != nil)
		case "peerChain":
			o.Set("peerChain", peerChain(s))
		case "finished":
			o.Set("finished", hex.EncodeToString(s.GetFinished()))
			o.Set("peerFinished", hex.EncodeToString(s.GetPeerFinished()))
		case "ekm":
			o.Set("ekm", ekmResults(s, spec.EKM))
		case "maxSendFragment":
			res := []any{}
			for _, n := range spec.MaxSendFragment {
				err := s.SetMaxSendFragment(n)
				var te *tls.Error
				switch {
				case err == nil:
					res = append(res, true)
				case errors.As(err, &te) && te.Code == "":
					res = append(res, false) // Node returns false
				default:
					res = append(res, nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "throw"), err))
				}
			}
			o.Set("maxSendFragment", res)
		}
	}
	return o
}

// StartNodeServer starts the scenario's node server and returns its port
// and a function that returns its lines so far.
func StartNodeServer(t testing.TB, spec ServerSpec) (int, func() []Line) {
	t.Helper()
	if spec.KeepOnError {
		f := false
		spec.DestroyOnError = &f
	}
	script := writeScript(t, "server.js", serverScript)
	p := peers.Start(t, "node", script, mustJSON(t, spec))
	m := p.WaitFor(t, regexp.MustCompile(`"event":"listening","port":(\d+)`), 20*time.Second)
	port, _ := strconv.Atoi(m[1])
	return port, func() []Line { return ParseLines(t, p.Stdout()) }
}

// StartGoServer starts the scenario on tls.CreateServer and returns its port
// and a function that returns its lines so far.
func StartGoServer(t testing.TB, spec ServerSpec) (int, func() []Line) {
	t.Helper()
	var mu sync.Mutex
	var lines []string
	emit := func(o *nodeshape.Object) {
		mu.Lock()
		lines = append(lines, o.Line())
		mu.Unlock()
	}
	get := func() []Line {
		mu.Lock()
		defer mu.Unlock()
		return ParseLines(t, strings.Join(lines, "\n"))
	}
	opts, err := ServerOptions(spec.Options)
	if err != nil {
		t.Fatalf("parity: %v", err)
	}
	if spec.PSK != nil {
		opts.PSKCallback = func(s *tls.Socket, identity string) []byte {
			if spec.PrintIdentity {
				emit(nodeshape.NewObject().Set("event", "pskCallback").Set("identity", identity))
			}
			if k, ok := spec.PSK[identity]; ok {
				b, _ := hex.DecodeString(k)
				return b
			}
			return nil
		}
	}
	alpnLine := func(servername string, protocols []string) {
		o := nodeshape.NewObject().Set("event", "ALPNCallback")
		if servername != "" {
			o.Set("servername", servername)
		} else {
			o.Set("servername", nil)
		}
		emit(o.Set("protocols", protocols))
	}
	switch spec.ALPNCallback {
	case "first":
		if spec.SetKeyCert != nil {
			kc, err := SecureContextOptions(spec.SetKeyCert)
			if err != nil {
				t.Fatalf("parity: %v", err)
			}
			opts.ALPNSocketCallback = func(s *tls.Socket, servername string, protocols []string) (string, bool) {
				alpnLine(servername, protocols)
				if err := s.SetKeyCert(kc); err != nil {
					emit(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "setKeyCertError"), err))
				}
				return protocols[0], true
			}
		} else {
			opts.ALPNCallback = func(servername string, protocols []string) (string, bool) {
				alpnLine(servername, protocols)
				return protocols[0], true
			}
		}
	case "none":
		opts.ALPNCallback = func(servername string, protocols []string) (string, bool) {
			alpnLine(servername, protocols)
			return "", false
		}
	case "invalid":
		opts.ALPNCallback = func(servername string, protocols []string) (string, bool) {
			alpnLine(servername, protocols)
			return "not-offered", true
		}
	}
	if spec.SNI != nil {
		sni, err := sniContexts(spec.SNI)
		if err != nil {
			t.Fatalf("parity: %v", err)
		}
		t.Cleanup(func() {
			for _, sc := range sni {
				sc.Close()
			}
		})
		opts.SNICallback = func(name string) (*tls.SecureContext, error) {
			emit(nodeshape.NewObject().Set("event", "SNICallback").Set("servername", name))
			if spec.SNI[name] == "error" {
				return nil, errors.New("SNI error for " + name)
			}
			return sni[name], nil
		}
	}
	var secureCount atomic.Int32
	var srv *tls.Server
	srv, err = tls.CreateServer(opts, func(s *tls.Socket) {
		line := nodeshape.SecureConnection(s)
		if spec.Certificate {
			line.Set("certificate", nodeshape.PeerCertificate(s.GetCertificate()))
			line.Set("certificateAgain", nodeshape.PeerCertificate(s.GetCertificate()))
		}
		if has(spec.Report, "finished") {
			line.Set("finished", hex.EncodeToString(s.GetFinished()))
			line.Set("peerFinished", hex.EncodeToString(s.GetPeerFinished()))
		}
		if has(spec.Report, "sharedSigalgs") {
			line.Set("sharedSigalgs", s.GetSharedSigalgs())
		}
		if has(spec.Report, "ekm") {
			line.Set("ekm", ekmResults(s, spec.EKM))
		}
		emit(line)
		s.OnError(func(err error) {
			emit(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "socketError"), err))
			if spec.DestroyOnSocketError {
				s.Destroy()
			}
		})
		if secureCount.Add(1) == 1 && spec.SetSecureContextAfterFirst != nil {
			o, err := SecureContextOptions(spec.SetSecureContextAfterFirst)
			if err == nil {
				err = srv.SetSecureContext(o)
			}
			if err != nil {
				emit(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "setSecureContextError"), err))
			}
		}
		defer s.Close()
		buf := make([]byte, 32*1024)
		first := true
		for {
			n, err := s.Read(buf)
			if n > 0 {
				if has(spec.Report, "data") {
					emit(nodeshape.NewObject().Set("event", "data").Set("length", n))
				}
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
				if first && spec.DisableRenegotiation {
					s.DisableRenegotiation()
				}
				first = false
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					s.End() //nolint:errcheck // the echo's end, as pipe() ends it
				}
				return
			}
		}
	})
	if err != nil {
		emit(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "createError"), err))
		return 0, get
	}
	hosts := make([]string, 0, len(spec.Contexts))
	for h := range spec.Contexts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		co, err := SecureContextOptions(spec.Contexts[h])
		if err != nil {
			t.Fatalf("parity: %v", err)
		}
		if err := srv.AddContext(h, co); err != nil {
			t.Fatalf("parity: AddContext(%s): %v", h, err)
		}
	}
	for _, c := range spec.Calls {
		emit(goCall(t, srv, c))
	}
	srv.OnTLSClientError(func(err error, s *tls.Socket) {
		o := nodeshape.TLSClientError(err)
		if s != nil && s.Servername() != "" {
			o.Set("servername", s.Servername())
		} else {
			o.Set("servername", nil)
		}
		emit(o)
		if !spec.KeepOnError && s != nil {
			s.Destroy()
		}
	})
	if spec.SessionCache {
		cache := map[string][]byte{}
		var cmu sync.Mutex
		srv.OnNewSession(func(id, data []byte) {
			emit(nodeshape.NewObject().Set("event", "newSession").Set("id", hex.EncodeToString(id)))
			cmu.Lock()
			cache[hex.EncodeToString(id)] = data
			cmu.Unlock()
		})
		srv.OnResumeSession(func(id []byte) []byte {
			cmu.Lock()
			d := cache[hex.EncodeToString(id)]
			cmu.Unlock()
			emit(nodeshape.NewObject().Set("event", "resumeSession").Set("id", hex.EncodeToString(id)).Set("found", d != nil))
			if d != nil && spec.SessionCacheInvalid {
				return []byte("INVALID SESSION")
			}
			return d
		})
	}
	if spec.Keylog {
		srv.OnKeylog(func(line []byte, s *tls.Socket) {
			label, _, _ := strings.Cut(string(line), " ")
			emit(nodeshape.NewObject().Set("event", "keylog").Set("label", label).
				Set("newline", strings.HasSuffix(string(line), "\n")).Set("socket", s != nil))
		})
	}
	if spec.OCSP != "" {
		srv.OnOCSPRequest(func(cert, issuer []byte) ([]byte, error) {
			o := nodeshape.NewObject().Set("event", "OCSPRequest").Set("cert", sha256Hex(cert))
			if issuer != nil {
				o.Set("issuer", sha256Hex(issuer))
			} else {
				o.Set("issuer", nil)
			}
			emit(o)
			switch spec.OCSP {
			case "error":
				return nil, errors.New("OCSP error")
			case "null":
				return nil, nil
			}
			return hex.DecodeString(spec.OCSP)
		})
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("parity: Listen: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	_, p, _ := strings.Cut(srv.Address().String(), "127.0.0.1:")
	port, _ := strconv.Atoi(p)
	return port, get
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sniContexts makes the contexts of ServerSpec.SNI.
func sniContexts(m map[string]any) (map[string]*tls.SecureContext, error) {
	out := map[string]*tls.SecureContext{}
	for name, v := range m {
		var o tls.SecureContextOptions
		switch x := v.(type) {
		case string:
			if x == "error" {
				continue
			}
			if x != "empty" {
				return nil, fmt.Errorf("sni %s: unknown answer %q", name, x)
			}
		case map[string]any:
			var err error
			if o, err = SecureContextOptions(x); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("sni %s: want options or a string, got %T", name, v)
		}
		sc, err := tls.CreateSecureContext(o)
		if err != nil {
			return nil, err
		}
		out[name] = sc
	}
	return out, nil
}

// goCall runs one ServerSpec call on srv and returns its call line.
func goCall(t testing.TB, srv *tls.Server, c Call) *nodeshape.Object {
	o := nodeshape.NewObject().Set("event", "call").Set("call", c.Call)
	var err error
	switch c.Call {
	case "getTicketKeys":
		return o.Set("result", hex.EncodeToString(srv.GetTicketKeys()))
	case "setTicketKeys":
		b, herr := hex.DecodeString(c.Hex)
		if herr != nil {
			t.Fatalf("parity: %v", herr)
		}
		err = srv.SetTicketKeys(b)
	case "setSecureContext", "addContext":
		opts, oerr := SecureContextOptions(c.Options)
		if oerr != nil {
			t.Fatalf("parity: %v", oerr)
		}
		if c.Call == "addContext" {
			err = srv.AddContext(c.Host, opts)
		} else {
			err = srv.SetSecureContext(opts)
		}
	default:
		return o.Set("code", "UNKNOWN_CALL").Set("message", c.Call)
	}
	if err != nil {
		o.Set("event", "call")
		return nodeshape.ErrorFields(o, err)
	}
	return o.Set("result", nil)
}

// WaitLines waits until get returns at least n lines with an "event" other
// than "listening", or the timeout passes, and returns them.
func WaitLines(get func() []Line, n int, timeout time.Duration) []Line {
	deadline := time.Now().Add(timeout)
	for {
		var ls []Line
		for _, l := range get() {
			if l["event"] != "listening" {
				ls = append(ls, l)
			}
		}
		if len(ls) >= n || time.Now().After(deadline) {
			return ls
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// opensslMessage matches Node's message for an OpenSSL error:
// "TID:error:CODE:library:function:reason:file:line:data\n".
var opensslMessage = regexp.MustCompile(`^[0-9A-F]+:(error:[0-9A-F]{8}:[^:]*:[^:]*:[^:]*):[^:]*:\d+:(.*)$`)

// Normalize removes what may differ between the two sides of a line: the
// thread id and source file:line of an OpenSSL error message.
func Normalize(l Line) Line {
	out := Line{}
	for k, v := range l {
		if s, ok := v.(string); ok && k == "message" {
			if m := opensslMessage.FindStringSubmatch(strings.TrimRight(s, "\n")); m != nil {
				v = m[1] + ":" + m[2]
			}
		}
		out[k] = v
	}
	return out
}

// Diff compares the lines of both sides after Normalize, ignoring the keys
// in ignore, and returns a description of every difference ("" if none).
func Diff(node, goLines []Line, ignore ...string) string {
	skip := map[string]bool{}
	for _, k := range ignore {
		skip[k] = true
	}
	var b strings.Builder
	if len(node) != len(goLines) {
		fmt.Fprintf(&b, "node printed %d lines, Go %d\n", len(node), len(goLines))
	}
	for i := 0; i < len(node) && i < len(goLines); i++ {
		n, g := Normalize(node[i]), Normalize(goLines[i])
		keys := map[string]bool{}
		for k := range n {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if skip[k] {
				continue
			}
			nv, nok := n[k]
			gv, gok := g[k]
			if nok != gok || !equalJSON(nv, gv) {
				fmt.Fprintf(&b, "line %d (%v) %q: node %s, Go %s\n", i, n["event"], k, show(nv, nok), show(gv, gok))
			}
		}
	}
	if len(node) != len(goLines) {
		fmt.Fprintf(&b, "node: %s\nGo:   %s\n", showAll(node), showAll(goLines))
	}
	return b.String()
}

func equalJSON(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok {
			return math.Abs(fa-fb) < 1e-9
		}
	}
	return reflect.DeepEqual(a, b)
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func showAll(ls []Line) string {
	b, _ := json.Marshal(ls)
	return string(b)
}

package tls_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/jsstring"
	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// alpnOracleScript is node's side of FuzzALPN (pairingOracleJS). A server
// spec is {key, cert, protocols (hex), mode}: mode 0 gives createServer
// ALPNProtocols; 1 and 2 an ALPNCallback that returns the first or the last
// name offered; 3 one that returns the server's first name (latin1) whether
// offered or not; 4 one that returns undefined; 5 both ALPNProtocols and
// ALPNCallback; 6 neither; 7 a callback that returns the server's first name
// when it is offered and undefined otherwise. A client spec is {protocols
// (hex), servername}.
const alpnOracleScript = pairingOracleJS + `
// Node 20 takes names of any bytes in one Buffer, in the wire format (an
// array may hold strings only).
const wire = (names) => Buffer.concat(names.flatMap((n) => [Buffer.from([n.length]), n]));

async function startServer(spec) {
  const calls = [];
  const names = spec.protocols.map((h) => Buffer.from(h, 'hex'));
  const options = {key: spec.key, cert: spec.cert};
  if (spec.mode === 0 || spec.mode === 5) options.ALPNProtocols = wire(names);
  if (spec.mode >= 1 && spec.mode <= 5 || spec.mode === 7) {
    options.ALPNCallback = ({servername, protocols}) => {
      calls.push({servername: str(servername), protocols});
      switch (spec.mode) {
        case 1: return protocols[0];
        case 2: return protocols[protocols.length - 1];
        case 3: return names.length ? names[0].toString('latin1') : 'none';
        case 4: return undefined;
        case 7: {
          const first = names.length ? names[0].toString('latin1') : undefined;
          return protocols.includes(first) ? first : undefined;
        }
      }
      return protocols[0];
    };
  }
  return listen(options, (s) => ({alpn: str(s.alpnProtocol)}), () => ({calls}));
}

function connect(spec, port) {
  const options = {host: '127.0.0.1', port, rejectUnauthorized: false,
    ALPNProtocols: wire(spec.protocols.map((h) => Buffer.from(h, 'hex')))};
  if (spec.servername) options.servername = spec.servername;
  return client(options, (c) => ({alpn: str(c.alpnProtocol)}));
}
`

// alpnReply is the oracle's answer, and the same for nodetls.
type alpnReply struct {
	ServerError string      `json:"serverError,omitempty"`
	ClientError string      `json:"clientError,omitempty"`
	Client      *alpnClient `json:"client,omitempty"`
	Server      *alpnServer `json:"server,omitempty"`
	OracleError string      `json:"oracleError,omitempty"`
}

type alpnClient struct {
	ALPN  string `json:"alpn"`
	Data  string `json:"data"`
	After string `json:"after,omitempty"`
}

type alpnServer struct {
	Error string     `json:"error,omitempty"`
	ALPN  string     `json:"alpn,omitempty"`
	Calls []alpnCall `json:"calls"` // the ALPNCallback calls
}

type alpnCall struct {
	Servername string   `json:"servername"`
	Protocols  []string `json:"protocols"`
}

// alpnServerSpec and alpnClientSpec are the request's ends.
type alpnServerSpec struct {
	Key       string   `json:"key"`
	Cert      string   `json:"cert"`
	Protocols []string `json:"protocols"` // hex
	Mode      int      `json:"mode"`
}

type alpnClientSpec struct {
	Protocols  []string `json:"protocols"` // hex
	Servername string   `json:"servername,omitempty"`
}

// alpnNames splits b at ',' into at most 8 names of at most 20 bytes.
func alpnNames(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte(","))
	if len(parts) > 8 {
		parts = parts[:8]
	}
	for i, p := range parts {
		if len(p) > 20 {
			parts[i] = p[:20]
		}
	}
	return parts
}

func hexNames(names [][]byte) []string {
	out := []string{}
	for _, n := range names {
		out = append(out, hex.EncodeToString(n))
	}
	return out
}

// FuzzALPN compares ALPN with node: the fuzz arguments are the client's and
// the server's protocol names (any bytes), how the server chooses (its list,
// an ALPNCallback returning an offered name, a name not offered, nothing,
// both list and callback, neither) and the server name the client asks
// for. A node server and client, nodetls's, and each mixed pair must see
// the same: the errors, the protocol each end reports, the data, and the
// ALPNCallback's calls (server name and offered names as Node's text).
func FuzzALPN(f *testing.F) {
	for _, s := range []struct {
		client, server string
		mode           uint8
		sni            bool
	}{
		{"h2,http/1.1", "http/1.1,h2", 0, false},
		{"h2,http/1.1", "spdy", 0, false}, // no overlap
		{"h2,http/1.1", "", 6, false},     // no server ALPN
		{"", "h2", 0, false},              // the client offers none
		{"h2,http/1.1", "", 1, true},
		{"h2,http/1.1", "", 2, false},
		{"a,b", "c", 3, false},        // a name not offered
		{"a,b", "", 4, false},         // undefined
		{"a,b", "a", 5, false},        // list and callback
		{"a,b", "", 5, false},         // an empty list and a callback (Node's [] is truthy)
		{"a,b", "b", 7, true},         // the server's name when offered
		{"a,b", "c", 7, false},        // ... and not
		{"\xe9,h2", "\xe9", 0, false}, // Latin-1
		{"\xe9,h2", "", 1, false},
		{"\xe9,h2", "\xe9", 3, false}, // the callback returns Latin-1 "é"; Node offers ASCII "i"
		{"x", "h2,,x", 0, false},      // an empty name inside the server's list
		{"x", ",x", 0, false},         // an empty name in the server's list
		{"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrst", 0, false},
		{"h2,h2", "h2", 0, false},
	} {
		f.Add([]byte(s.client), []byte(s.server), s.mode, s.sni)
	}
	leaf := testpki.SelfSigned(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	oracle := nodeoracle.Start(f, alpnOracleScript)
	f.Fuzz(func(t *testing.T, clientList, serverList []byte, mode uint8, sni bool) {
		clientNames := alpnNames(clientList)
		for _, n := range clientNames {
			if len(n) == 0 {
				return // Node 20 aborts the process on it (nodetls: ERR_OUT_OF_RANGE, TestConnectEmptyALPN)
			}
		}
		server := alpnServerSpec{Key: string(leaf.KeyPEM), Cert: string(leaf.CertPEM), Protocols: hexNames(alpnNames(serverList)), Mode: int(mode % 8)}
		client := alpnClientSpec{Protocols: hexNames(clientNames)}
		if sni {
			client.Servername = "localhost"
		}
		var want alpnReply
		oracle.Ask(t, map[string]any{"op": "pair", "server": server, "client": client}, &want)
		require.Empty(t, want.OracleError)
		check := func(pair string, got alpnReply) {
			t.Helper()
			if !assert.Equal(t, want, got, "%s against node's client and server", pair) {
				req, _ := json.Marshal(map[string]any{"server": server.Protocols, "mode": server.Mode, "client": client})
				t.Logf("request: %s", req)
			}
		}

		pairings[alpnReply, alpnServer]{
			oracle: oracle, server: server, client: client,
			startGo:    func() (int, func() *alpnServer, string) { return startGoALPNServer(t, server) },
			goClient:   func(port int) alpnReply { return goALPNClient(t, client, port) },
			withServer: func(r alpnReply, s *alpnServer) alpnReply { r.Server = s; return r },
			withError:  func(e string) alpnReply { return alpnReply{ServerError: e} },
			check:      check,
		}.run(t)
	})
}

func unhexNames(t *testing.T, hexes []string) [][]byte {
	var out [][]byte
	for _, h := range hexes {
		b, err := hex.DecodeString(h)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// startGoALPNServer is a nodetls server of FuzzALPN behind a front: its
// port and result, or the error of its options.
func startGoALPNServer(t *testing.T, spec alpnServerSpec) (int, func() *alpnServer, string) {
	names := unhexNames(t, spec.Protocols)
	so := tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: []byte(spec.Key), Cert: []byte(spec.Cert)}}
	if spec.Mode == 0 || spec.Mode == 5 {
		so.ALPNProtocols = []string{} // Node's [] is given too
		for _, n := range names {
			so.ALPNProtocols = append(so.ALPNProtocols, string(n))
		}
	}
	var mu sync.Mutex
	calls := []alpnCall{}
	first := "none"
	if len(names) > 0 {
		first = jsstring.Latin1(string(names[0]))
	}
	if spec.Mode >= 1 && spec.Mode <= 5 || spec.Mode == 7 {
		so.ALPNCallback = func(servername string, protocols []string) (string, bool) {
			mu.Lock()
			calls = append(calls, alpnCall{Servername: servername, Protocols: append([]string{}, protocols...)})
			mu.Unlock()
			switch spec.Mode {
			case 2:
				return protocols[len(protocols)-1], true
			case 3:
				return first, true
			case 4:
				return "", false
			case 7:
				for _, p := range protocols {
					if p == first {
						return first, true
					}
				}
				return "", false
			}
			return protocols[0], true
		}
	}
	port, result, serverError := serveGo(t, so, func(s *tls.Socket) *alpnServer { return &alpnServer{ALPN: s.ALPNProtocol()} },
		func(code string) *alpnServer { return &alpnServer{Error: code} }, errCode)
	if serverError != "" {
		return 0, nil, serverError
	}
	return port, func() *alpnServer {
		r := result()
		if r != nil {
			mu.Lock()
			defer mu.Unlock()
			r.Calls = append([]alpnCall{}, calls...)
		}
		return r
	}, ""
}

// goALPNClient runs a nodetls client of FuzzALPN against port.
func goALPNClient(t *testing.T, spec alpnClientSpec, port int) alpnReply {
	reject := false
	co := tls.ConnectOptions{Host: "127.0.0.1", Port: port, Servername: spec.Servername, RejectUnauthorized: &reject, Timeout: 10 * time.Second}
	for _, n := range unhexNames(t, spec.Protocols) {
		co.ALPNProtocols = append(co.ALPNProtocols, string(n))
	}
	c, err := tls.Connect(co)
	if err != nil {
		return alpnReply{ClientError: errCode(err)}
	}
	defer c.Destroy()
	r := &alpnClient{ALPN: c.ALPNProtocol()}
	r.Data, r.After = readToEnd(t, c, errCode)
	return alpnReply{Client: r}
}

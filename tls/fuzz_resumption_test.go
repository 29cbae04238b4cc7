package tls_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resumptionOracleScript answers {servers, sameServer, cache, clients,
// pick} with what node servers and clients see of two connections, the
// second offering a session of the first: resumptionReply's fields.
// servers are the two servers' createServer options (the second is not
// started when sameServer); with cache, both share a session store through
// 'newSession' and 'resumeSession'. Each server writes "hi" and ends on its
// secureConnection; each client reads until the end. pick says which of the
// first client's sessions the second offers: the first or the last
// 'session' event, getSession() at the end, or none.
const resumptionOracleScript = `
const tls = require('tls');
const code = (e) => e.code ?? e.message;
function val(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && '$hex' in v) return Buffer.from(v.$hex, 'hex');
  return v;
}
function revive(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) out[k] = val(v);
  return out;
}

async function startServer(options, store, cache) {
  const stats = {secure: [], errors: [], newSession: 0, resume: []};
  let connections = 0;
  let server;
  try {
    server = tls.createServer(revive(options), (s) => {
      stats.secure.push({protocol: s.getProtocol(), cipher: s.getCipher().name, reused: s.isSessionReused()});
      s.on('error', () => {});
      s.end('hi');
    });
  } catch (e) {
    return {error: code(e)};
  }
  server.on('tlsClientError', (e) => stats.errors.push(code(e)));
  server.on('connection', () => { connections++; });
  // settled waits until each connection has ended its handshake on the
  // server's side (a client can be done before its server is).
  const settled = async () => {
    for (let i = 0; i < 5000 && stats.secure.length + stats.errors.length < connections; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  if (cache) {
    server.on('newSession', (id, data, cb) => {
      stats.newSession++;
      store.set(id.toString('hex'), data);
      cb();
    });
    server.on('resumeSession', (id, cb) => {
      const data = store.get(id.toString('hex'));
      stats.resume.push(data !== undefined);
      cb(null, data ?? null);
    });
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {server, stats, settled, port: server.address().port};
}

function connect(options, port, session, pick) {
  return new Promise((resolve) => {
    const sessions = [];
    let c;
    let view;
    let end;
    const o = {...revive(options), host: '127.0.0.1', port};
    if (o.checkServerIdentity === 'skip') o.checkServerIdentity = () => undefined;
    if (session) o.session = Buffer.from(session, 'hex');
    try {
      c = tls.connect(o, () => {
        view = {protocol: c.getProtocol(), cipher: c.getCipher().name, reused: c.isSessionReused()};
      });
    } catch (e) {
      resolve({view: {error: code(e)}});
      return;
    }
    c.on('session', (s) => sessions.push(s));
    c.setEncoding('latin1');
    let data = '';
    c.on('data', (d) => { data += d; });
    c.on('end', () => { end = c.getSession(); });
    c.on('error', (e) => resolve({view: view ? {...view, data, sessions: sessions.length, after: code(e)} : {error: code(e)}}));
    c.on('close', () => {
      if (!view) {
        resolve({view: {error: 'closed without an error'}}); // after 'error', a no-op
        return;
      }
      const chosen = [sessions[0], sessions[sessions.length - 1], end, undefined][pick];
      resolve({view: {...view, data, sessions: sessions.length}, session: chosen && chosen.toString('hex')});
    });
  });
}

async function startPair(req) {
  const store = new Map();
  const a = await startServer(req.servers[0], store, req.cache);
  if (a.error) return {serverError: a.error};
  let b = a;
  if (!req.sameServer) {
    b = await startServer(req.servers[1], store, req.cache);
    if (b.error) {
      a.server.close();
      return {serverError: b.error};
    }
  }
  return {a, b};
}

async function finish(s) {
  await s.a.settled();
  await s.b.settled();
  s.a.server.close();
  if (s.b !== s.a) s.b.server.close();
  return [s.a.stats, s.b.stats];
}

// For the mixed pairs: {op: 'listen', servers, sameServer, cache} starts
// node's servers ({ports} or {serverError}), {op: 'result'} is their
// {servers} stats once the test's clients are done, and {op: 'connect',
// client, port, session, pick} runs a node client ({view, session}).
let listening;
async function answer(req) {
  switch (req.op) {
    case 'listen':
      listening = await startPair(req);
      return listening.serverError ? listening : {ports: [listening.a.port, listening.b.port]};
    case 'result':
      return {servers: await finish(listening)};
    case 'connect':
      return connect(req.client, req.port, req.session || undefined, req.pick);
  }
  const s = await startPair(req);
  if (s.serverError) return s;
  const first = await connect(req.clients[0], s.a.port, undefined, req.pick);
  const second = await connect(req.clients[1], s.b.port, first.session, 0);
  return {first: first.view, offered: first.session !== undefined, second: second.view, servers: await finish(s)};
}
`

// resumptionReply is the oracle's answer, and the same for nodetls.
type resumptionReply struct {
	ServerError string            `json:"serverError,omitempty"`
	First       *resumptionClient `json:"first,omitempty"`
	Offered     bool              `json:"offered"` // the second client offered a session
	Second      *resumptionClient `json:"second,omitempty"`
	Servers     []resumptionStats `json:"servers,omitempty"`
	OracleError string            `json:"oracleError,omitempty"`
}

type resumptionClient struct {
	Error    string `json:"error,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Cipher   string `json:"cipher,omitempty"`
	Reused   bool   `json:"reused,omitempty"`
	Data     string `json:"data,omitempty"`
	Sessions int    `json:"sessions,omitempty"` // 'session' events
	After    string `json:"after,omitempty"`
}

type resumptionStats struct {
	Secure     []resumptionSecure `json:"secure"`
	Errors     []string           `json:"errors"`
	NewSession int                `json:"newSession"`
	Resume     []bool             `json:"resume"` // resumeSession calls: whether the store had the id
}

type resumptionSecure struct {
	Protocol string `json:"protocol"`
	Cipher   string `json:"cipher"`
	Reused   bool   `json:"reused"`
}

// Bits of FuzzResumption's argument.
const (
	rfFirst12        = 1 << iota // the first client's maxVersion is TLSv1.2 (else TLSv1.3)
	rfSecondOther                // the second client's maxVersion is the other version
	rfServerB0                   // the second connection goes to: 0 the same server; 1 a new one
	rfServerB1                   // with the same ticketKeys; 2 with other ticketKeys; 3 the same keys, another sessionIdContext
	rfKeys                       // the first server has explicit ticketKeys even when the second is the same server
	rfNoTicket                   // both servers have SSL_OP_NO_TICKET
	rfCache                      // both servers share a session store (newSession, resumeSession)
	rfOtherCiphers               // the second client offers other suites (other hashes) than the first
	rfServername                 // the first client sends SNI localhost
	rfOtherName                  // the second client sends other.example.com (else what the first sent)
	rfClientCert                 // the servers request a certificate (not rejecting), both clients present one
	rfPick0                      // which session the second client offers: the first or the last 'session'
	rfPick1                      // event, getSession() at the end, none
	rfSessionTimeout             // the servers' sessionTimeout is 1 second (still valid: no wait)
)

// FuzzResumption compares session resumption with node: two connections,
// the second offering a session of the first, with the fuzz argument
// choosing the versions, the second server (the same, another with the
// same or other ticket keys, or another session id context), tickets or
// a session store, the suites, the server names, client certificates and
// the session offered. A node server and client (the oracle) and a nodetls
// server and client must see the same: each connection's protocol, cipher
// and whether it resumed on each end, the number of 'session' events,
// and the servers' newSession and resumeSession calls.
func FuzzResumption(f *testing.F) {
	for _, bits := range []uint16{
		0, rfFirst12, rfSecondOther, rfFirst12 | rfSecondOther,
		rfServerB0, rfServerB0 | rfFirst12, rfServerB1, rfServerB1 | rfFirst12, rfServerB0 | rfServerB1, rfServerB0 | rfServerB1 | rfFirst12,
		rfNoTicket | rfFirst12, rfNoTicket | rfCache | rfFirst12, rfNoTicket | rfCache, rfCache, rfCache | rfFirst12,
		rfOtherCiphers, rfOtherCiphers | rfFirst12, rfServername, rfServername | rfOtherName, rfOtherName | rfFirst12,
		rfClientCert, rfClientCert | rfFirst12, rfClientCert | rfServerB0,
		rfPick0, rfPick1, rfPick0 | rfPick1, rfPick1 | rfFirst12, rfSessionTimeout | rfFirst12,
		rfKeys | rfServerB0 | rfNoTicket | rfCache | rfFirst12,
	} {
		f.Add(bits)
	}
	root := testpki.NewCA(f, testpki.Options{Key: testpki.ECDSAP256})
	leaf := root.Leaf(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "other.example.com")
	client := root.Leaf(f, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true}, "client")
	oracle := nodeoracle.Start(f, resumptionOracleScript)
	f.Fuzz(func(t *testing.T, bits uint16) {
		req := resumptionRequest(bits, root, leaf, client)
		var want resumptionReply
		oracle.Ask(t, req, &want)
		require.Empty(t, want.OracleError)
		check := func(pair string, got resumptionReply) {
			t.Helper()
			w := want
			if bits&rfOtherCiphers != 0 && w.Second != nil && got.Second != nil && w.Second.Protocol == "TLSv1.3" &&
				!w.Second.Reused && !got.Second.Reused {
				// A TLS 1.3 server that declines a session of another hash
				// sends no tickets on OpenSSL 3.0.19 and node's 3.0, and two
				// on Debian's 3.0.22: the count is the server's OpenSSL's.
				second := *w.Second
				w.Second = &second
				w.Second.Sessions, got.Second.Sessions = 0, 0
			}
			if !assert.Equal(t, w, got, "bits %#x: %s against node's clients and servers", bits, pair) {
				b, _ := json.Marshal(map[string]any{"servers": []any{redactPEM(req.Servers[0]), redactPEM(req.Servers[1])},
					"clients": []any{redactPEM(req.Clients[0]), redactPEM(req.Clients[1])}, "sameServer": req.SameServer,
					"cache": req.Cache, "pick": req.Pick})
				t.Logf("request: %s", b)
			}
		}
		goClient := func(options map[string]any, port int, session []byte, pick int) (*resumptionClient, []byte) {
			return goResumptionConnect(t, options, port, session, pick)
		}
		nodeClient := func(options map[string]any, port int, session []byte, pick int) (*resumptionClient, []byte) {
			var r struct {
				View        *resumptionClient `json:"view"`
				Session     string            `json:"session"`
				OracleError string            `json:"oracleError"`
			}
			oracle.Ask(t, map[string]any{"op": "connect", "client": options, "port": port,
				"session": hex.EncodeToString(session), "pick": pick}, &r)
			require.Empty(t, r.OracleError)
			der, err := hex.DecodeString(r.Session)
			require.NoError(t, err)
			if len(der) == 0 {
				der = nil
			}
			return r.View, der
		}
		check("nodetls's clients and servers", goResumptionReply(t, req, goClient))
		check("node's clients, nodetls's servers", goResumptionReply(t, req, nodeClient))

		var listening struct {
			Ports       []int  `json:"ports"`
			ServerError string `json:"serverError"`
			OracleError string `json:"oracleError"`
		}
		oracle.Ask(t, map[string]any{"op": "listen", "servers": req.Servers, "sameServer": req.SameServer, "cache": req.Cache}, &listening)
		require.Empty(t, listening.OracleError)
		if listening.ServerError != "" {
			check("nodetls's clients, node's servers", resumptionReply{ServerError: listening.ServerError})
			return
		}
		first, session := goClient(req.Clients[0], listening.Ports[0], nil, req.Pick)
		second, _ := goClient(req.Clients[1], listening.Ports[1], session, 0)
		var result struct {
			Servers     []resumptionStats `json:"servers"`
			OracleError string            `json:"oracleError"`
		}
		oracle.Ask(t, map[string]any{"op": "result"}, &result)
		require.Empty(t, result.OracleError)
		check("nodetls's clients, node's servers", resumptionReply{First: first, Offered: session != nil, Second: second, Servers: result.Servers})
	})
}

// resumptionRequest is the oracle's request for FuzzResumption's bits.
type resumptionReq struct {
	Servers    [2]map[string]any `json:"servers"`
	SameServer bool              `json:"sameServer"`
	Cache      bool              `json:"cache"`
	Clients    [2]map[string]any `json:"clients"`
	Pick       int               `json:"pick"`
}

func resumptionRequest(bits uint16, root *testpki.CA, leaf, client *testpki.Leaf) resumptionReq {
	has := func(b uint16) bool { return bits&b != 0 }
	keys1, keys2 := bytes.Repeat([]byte{1}, 48), bytes.Repeat([]byte{2}, 48)
	mode := 0
	if has(rfServerB0) {
		mode |= 1
	}
	if has(rfServerB1) {
		mode |= 2
	}
	server := func(n int) map[string]any {
		m := map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM), "ciphers": "DEFAULT:@SECLEVEL=1"}
		switch {
		case mode == 2 && n == 1:
			m["ticketKeys"] = parity.Hex(keys2)
		case mode != 0 || has(rfKeys):
			m["ticketKeys"] = parity.Hex(keys1)
		}
		if mode == 3 && n == 1 {
			m["sessionIdContext"] = "another context"
		}
		if has(rfNoTicket) {
			m["secureOptions"] = float64(openssl.OpNoTicket)
		}
		if has(rfClientCert) {
			m["requestCert"], m["rejectUnauthorized"], m["ca"] = true, false, string(root.CertPEM)
		}
		if has(rfSessionTimeout) {
			m["sessionTimeout"] = float64(1)
		}
		return m
	}
	versions := []string{"TLSv1.3", "TLSv1.2"}
	v1 := 0
	if has(rfFirst12) {
		v1 = 1
	}
	v2 := v1
	if has(rfSecondOther) {
		v2 = 1 - v1
	}
	cl := func(n, v int) map[string]any {
		m := map[string]any{"maxVersion": versions[v], "ca": string(root.CertPEM), "checkServerIdentity": "skip",
			"ciphers": "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=1"}
		if n == 1 && has(rfOtherCiphers) {
			m["ciphers"] = "TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:@SECLEVEL=1"
		}
		if has(rfServername) {
			m["servername"] = "localhost"
		}
		if n == 1 && has(rfOtherName) {
			m["servername"] = "other.example.com"
		}
		if has(rfClientCert) {
			m["key"], m["cert"] = string(client.KeyPEM), string(client.ChainPEM)
		}
		return m
	}
	pick := 0
	if has(rfPick0) {
		pick |= 1
	}
	if has(rfPick1) {
		pick |= 2
	}
	return resumptionReq{
		Servers:    [2]map[string]any{server(0), server(1)},
		SameServer: mode == 0,
		Cache:      has(rfCache),
		Clients:    [2]map[string]any{cl(0, v1), cl(1, v2)},
		Pick:       pick,
	}
}

// goResumptionServer is a nodetls server of FuzzResumption and what it saw.
type goResumptionServer struct {
	srv         *tls.Server
	port        int
	mu          sync.Mutex
	stats       resumptionStats
	connections int
}

// settled waits until each connection has ended its handshake on the
// server's side (a client can be done before its server is), and locks s.
func (s *goResumptionServer) settled(t *testing.T) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		if len(s.stats.Secure)+len(s.stats.Errors) >= s.connections || time.Now().After(deadline) {
			return
		}
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

func startGoResumptionServer(t *testing.T, options map[string]any, store *sync.Map, cache bool) (*goResumptionServer, string) {
	so, err := parity.ServerOptions(options)
	require.NoError(t, err)
	s := &goResumptionServer{stats: resumptionStats{Secure: []resumptionSecure{}, Errors: []string{}, Resume: []bool{}}}
	s.srv, err = tls.CreateServer(so, func(c *tls.Socket) {
		s.mu.Lock()
		s.stats.Secure = append(s.stats.Secure, resumptionSecure{Protocol: c.GetProtocol(), Cipher: c.GetCipher().Name, Reused: c.IsSessionReused()})
		s.mu.Unlock()
		_, _ = c.Write([]byte("hi"))
		_ = c.End()
	})
	if err != nil {
		return nil, errCode(err)
	}
	s.srv.OnTLSClientError(func(err error, _ *tls.Socket) {
		s.mu.Lock()
		s.stats.Errors = append(s.stats.Errors, errCode(err))
		s.mu.Unlock()
	})
	s.srv.OnConnection(func(net.Conn) {
		s.mu.Lock()
		s.connections++
		s.mu.Unlock()
	})
	if cache {
		s.srv.OnNewSession(func(id, data []byte) {
			s.mu.Lock()
			s.stats.NewSession++
			s.mu.Unlock()
			store.Store(hex.EncodeToString(id), data)
		})
		s.srv.OnResumeSession(func(id []byte) []byte {
			v, ok := store.Load(hex.EncodeToString(id))
			s.mu.Lock()
			s.stats.Resume = append(s.stats.Resume, ok)
			s.mu.Unlock()
			if !ok {
				return nil
			}
			return v.([]byte)
		})
	}
	require.NoError(t, s.srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { s.srv.Close() })
	s.port = s.srv.Address().(*net.TCPAddr).Port
	return s, ""
}

// goResumptionConnect runs a nodetls client against port offering session
// (nil: none): its view, and the session pick chooses.
func goResumptionConnect(t *testing.T, options map[string]any, port int, session []byte, pick int) (*resumptionClient, []byte) {
	co, err := parity.ConnectOptions(options)
	require.NoError(t, err)
	co.Host, co.Port, co.Session = "127.0.0.1", port, session
	c, err := tls.Connect(co)
	if err != nil {
		return &resumptionClient{Error: errCode(err)}, nil
	}
	defer c.Destroy()
	var mu sync.Mutex
	var sessions [][]byte
	c.OnSession(func(s []byte) {
		mu.Lock()
		sessions = append(sessions, s)
		mu.Unlock()
	})
	view := &resumptionClient{Protocol: c.GetProtocol(), Cipher: c.GetCipher().Name, Reused: c.IsSessionReused()}
	view.Data, view.After = readToEnd(t, c, errCode)
	end := c.GetSession()
	mu.Lock()
	defer mu.Unlock()
	view.Sessions = len(sessions)
	var chosen []byte
	switch pick {
	case 0:
		if len(sessions) > 0 {
			chosen = sessions[0]
		}
	case 1:
		if len(sessions) > 0 {
			chosen = sessions[len(sessions)-1]
		}
	case 2:
		chosen = end
	}
	return view, chosen
}

// goResumptionReply is resumptionOracleScript's answer for nodetls servers
// and the clients that connect runs.
func goResumptionReply(t *testing.T, req resumptionReq,
	connect func(options map[string]any, port int, session []byte, pick int) (*resumptionClient, []byte)) resumptionReply {
	var store sync.Map
	a, serverError := startGoResumptionServer(t, req.Servers[0], &store, req.Cache)
	if serverError != "" {
		return resumptionReply{ServerError: serverError}
	}
	b := a
	if !req.SameServer {
		if b, serverError = startGoResumptionServer(t, req.Servers[1], &store, req.Cache); serverError != "" {
			return resumptionReply{ServerError: serverError}
		}
	}
	first, session := connect(req.Clients[0], a.port, nil, req.Pick)
	second, _ := connect(req.Clients[1], b.port, session, 0)
	a.settled(t)
	defer a.mu.Unlock()
	if b != a {
		b.settled(t)
		defer b.mu.Unlock()
	}
	return resumptionReply{First: first, Offered: session != nil, Second: second, Servers: []resumptionStats{a.stats, b.stats}}
}

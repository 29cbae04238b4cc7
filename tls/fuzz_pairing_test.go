package tls_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/require"
)

// The fuzz targets that run whole connections against node (FuzzNegotiation,
// FuzzPSK, FuzzALPN) share this harness. Each runs node's server and client
// (the oracle's answer to {op: 'pair'}) and then every other pairing:
// nodetls's client and server, node's client against nodetls's server, and
// nodetls's client against node's server; all must see what node's pair
// saw.
//
// A server's connections come through a front: a listener that hands them
// to the server and, when the test's client is done, takes a marker
// connection from 127.0.0.2. Connections are accepted in order, so once the
// marker has come the front knows whether the client had connected at all
// (a client whose options fail does not), and whether to wait for the
// server's secureConnection or tlsClientError.

// pairingOracleJS is the script's common part. The script defines
// startServer(spec), which is {serverError} or {port, result()} (from
// listen), and connect(spec, port), the reply with the client's view (from
// client). answer handles 'pair', 'listen' (a server
// for nodetls's client: {port} or {serverError}), 'result' ({server} once
// the test has sent the marker) and 'connect' (a node client against the
// test's server).
const pairingOracleJS = `
const tls = require('tls');
const net = require('net');
let code = (e) => e.code ?? e.message; // a script may replace it
const str = (v) => (typeof v === 'string' ? v : '');

// front listens on a port of its own and hands server its connections;
// done() waits for the marker and says whether a client had connected.
async function front(server) {
  let connected = false;
  let markerSeen;
  const marker = new Promise((resolve) => { markerSeen = resolve; });
  const f = net.createServer((sock) => {
    if (sock.remoteAddress === '127.0.0.2') {
      sock.destroy();
      markerSeen();
      return;
    }
    connected = true;
    server.emit('connection', sock);
  });
  await new Promise((resolve) => f.listen(0, '127.0.0.1', resolve));
  return {port: f.address().port, done: async () => {
    await marker;
    f.close();
    return connected;
  }};
}

// reported is what the server reports (secureConnection or
// tlsClientError), or an error after 10 s.
function reported(serverSeen) {
  const timeout = new Promise((resolve) =>
    setTimeout(() => resolve({error: 'no secureConnection or tlsClientError in 10 s'}), 10000).unref());
  return Promise.race([serverSeen, timeout]);
}

// listen is a TLS server of options whose secureConnection reports
// view(socket), writes "hi" and ends, behind a front: {serverError}, or
// {port, result} (result: the report with extra()'s fields once the marker
// has come, or undefined when no client came).
async function listen(options, view, extra = () => ({})) {
  let server;
  let serverDone;
  const serverSeen = new Promise((resolve) => { serverDone = resolve; });
  try {
    server = tls.createServer(options, (s) => {
      serverDone(view(s));
      s.on('error', () => {});
      s.end('hi');
    });
  } catch (e) {
    return {serverError: code(e)};
  }
  server.on('tlsClientError', (e) => serverDone({error: code(e)}));
  const f = await front(server);
  return {port: f.port, result: async () => ((await f.done()) ? {...await reported(serverSeen), ...extra()} : undefined)};
}

// client connects with options and reads until the end: {clientError} (a
// failed handshake's with extra()'s fields), or {client} (view(socket) at
// secureConnect, the data, the error that ended it, and extra()'s fields).
// then(socket) runs after view.
function client(options, view, extra = () => ({}), then = () => {}) {
  return new Promise((resolve) => {
    let c;
    let info;
    let data = '';
    try {
      c = tls.connect({...options, timeout: 10000}, () => { info = view(c); then(c); });
    } catch (e) {
      resolve({clientError: code(e)});
      return;
    }
    c.on('timeout', () => c.destroy(new Error('no progress for 10 s')));
    c.setEncoding('latin1');
    c.on('data', (d) => { data += d; });
    // A connection that ends before secureConnect also emits an error
    // (ECONNRESET) after 'end'.
    c.on('end', () => { if (info) resolve({client: {...info, data, ...extra()}}); });
    c.on('error', (e) => resolve(info ? {client: {...info, data, ...extra(), after: code(e)}} : {clientError: code(e), ...extra()}));
    c.on('close', () => resolve({clientError: 'closed without an error', ...extra()}));
  });
}

let listening;
async function answer(req) {
  switch (req.op) {
    case 'pair': {
      const s = await startServer(req.server);
      if (s.serverError) return s;
      const reply = await connect(req.client, s.port);
      net.connect({port: s.port, host: '127.0.0.1', localAddress: '127.0.0.2'}).on('error', () => {});
      const seen = await s.result();
      if (seen) reply.server = seen;
      return reply;
    }
    case 'listen':
      listening = await startServer(req.server);
      return listening.serverError ? listening : {port: listening.port};
    case 'result': {
      const seen = await listening.result();
      return seen ? {server: seen} : {};
    }
    case 'connect':
      return connect(req.client, req.port);
  }
  throw new Error('unknown op ' + req.op);
}
`

// goFront hands srv the connections to a port of its own (see above).
type goFront struct {
	port   int
	marker chan bool
}

func startGoFront(t *testing.T, srv *tls.Server) *goFront {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	f := &goFront{port: ln.Addr().(*net.TCPAddr).Port, marker: make(chan bool, 1)}
	go func() {
		connected := false
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			if raw.RemoteAddr().(*net.TCPAddr).IP.Equal(net.IPv4(127, 0, 0, 2)) {
				raw.Close()
				f.marker <- connected
				continue
			}
			connected = true
			srv.Emit(raw)
		}
	}()
	return f
}

// serveGo is a nodetls server of so behind a front, for a pairing's startGo:
// its port and result, or the code of CreateServer's error. The result is
// view(socket) from its secureConnection (the server then writes "hi" and
// ends, unless view destroyed the socket) or failed(code) from its
// tlsClientError; code names errors.
func serveGo[S any](t *testing.T, so tls.ServerOptions, view func(*tls.Socket) *S, failed func(code string) *S,
	code func(error) string) (int, func() *S, string) {
	seen := make(chan *S, 1)
	srv, err := tls.CreateServer(so, func(s *tls.Socket) {
		seen <- view(s)
		if !s.Destroyed() {
			_, _ = s.Write([]byte("hi"))
			_ = s.End()
		}
	})
	if err != nil {
		return 0, nil, code(err)
	}
	srv.OnTLSClientError(func(err error, _ *tls.Socket) { seen <- failed(code(err)) })
	f := startGoFront(t, srv)
	return f.port, func() *S { return goFrontResult(t, f, seen) }, ""
}

// result waits for the marker and then for what the server reports on seen;
// nil when no client came.
func goFrontResult[S any](t *testing.T, f *goFront, seen <-chan *S) *S {
	if !<-f.marker {
		return nil
	}
	select {
	case r := <-seen:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw a connection but reported neither secureConnection nor tlsClientError")
		return nil
	}
}

// readToEnd reads c until the end (10 s at most): the data, and code of
// the error that ended it ("" at EOF).
func readToEnd(t *testing.T, c *tls.Socket, code func(error) string) (data, after string) {
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	b, err := io.ReadAll(c)
	if err != nil {
		after = code(err)
	}
	return string(b), after
}

// sendMarker connects to port from 127.0.0.2 and closes: the marker that
// tells a front its client is done.
func sendMarker(t *testing.T, port int) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	m, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	require.NoError(t, err)
	m.Close()
}

// pairings runs the pairings other than node's own pair for one fuzz input.
// R is the reply (its server view set by withServer), S the server's view.
type pairings[R, S any] struct {
	oracle         *nodeoracle.Oracle
	server, client any // the oracle's server and client specs
	// startGo starts a nodetls server: its port and result (nil when no
	// client came), or the error of its options.
	startGo func() (port int, result func() *S, serverError string)
	// goClient runs nodetls's client against port.
	goClient   func(port int) R
	withServer func(r R, s *S) R
	withError  func(serverError string) R
	// check compares a pairing's reply with node's pair's.
	check func(pair string, got R)
}

func (p pairings[R, S]) run(t *testing.T) {
	port, result, serverError := p.startGo()
	if serverError != "" {
		p.check("nodetls's client and server", p.withError(serverError))
		return
	}
	got := p.goClient(port)
	sendMarker(t, port)
	p.check("nodetls's client and server", p.withServer(got, result()))

	port, result, _ = p.startGo()
	var fromNode R // its OracleError, if any, shows in check
	p.oracle.Ask(t, map[string]any{"op": "connect", "client": p.client, "port": port}, &fromNode)
	sendMarker(t, port)
	p.check("node's client, nodetls's server", p.withServer(fromNode, result()))

	var listening struct {
		Port        int    `json:"port"`
		OracleError string `json:"oracleError"`
	}
	p.oracle.Ask(t, map[string]any{"op": "listen", "server": p.server}, &listening)
	require.Empty(t, listening.OracleError)
	require.NotZero(t, listening.Port, "node's server did not start where nodetls's did")
	got = p.goClient(listening.Port)
	sendMarker(t, listening.Port)
	var seen struct {
		Server      *S     `json:"server"`
		OracleError string `json:"oracleError"`
	}
	p.oracle.Ask(t, map[string]any{"op": "result"}, &seen)
	require.Empty(t, seen.OracleError)
	p.check("nodetls's client, node's server", p.withServer(got, seen.Server))
}

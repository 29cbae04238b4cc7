package tls_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renegotiationOracleScript is node's side of FuzzRenegotiation
// (pairingOracleJS). A server spec is {options (createServer's), reneg
// (renegotiate's options), count, disable, wait}: on secureConnection the
// server calls disableRenegotiation() if asked, then renegotiate(reneg)
// count times in turn (stopping at the first that fails), with wait reads
// until the client sends "x", reports what it saw, writes "hi" and ends. A
// client spec is {options (connect's), renegs}: after secureConnect the
// client renegotiates renegs times in turn, then sends "x".
const renegotiationOracleScript = pairingOracleJS + `
// renegotiate runs n renegotiations of s in turn: each one's error code, ''
// for none, 'closed: ' and the socket's last error when it closed first,
// 'destroyed' when s was destroyed before (renegotiate() then does nothing
// and never calls back; nodetls returns net.ErrClosed).
async function renegotiate(s, n, options, closed) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (s.destroyed) {
      out.push('destroyed');
      break;
    }
    const done = new Promise((resolve) => {
      s.renegotiate(options, (e) => resolve(e ? code(e) : ''));
    });
    const r = await Promise.race([done, closed]);
    out.push(r);
    if (r !== '') break;
  }
  return out;
}

async function startServer(spec) {
  let server;
  let serverDone;
  const serverSeen = new Promise((resolve) => { serverDone = resolve; });
  try {
    server = tls.createServer(spec.options, async (s) => {
      const view = {authorized: s.authorized, authorizationError: str(s.authorizationError), renegs: [], errors: []};
      let secures = 0;
      s.on('secure', () => { secures++; });
      let lastError = '';
      s.on('error', (e) => { lastError = code(e); view.errors.push(lastError); });
      const closed = new Promise((resolve) => s.on('close', () => resolve('closed: ' + lastError)));
      let sawX;
      const x = new Promise((resolve) => { sawX = resolve; });
      if (spec.wait) {
        s.setEncoding('latin1');
        s.on('data', (d) => { if (d.includes('x')) sawX(); });
        s.on('end', () => sawX());
        closed.then(() => sawX());
      }
      if (spec.disable) s.disableRenegotiation();
      view.renegs = await renegotiate(s, spec.count, spec.reneg, closed);
      if (spec.wait) await x;
      const peer = s.getPeerCertificate();
      Object.assign(view, {secures, destroyed: s.destroyed, after: {authorized: s.authorized,
        authorizationError: str(s.authorizationError), peer: str(peer && peer.subject && peer.subject.CN)}});
      serverDone(view);
      if (!s.destroyed) s.end('hi');
    });
  } catch (e) {
    return {serverError: code(e)};
  }
  server.on('tlsClientError', (e) => serverDone({error: code(e)}));
  const f = await front(server);
  return {port: f.port, result: async () => ((await f.done()) ? reported(serverSeen) : undefined)};
}

function connect(spec, port) {
  let renegs = [];
  let lastError = '';
  return client({...spec.options, host: '127.0.0.1', port}, (c) => ({protocol: c.getProtocol()}), () => (renegs.length ? {renegs} : {}),
    async (c) => {
      c.on('error', (e) => { lastError = code(e); });
      const closed = new Promise((resolve) => c.on('close', () => resolve('closed: ' + lastError)));
      renegs = await renegotiate(c, spec.renegs, {}, closed);
      if (!c.destroyed) c.write('x');
    });
}
`

type renegotiationReply struct {
	ServerError string               `json:"serverError,omitempty"`
	ClientError string               `json:"clientError,omitempty"`
	Client      *renegotiationClient `json:"client,omitempty"`
	Server      *renegotiationServer `json:"server,omitempty"`
	OracleError string               `json:"oracleError,omitempty"`
}

type renegotiationClient struct {
	Protocol string   `json:"protocol"`
	Renegs   []string `json:"renegs,omitempty"` // as the server's
	Data     string   `json:"data"`
	After    string   `json:"after,omitempty"`
}

type renegotiationServer struct {
	Error              string   `json:"error,omitempty"` // tlsClientError
	Authorized         bool     `json:"authorized"`      // at secureConnection
	AuthorizationError string   `json:"authorizationError"`
	Renegs             []string `json:"renegs"` // each renegotiation's error code, "" for none, "closed: " and the last error when the socket closed first
	Errors             []string `json:"errors"` // the socket's 'error' events
	Secures            int      `json:"secures"`
	Destroyed          bool     `json:"destroyed"`
	After              *struct {
		Authorized         bool   `json:"authorized"`
		AuthorizationError string `json:"authorizationError"`
		Peer               string `json:"peer"` // the client certificate's CN
	} `json:"after,omitempty"`
}

type renegotiationServerSpec struct {
	Options map[string]any `json:"options"`
	Reneg   map[string]any `json:"reneg"`
	Count   int            `json:"count"`
	Disable bool           `json:"disable"`
	Wait    bool           `json:"wait"`
}

type renegotiationClientSpec struct {
	Options map[string]any `json:"options"`
	Renegs  int            `json:"renegs"`
}

// FuzzRenegotiation compares renegotiations with node's: TLS 1.2 or 1.3;
// the server's requestCert, rejectUnauthorized and CA; the client's
// certificate (none, one the CA signed, a self-signed one); 0-3
// renegotiations the server starts in turn, with the requestCert and
// rejectUnauthorized given to renegotiate, or else 0-5 the client starts
// (Node's limit counts every handshake start); and disableRenegotiation. The
// server's view (authorized and authorizationError before and after, each
// renegotiation's outcome, the socket's errors, 'secure' events, the peer's
// certificate, whether the socket was destroyed) and the client's (protocol,
// its renegotiations' outcomes, data, the error that ended it) must match
// node's.
func FuzzRenegotiation(f *testing.F) {
	for _, s := range []struct {
		version, serverReject, clientCert, renegReject, count, clientRenegs uint8
		requestCert, withCA, renegRequest, disable                          bool
	}{
		{version: 0, count: 1},
		{version: 1, count: 1}, // TLS 1.3: ERR_SSL_WRONG_SSL_VERSION
		{version: 1, count: 0}, // node's end() here ends the stream without a close_notify: no alert back
		{version: 0, count: 1, renegRequest: true, renegReject: 2, clientCert: 1, withCA: true}, // test-tls-server-verify
		{version: 0, count: 1, renegRequest: true, renegReject: 2, clientCert: 2, withCA: true},
		{version: 0, count: 1, renegRequest: true, renegReject: 1, clientCert: 2, withCA: true},
		{version: 0, count: 1, renegRequest: true, renegReject: 0, clientCert: 0, withCA: true},
		{version: 0, count: 1, renegRequest: true, serverReject: 2, clientCert: 2, withCA: true},
		{version: 0, count: 1, renegReject: 1, requestCert: true, serverReject: 2, clientCert: 2, withCA: true},
		{version: 0, count: 3},
		{version: 0, count: 2, disable: true},
		{version: 0, count: 2, disable: true, renegRequest: true}, // the client, without a certificate, is destroyed after the first
		{version: 0, count: 0, requestCert: true, clientCert: 1, withCA: true},
		{version: 0, clientRenegs: 1},
		{version: 1, clientRenegs: 1}, // TLS 1.3
		{version: 0, clientRenegs: 4}, // ERR_TLS_SESSION_ATTACK at the fourth
		{version: 0, clientRenegs: 2, disable: true},
		{version: 0, clientRenegs: 2, requestCert: true, clientCert: 1, withCA: true},
	} {
		f.Add(s.version, s.requestCert, s.serverReject, s.withCA, s.clientCert, s.renegRequest, s.renegReject, s.count, s.disable, s.clientRenegs)
	}
	ca := testpki.NewCA(f, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	clientLeaf := ca.Leaf(f, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "client"}, "client")
	selfSigned := testpki.SelfSigned(f, testpki.Options{Key: testpki.ECDSAP256, CommonName: "self"}, "self")
	oracle := nodeoracle.Start(f, renegotiationOracleScript)
	f.Fuzz(func(t *testing.T, version uint8, requestCert bool, serverReject uint8, withCA bool, clientCert uint8,
		renegRequest bool, renegReject uint8, count uint8, disable bool, clientRenegs uint8) {
		maxVersion := []string{"TLSv1.2", "TLSv1.3"}[version%2]
		options := map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.ChainPEM), "maxVersion": maxVersion,
			"requestCert": requestCert}
		if r := serverReject % 3; r > 0 {
			options["rejectUnauthorized"] = r == 1
		}
		if withCA {
			options["ca"] = string(ca.CertPEM)
		}
		reneg := map[string]any{}
		if renegRequest {
			reneg["requestCert"] = true
		}
		if r := renegReject % 3; r > 0 {
			reneg["rejectUnauthorized"] = r == 1
		}
		server := renegotiationServerSpec{Options: options, Reneg: reneg, Count: int(count % 4), Disable: disable}
		// One side starts renegotiations: both at once would cross.
		client := renegotiationClientSpec{Options: map[string]any{"rejectUnauthorized": false, "maxVersion": maxVersion},
			Renegs: int(clientRenegs % 6)}
		if client.Renegs > 0 {
			server.Count, server.Wait = 0, true
			if maxVersion == "TLSv1.3" {
				// A TLS 1.3 client finishes before the server judges it: one
				// the server rejects would write its "x" into a closed
				// connection, and whether it then reads a reset is timing.
				options["rejectUnauthorized"] = false
			}
		}
		switch clientCert % 3 {
		case 1:
			client.Options["key"], client.Options["cert"] = string(clientLeaf.KeyPEM), string(clientLeaf.ChainPEM)
		case 2:
			client.Options["key"], client.Options["cert"] = string(selfSigned.KeyPEM), string(selfSigned.CertPEM)
		}
		var want renegotiationReply
		oracle.Ask(t, map[string]any{"op": "pair", "server": server, "client": client}, &want)
		require.Empty(t, want.OracleError)
		check := func(pair string, got renegotiationReply) {
			t.Helper()
			if !assert.Equal(t, want, got, "%s against node's client and server", pair) {
				req, _ := json.Marshal(map[string]any{"server": map[string]any{"reneg": reneg, "count": server.Count,
					"disable": disable, "requestCert": requestCert, "rejectUnauthorized": options["rejectUnauthorized"],
					"ca": withCA, "maxVersion": maxVersion}, "clientCert": clientCert % 3, "clientRenegs": client.Renegs})
				t.Logf("request: %s", req)
			}
		}
		pairings[renegotiationReply, renegotiationServer]{
			oracle: oracle, server: server, client: client,
			startGo:  func() (int, func() *renegotiationServer, string) { return startGoRenegotiationServer(t, server) },
			goClient: func(port int) renegotiationReply { return goRenegotiationClient(t, client, port) },
			withServer: func(r renegotiationReply, s *renegotiationServer) renegotiationReply {
				r.Server = s
				return r
			},
			withError: func(e string) renegotiationReply { return renegotiationReply{ServerError: e} },
			check:     check,
		}.run(t)
	})
}

// startGoRenegotiationServer is a nodetls server of FuzzRenegotiation
// behind a front: its port and result, or the error of its options.
func startGoRenegotiationServer(t *testing.T, spec renegotiationServerSpec) (int, func() *renegotiationServer, string) {
	so, err := parity.ServerOptions(spec.Options)
	require.NoError(t, err)
	var ro tls.RenegotiateOptions
	if v, ok := spec.Reneg["requestCert"].(bool); ok {
		ro.RequestCert = v
	}
	if v, ok := spec.Reneg["rejectUnauthorized"].(bool); ok {
		ro.RejectUnauthorized = &v
	}
	return serveGo(t, so, func(s *tls.Socket) *renegotiationServer {
		r := &renegotiationServer{Authorized: s.Authorized(), Renegs: []string{}, Errors: []string{}}
		if err := s.AuthorizationError(); err != nil {
			r.AuthorizationError = errCode(err)
		}
		var mu sync.Mutex
		s.OnSecure(func() { mu.Lock(); r.Secures++; mu.Unlock() })
		s.OnError(func(err error) { mu.Lock(); r.Errors = append(r.Errors, errCode(err)); mu.Unlock() })
		if spec.Disable {
			s.DisableRenegotiation()
		}
		renegs := goRenegotiate(s, spec.Count, ro)
		if spec.Wait {
			// Read (and so take the client's renegotiations) until its "x".
			_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
			b := make([]byte, 64)
			for {
				n, err := s.Read(b)
				if err != nil || bytes.IndexByte(b[:n], 'x') >= 0 {
					break
				}
			}
		}
		mu.Lock()
		r.Renegs = renegs
		r.Destroyed = s.Destroyed()
		r.After = &struct {
			Authorized         bool   `json:"authorized"`
			AuthorizationError string `json:"authorizationError"`
			Peer               string `json:"peer"`
		}{Authorized: s.Authorized()}
		if err := s.AuthorizationError(); err != nil {
			r.After.AuthorizationError = errCode(err)
		}
		if p := s.GetPeerCertificate(false); p != nil {
			r.After.Peer = p.Subject.Get("CN")
		}
		mu.Unlock()
		return r
	}, func(code string) *renegotiationServer { return &renegotiationServer{Error: code} }, errCode)
}

// goRenegotiate is the script's renegotiate: n renegotiations of s in turn.
func goRenegotiate(s *tls.Socket, n int, ro tls.RenegotiateOptions) []string {
	out := []string{}
	for range n {
		if s.Destroyed() {
			return append(out, "destroyed")
		}
		if err := s.Renegotiate(ro); err != nil {
			return append(out, errCode(err))
		}
		out = append(out, "")
	}
	return out
}

// goRenegotiationClient runs a nodetls client of FuzzRenegotiation against
// port.
func goRenegotiationClient(t *testing.T, spec renegotiationClientSpec, port int) renegotiationReply {
	co, err := parity.ConnectOptions(spec.Options)
	require.NoError(t, err)
	co.Host, co.Port, co.Timeout = "127.0.0.1", port, 10*time.Second
	c, err := tls.Connect(co)
	if err != nil {
		return renegotiationReply{ClientError: errCode(err)}
	}
	defer c.Destroy()
	r := &renegotiationClient{Protocol: c.GetProtocol()}
	if spec.Renegs > 0 {
		r.Renegs = goRenegotiate(c, spec.Renegs, tls.RenegotiateOptions{})
		if !c.Destroyed() {
			_, _ = c.Write([]byte("x"))
		}
	}
	r.Data, r.After = readToEnd(t, c, errCode)
	return renegotiationReply{Client: r}
}

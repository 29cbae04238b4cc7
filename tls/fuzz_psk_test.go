package tls_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// pskOracleScript is node's side of FuzzPSK (pairingOracleJS). A server
// spec is {options, identity, key, mode}: createServer options (the fuzz's
// ciphers, versions, hint, certificate) and a pskCallback that returns key
// (hex) for identity (mode 0), null (1) or key for any identity (2); a
// client spec is {options, identity, key, none}: connect options and a
// pskCallback that returns {psk: key, identity}, or null when none. The
// server writes "hi" and ends on its secureConnection; the client reads
// until the end.
const pskOracleScript = pairingOracleJS + `
// The message of ERR_INVALID_ARG_VALUE (a PSK over OpenSSL's limits) is
// compared too.
code = (e) => (e.code === 'ERR_INVALID_ARG_VALUE' ? e.code + ': ' + e.message : e.code ?? e.message);

async function startServer(spec) {
  const seen = [];
  const options = {...spec.options, pskCallback: (socket, identity) => {
    seen.push(identity);
    if (spec.mode === 1 || (spec.mode === 0 && identity !== spec.identity)) return null;
    return Buffer.from(spec.key, 'hex');
  }};
  return listen(options, (s) => ({protocol: s.getProtocol(), cipher: s.getCipher().name}), () => ({identities: seen}));
}

function connect(spec, port) {
  const hints = [];
  const options = {...spec.options, host: '127.0.0.1', port, pskCallback: (hint) => {
    hints.push(hint ?? '');
    if (spec.none) return null;
    return {psk: Buffer.from(spec.key, 'hex'), identity: spec.identity};
  }};
  return client(options, (c) => ({protocol: c.getProtocol(), cipher: c.getCipher().name}), () => ({hints}));
}
`

// pskReply is the oracle's answer, and the same for nodetls.
type pskReply struct {
	ServerError string     `json:"serverError,omitempty"`
	ClientError string     `json:"clientError,omitempty"`
	Hints       []string   `json:"hints,omitempty"` // the client's pskCallback calls, when its handshake failed
	Client      *pskClient `json:"client,omitempty"`
	Server      *pskServer `json:"server,omitempty"`
	OracleError string     `json:"oracleError,omitempty"`
}

type pskClient struct {
	Protocol string   `json:"protocol"`
	Cipher   string   `json:"cipher"`
	Data     string   `json:"data"`
	Hints    []string `json:"hints"`
	After    string   `json:"after,omitempty"`
}

type pskServer struct {
	Error      string   `json:"error,omitempty"`
	Protocol   string   `json:"protocol,omitempty"`
	Cipher     string   `json:"cipher,omitempty"`
	Identities []string `json:"identities"` // the server's pskCallback calls
}

// normalize makes empty lists nil (JSON and Go build them differently).
func (r *pskReply) normalize() {
	if len(r.Hints) == 0 {
		r.Hints = nil
	}
	if r.Client != nil && len(r.Client.Hints) == 0 {
		r.Client.Hints = nil
	}
	if r.Server != nil && len(r.Server.Identities) == 0 {
		r.Server.Identities = nil
	}
}

// pskSpec is one end of FuzzPSK: node's options, and what its pskCallback
// does.
type pskSpec struct {
	Options  map[string]any `json:"options"`
	Identity string         `json:"identity"`
	Key      string         `json:"key"` // hex
	Mode     int            `json:"mode"`
	None     bool           `json:"none,omitempty"`
}

// Bits of FuzzPSK's mode.
const (
	pfTLS12       = 1 << iota // both ends at most TLS 1.2
	pfSuite0                  // the PSK suite: 0 PSK-AES128-GCM-SHA256 / TLS_AES_128_GCM_SHA256,
	pfSuite1                  // 1 ECDHE-PSK-AES128-CBC-SHA256 / TLS_AES_256_GCM_SHA384, 2 PSK-AES256-GCM-SHA384 / TLS_CHACHA20_POLY1305_SHA256, 3 the defaults
	pfCert                    // the server also has a certificate and ECDHE-ECDSA suites
	pfServerNull              // the server's pskCallback returns null
	pfServerAny               // ... or the key for any identity
	pfClientNone              // the client's pskCallback returns null
	pfOtherKey                // the client's key differs from the server's (same length, other bytes)
	pfNoHint                  // the server sets no pskIdentityHint
	pfClientMin13             // the client's minVersion is TLSv1.3
	pfLevel2                  // both ends at @SECLEVEL=2 (else 1)
)

var (
	pskSuites12 = []string{"PSK-AES128-GCM-SHA256", "ECDHE-PSK-AES128-CBC-SHA256", "PSK-AES256-GCM-SHA384", "PSK+HIGH"}
	pskSuites13 = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", ""}
)

// pskRequest builds both ends of FuzzPSK from its arguments.
func pskRequest(mode uint16, identity, hint string, serverKeyLen, clientKeyLen uint16, leaf *testpki.Leaf) (server, client pskSpec) {
	has := func(b uint16) bool { return mode&b != 0 }
	suite := 0
	if has(pfSuite0) {
		suite |= 1
	}
	if has(pfSuite1) {
		suite |= 2
	}
	level := ":@SECLEVEL=1"
	if has(pfLevel2) {
		level = ":@SECLEVEL=2"
	}
	ciphers := pskSuites12[suite]
	if s := pskSuites13[suite]; s != "" {
		ciphers = s + ":" + ciphers
	}
	serverCiphers := ciphers
	if has(pfCert) {
		serverCiphers += ":ECDHE-ECDSA-AES128-GCM-SHA256"
	}
	so := map[string]any{"ciphers": serverCiphers + level}
	co := map[string]any{"ciphers": ciphers + level, "rejectUnauthorized": false}
	if has(pfTLS12) {
		so["maxVersion"], co["maxVersion"] = "TLSv1.2", "TLSv1.2"
	}
	if has(pfClientMin13) {
		co["minVersion"] = "TLSv1.3"
	}
	if has(pfCert) {
		so["key"], so["cert"] = string(leaf.KeyPEM), string(leaf.ChainPEM)
	}
	if !has(pfNoHint) {
		so["pskIdentityHint"] = jsText(hint)
	}
	serverKey := bytes.Repeat([]byte{0x5a}, int(serverKeyLen%600))
	clientKey := serverKey
	if clientKeyLen%4 != 0 {
		clientKey = bytes.Repeat([]byte{0x5a}, int(clientKeyLen%600))
	}
	if has(pfOtherKey) {
		clientKey = bytes.Repeat([]byte{0xa5}, len(clientKey))
	}
	identity = jsText(identity)
	server = pskSpec{Options: so, Identity: identity, Key: hex.EncodeToString(serverKey)}
	switch {
	case has(pfServerNull):
		server.Mode = 1
	case has(pfServerAny):
		server.Mode = 2
	}
	client = pskSpec{Options: co, Identity: identity, Key: hex.EncodeToString(clientKey), None: has(pfClientNone)}
	return server, client
}

// FuzzPSK compares TLS-PSK handshakes with node: the fuzz arguments choose
// the versions, the PSK suite (TLS 1.2 PSK and ECDHE-PSK, TLS 1.3 with
// either hash), a server certificate beside the PSK, what each end's
// pskCallback returns (the key, null, a key for any identity), the identity
// and the hint (any text), the key lengths (0 to 599 bytes, over OpenSSL's
// 512 too) and whether the keys match. A node server and client, nodetls's
// server and client, and each mixed pair must see the same: the errors on
// each end, or the protocol and cipher; and each pskCallback must be called
// with the same hints and identities.
func FuzzPSK(f *testing.F) {
	for _, s := range []struct {
		mode                       uint16
		identity, hint             string
		serverKeyLen, clientKeyLen uint16
	}{
		{0, "client1", "HINT", 32, 0},
		{pfTLS12, "client1", "HINT", 32, 0},
		{pfTLS12 | pfSuite0, "client1", "HINT", 32, 0},
		{pfTLS12 | pfSuite1, "client1", "", 48, 0},
		{pfTLS12 | pfSuite0 | pfSuite1, "client1", "HINT", 32, 0},
		{pfSuite0, "client1", "HINT", 48, 0},     // TLS 1.3 with a SHA-384 suite
		{pfSuite1, "client1", "HINT", 32, 0},     // ChaCha20
		{pfCert, "client1", "HINT", 32, 0},       // certificate and PSK
		{pfCert | pfClientNone, "c", "h", 32, 0}, // certificate only
		{pfTLS12 | pfCert | pfClientNone, "c", "h", 32, 0},
		{pfServerNull, "client1", "HINT", 32, 0},
		{pfTLS12 | pfServerNull, "client1", "HINT", 32, 0},
		{pfServerAny, "anyone", "HINT", 32, 0},
		{pfOtherKey, "client1", "HINT", 32, 0},
		{pfTLS12 | pfOtherKey, "client1", "HINT", 32, 0},
		{pfTLS12 | pfNoHint, "client1", "", 32, 0},
		{pfClientMin13, "client1", "HINT", 32, 0},
		{pfTLS12 | pfClientMin13, "client1", "HINT", 32, 0},
		{0, "client1", "HINT", 0, 0},                             // empty keys
		{0, "client1", "HINT", 512, 0},                           // the longest key
		{0, "client1", "HINT", 513, 0},                           // over OpenSSL's limit on both ends
		{0, "client1", "HINT", 32, 513},                          // over it on the client
		{0, "client1", "HINT", 513, 33},                          // over it on the server (the client sees the end first)
		{pfTLS12, "client1", "HINT", 513, 0},                     // over it on the server, TLS 1.2
		{0, string(bytes.Repeat([]byte("i"), 256)), "h", 32, 0},  // the longest identity
		{0, string(bytes.Repeat([]byte("i"), 257)), "h", 32, 0},  // over OpenSSL's limit
		{0, string(bytes.Repeat([]byte("i"), 257)), "h", 513, 0}, // and the key too: Node names the key
		{pfTLS12, "é", "ü hint ☃", 32, 0},
		// Found by the fuzzer: Node's hint is a C string, cut at a NUL.
		{pfTLS12, "client1", "ab\x00cd", 32, 0},
		{pfCert, "0", "\x00", 32, 0},
		// Found by the fuzzer: the identity is a C string too.
		{0, "ab\x00cd", "h", 32, 0},
		{pfTLS12, "ab\x00cd", "h", 32, 0},
		{pfTLS12, "\x00", "h", 32, 0},
		{pfTLS12, "id", string(bytes.Repeat([]byte("h"), 200)), 32, 0},
		{pfLevel2, "client1", "HINT", 32, 0},
		{pfTLS12 | pfLevel2, "client1", "HINT", 16, 0},
		{0, "", "HINT", 32, 0}, // an empty identity
	} {
		f.Add(s.mode, s.identity, s.hint, s.serverKeyLen, s.clientKeyLen)
	}
	leaf := testpki.SelfSigned(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	oracle := nodeoracle.Start(f, pskOracleScript)
	f.Fuzz(func(t *testing.T, mode uint16, identity, hint string, serverKeyLen, clientKeyLen uint16) {
		if len(identity) > 300 || len(hint) > 300 {
			return
		}
		server, client := pskRequest(mode, identity, hint, serverKeyLen, clientKeyLen, leaf)
		var want pskReply
		oracle.Ask(t, map[string]any{"op": "pair", "server": server, "client": client}, &want)
		require.Empty(t, want.OracleError)
		want.normalize()
		check := func(pair string, got pskReply) {
			t.Helper()
			got.normalize()
			if !assert.Equal(t, want, got, "%s against node's client and server", pair) {
				req, _ := json.Marshal(map[string]any{"mode": mode, "server": server, "client": client})
				t.Logf("request: %.2000s", req)
			}
		}

		pairings[pskReply, pskServer]{
			oracle: oracle, server: server, client: client,
			startGo:    func() (int, func() *pskServer, string) { return startGoPSKServer(t, server) },
			goClient:   func(port int) pskReply { return goPSKClient(t, client, port) },
			withServer: func(r pskReply, s *pskServer) pskReply { r.Server = s; return r },
			withError:  func(e string) pskReply { return pskReply{ServerError: e} },
			check:      check,
		}.run(t)
	})
}

// startGoPSKServer is a nodetls server of FuzzPSK behind a front: its
// port and result, or the error of its options.
func startGoPSKServer(t *testing.T, spec pskSpec) (int, func() *pskServer, string) {
	so, err := parity.ServerOptions(spec.Options)
	require.NoError(t, err)
	key, err := hex.DecodeString(spec.Key)
	require.NoError(t, err)
	var mu sync.Mutex
	identities := []string{}
	so.PSKCallback = func(_ *tls.Socket, identity string) []byte {
		mu.Lock()
		identities = append(identities, identity)
		mu.Unlock()
		if spec.Mode == 1 || spec.Mode == 0 && identity != spec.Identity {
			return nil
		}
		return key
	}
	port, result, serverError := serveGo(t, so,
		func(s *tls.Socket) *pskServer {
			return &pskServer{Protocol: s.GetProtocol(), Cipher: s.GetCipher().Name}
		},
		func(code string) *pskServer { return &pskServer{Error: code} }, pskErrCode)
	if serverError != "" {
		return 0, nil, serverError
	}
	return port, func() *pskServer {
		r := result()
		if r != nil {
			mu.Lock()
			defer mu.Unlock()
			r.Identities = append([]string{}, identities...)
		}
		return r
	}, ""
}

// pskErrCode is errCode, with the message of ERR_INVALID_ARG_VALUE.
func pskErrCode(err error) string {
	var te *tls.Error
	if errors.As(err, &te) && te.Code == "ERR_INVALID_ARG_VALUE" {
		return te.Code + ": " + te.Message
	}
	return errCode(err)
}

// goPSKClient runs a nodetls client of FuzzPSK against port.
func goPSKClient(t *testing.T, spec pskSpec, port int) pskReply {
	co, err := parity.ConnectOptions(spec.Options)
	require.NoError(t, err)
	key, err := hex.DecodeString(spec.Key)
	require.NoError(t, err)
	var mu sync.Mutex
	hints := []string{}
	co.PSKCallback = func(hint string) ([]byte, string, bool) {
		mu.Lock()
		hints = append(hints, hint)
		mu.Unlock()
		if spec.None {
			return nil, "", false
		}
		return key, spec.Identity, true
	}
	co.Host, co.Port, co.Timeout = "127.0.0.1", port, 10*time.Second
	c, err := tls.Connect(co)
	mu.Lock()
	calls := append([]string{}, hints...)
	mu.Unlock()
	if err != nil {
		return pskReply{ClientError: pskErrCode(err), Hints: calls}
	}
	defer c.Destroy()
	r := &pskClient{Protocol: c.GetProtocol(), Cipher: c.GetCipher().Name}
	r.Data, r.After = readToEnd(t, c, pskErrCode)
	mu.Lock()
	r.Hints = append([]string{}, hints...)
	mu.Unlock()
	return pskReply{Client: r}
}

package tls_test

import (
	"encoding/json"
	"strings"
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

// negotiationOracleScript is node's side of FuzzNegotiation
// (pairingOracleJS): server and client specs are createServer and connect
// options. The server writes "hi" and ends on its secureConnection; the
// client reads until the end or an error.
const negotiationOracleScript = pairingOracleJS + `
// A failed setECDHCurve leaves OpenSSL's error on the queue, and node's
// next OpenSSL error would report it (ERR_SSL_PASSED_INVALID_ARGUMENT for a
// cipher string that matches nothing): a failure that reports the queue
// clears it.
const drain = () => { try { tls.createSecureContext({ciphers: '-ALL'}); } catch (e) {} };

async function startServer(options) {
  drain();
  return listen(options, (s) => ({protocol: s.getProtocol(), cipher: s.getCipher().name, alpn: str(s.alpnProtocol),
    servername: str(s.servername), authorized: s.authorized, authorizationError: str(s.authorizationError)}));
}

function connect(options, port) {
  drain();
  return client({...options, host: '127.0.0.1', port}, (c) => {
    const ci = c.getCipher();
    const eph = c.getEphemeralKeyInfo() || {};
    return {protocol: c.getProtocol(), cipher: ci.name, standardName: ci.standardName, version: ci.version,
      alpn: str(c.alpnProtocol), authorized: c.authorized, authorizationError: str(c.authorizationError),
      ephemeral: [eph.type ?? '', eph.name ?? '', eph.size ?? 0].join('/')};
  });
}
`

// negotiationReply is the oracle's answer, and the same for nodetls.
type negotiationReply struct {
	ServerError string             `json:"serverError,omitempty"` // createServer threw
	ClientError string             `json:"clientError,omitempty"` // connect threw, or its handshake failed
	Client      *negotiationClient `json:"client,omitempty"`      // the client's secureConnect and what followed
	Server      *negotiationServer `json:"server,omitempty"`      // the server's secureConnection or tlsClientError
	OracleError string             `json:"oracleError,omitempty"`
}

type negotiationClient struct {
	Protocol           string `json:"protocol"`
	Cipher             string `json:"cipher"`
	StandardName       string `json:"standardName"`
	Version            string `json:"version"`
	ALPN               string `json:"alpn"`
	Authorized         bool   `json:"authorized"`
	AuthorizationError string `json:"authorizationError"`
	Ephemeral          string `json:"ephemeral"` // type/name/size
	Data               string `json:"data"`
	After              string `json:"after,omitempty"` // the error that ended the connection after secureConnect
}

type negotiationServer struct {
	Error              string `json:"error,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
	Cipher             string `json:"cipher,omitempty"`
	ALPN               string `json:"alpn,omitempty"`
	Servername         string `json:"servername,omitempty"`
	Authorized         bool   `json:"authorized,omitempty"`
	AuthorizationError string `json:"authorizationError,omitempty"`
}

// negotiationCipherWords are the words FuzzNegotiation builds cipher
// strings of: suites of both versions, aliases, and names OpenSSL does not
// know.
var negotiationCipherWords = []string{
	"ALL", "DEFAULT", "HIGH", "MEDIUM", "COMPLEMENTOFDEFAULT", "aNULL", "eNULL", "ECDHE", "EECDH",
	"DHE", "kRSA", "aRSA", "aECDSA", "AESGCM", "AES128", "AES256", "CHACHA20", "SHA256", "SHA384",
	"SHA1", "PSK", "3DES", "@STRENGTH", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
	"DHE-RSA-AES128-GCM-SHA256", "AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES256-SHA384", "DHE-RSA-CHACHA20-POLY1305",
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
	"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256", "TLS_BOGUS", "bogus",
}

var (
	negotiationVersions  = []string{"", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "TLSv1.4", "", ""}
	negotiationProtocols = []string{"", "", "", "", "TLS_method", "TLSv1_2_method", "TLSv1_method", "SSLv3_method"}
	negotiationCurves    = []string{"", "auto", "P-256", "X25519", "P-384:X25519", "secp521r1", "prime256v1:bogus", "X448"}
	negotiationSigalgs   = []string{"", "ECDSA+SHA256", "RSA-PSS+SHA256", "rsa_pkcs1_sha256", "RSA+SHA256:ECDSA+SHA384",
		"ed25519", "RSA+SHA1:ECDSA+SHA1", "bogus"}
	negotiationALPN = [][]string{nil, {"h2"}, {"http/1.1", "h2"}, {"x"}}
)

// negotiationBits reads fields of a fuzz argument, low bits first.
type negotiationBits uint64

func (b *negotiationBits) take(n uint) int {
	v := int(uint64(*b) & (1<<n - 1))
	*b >>= n
	return v
}

// negotiationCiphers is the cipher string that words selects (each byte: a
// word, and one of no prefix, "!", "-", "+"), and whether it has words of
// TLS 1.2 and below, where a security level can be named.
func negotiationCiphers(words []byte) (string, bool) {
	var parts []string
	list := false
	for _, w := range words {
		word := negotiationCipherWords[int(w&0x3f)%len(negotiationCipherWords)]
		parts = append(parts, []string{"", "!", "-", "+"}[w>>6]+word)
		if !strings.HasPrefix(word, "TLS_") {
			list = true
		}
	}
	return strings.Join(parts, ":"), list
}

// negotiationKeys are the server's certificates: RSA-2048, ECDSA P-256,
// Ed25519 and RSA-1024, each for localhost and 127.0.0.1, issued by root;
// and a client certificate.
type negotiationKeys struct {
	root              *testpki.CA
	keys, certs       [4]string
	clientKey, client string
	dhparam           string
}

func newNegotiationKeys(t testing.TB) *negotiationKeys {
	k := &negotiationKeys{root: testpki.NewCA(t, testpki.Options{})}
	for i, kt := range []testpki.KeyType{testpki.RSA2048, testpki.ECDSAP256, testpki.Ed25519} {
		l := k.root.Leaf(t, testpki.Options{Key: kt}, "localhost", "127.0.0.1")
		k.keys[i], k.certs[i] = string(l.KeyPEM), string(l.ChainPEM)
	}
	k.keys[3], k.certs[3] = rsaLeaf(t, k.root, 1024, "localhost", "127.0.0.1")
	cl := k.root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true}, "client")
	k.clientKey, k.client = string(cl.KeyPEM), string(cl.ChainPEM)
	k.dhparam = dhParams(t, "2048")
	return k
}

// negotiationOptions builds node's createServer and connect options from
// FuzzNegotiation's arguments. Both sides always name a security level for
// their TLS 1.2 cipher list (Node's bundled OpenSSL defaults to 1, the
// system's to 2); a side whose cipher string has TLS 1.3 suites only runs at
// its default level, so the RSA-1024 key, which the levels judge
// differently, is then replaced by RSA-2048.
func negotiationOptions(k *negotiationKeys, srvBits, cliBits uint64, srvWords, cliWords []byte) (server, client map[string]any) {
	server, client = map[string]any{}, map[string]any{}
	sb, cb := negotiationBits(srvBits), negotiationBits(cliBits)
	common := func(m map[string]any, b *negotiationBits, words []byte) bool {
		ciphers, list := negotiationCiphers(words)
		level := b.take(2)
		if ciphers == "" {
			ciphers, list = "DEFAULT", true
		}
		if list {
			ciphers += ":@SECLEVEL=" + itoa((level+1)%4) // 0: level 1, 3: level 0
		}
		m["ciphers"] = ciphers
		if v := negotiationVersions[b.take(3)]; v != "" {
			m["minVersion"] = v
		}
		if v := negotiationVersions[b.take(3)]; v != "" {
			m["maxVersion"] = v
		}
		if v := negotiationProtocols[b.take(3)]; v != "" {
			m["secureProtocol"] = v
		}
		if v := negotiationCurves[b.take(3)]; v != "" {
			m["ecdhCurve"] = v
		}
		if v := negotiationSigalgs[b.take(3)]; v != "" {
			m["sigalgs"] = v
		}
		if v := negotiationALPN[b.take(2)]; v != nil {
			m["ALPNProtocols"] = v
		}
		return list
	}
	srvLevel := common(server, &sb, srvWords)
	cliLevel := common(client, &cb, cliWords)
	key := sb.take(2)
	if key == 3 && !(srvLevel && cliLevel) {
		key = 0
	}
	server["key"], server["cert"] = k.keys[key], k.certs[key]
	if sb.take(1) == 1 {
		server["dhparam"] = k.dhparam
	}
	switch sb.take(2) {
	case 1:
		server["honorCipherOrder"] = true
	case 2:
		server["honorCipherOrder"] = false
	}
	if sb.take(1) == 1 {
		server["requestCert"] = true
		server["ca"] = string(k.root.CertPEM)
	}
	if sb.take(1) == 1 {
		server["rejectUnauthorized"] = false
	}
	if cb.take(1) == 1 {
		client["rejectUnauthorized"] = false
	}
	if cb.take(1) == 1 {
		client["ca"] = string(k.root.CertPEM)
	}
	if cb.take(1) == 1 {
		client["key"], client["cert"] = k.clientKey, k.client
	}
	switch cb.take(2) {
	case 1:
		client["servername"] = "localhost"
	case 2:
		client["servername"] = "other.example.com"
	}
	return server, client
}

// FuzzNegotiation compares whole handshakes with node: the fuzz arguments
// choose both ends' cipher strings, protocol versions and methods, curves,
// signature algorithms, ALPN lists, the server's key, DH parameters,
// cipher order and client certificate request, and the client's trust,
// certificate and server name. A node server and client holding those
// options (the oracle) must see what a nodetls server and client holding
// them see: the option errors, the handshake's error codes on both ends,
// or the negotiated protocol, cipher, ALPN protocol, ephemeral key, server
// name and the verification result on each end.
func FuzzNegotiation(f *testing.F) {
	// Bits of the arguments: level 0-1 ((n+1)%4), minVersion 2-4,
	// maxVersion 5-7, secureProtocol 8-10, ecdhCurve 11-13, sigalgs 14-16,
	// ALPN 17-18 (negotiationVersions, ...); then the server's key 19-20,
	// dhparam 21, honorCipherOrder 22-23, requestCert 24 and
	// rejectUnauthorized: false 25; the client's rejectUnauthorized: false
	// 19, ca 20, certificate 21 and servername 22-23.
	const (
		level0, min, max, method, curve, sigalg, alpn                          = 3, 1 << 2, 1 << 5, 1 << 8, 1 << 11, 1 << 14, 1 << 17
		ecdsa, ed25519, rsa1024, dh, honor, clientOrder, requestCert, noReject = 1 << 19, 2 << 19, 3 << 19, 1 << 21, 1 << 22, 2 << 22, 1 << 24, 1 << 25
		cNoReject, cCA, cCert, cLocalhost, cOther                              = 1 << 19, 1 << 20, 1 << 21, 1 << 22, 2 << 22
	)
	for _, s := range []struct {
		srv, cli           uint64
		srvWords, cliWords []byte
	}{
		{0, 0, nil, nil},
		{ecdsa, 0, nil, nil},
		{ed25519, 0, nil, nil},
		{rsa1024 | level0, level0, nil, nil},
		{rsa1024, 0, nil, nil},                                   // RSA-1024 at level 1
		{ecdsa | requestCert, cCert, nil, nil},                   // a client certificate
		{requestCert | noReject, 0, nil, nil},                    // none, not rejected
		{requestCert, cNoReject, nil, nil},                       // none, rejected
		{0, cCA | cNoReject, nil, nil},                           // the client trusts the root
		{0, cCA, nil, nil},                                       // ... and rejects the IP's name
		{0, cCA | cLocalhost, nil, nil},                          // ... and asks for localhost
		{0, cCA | cOther, nil, nil},                              // ... or another name
		{3 * min, 4 * min, nil, nil},                             // server min TLS 1.2, client min TLS 1.3
		{4 * max, 3 * max, nil, nil},                             // server max 1.3, client max 1.2
		{1 * min, 1 * min, nil, nil},                             // TLSv1 at level 1
		{1*min | level0, 1*max | level0, nil, nil},               // TLSv1 at level 0
		{5 * min, 0, nil, nil},                                   // TLSv1.4
		{4 * method, 5 * method, nil, nil},                       // TLS_method against TLSv1_2_method
		{3*min | 5*method, 0, nil, nil},                          // minVersion with secureProtocol
		{7 * method, 0, nil, nil},                                // SSLv3_method
		{2 * curve, 3 * curve, nil, nil},                         // P-256 against X25519
		{6 * curve, 0, nil, nil},                                 // an unknown curve
		{1 * sigalg, 3 * sigalg, nil, nil},                       // sigalgs
		{ecdsa | 1*sigalg, 0, nil, nil},                          // ECDSA key and ECDSA+SHA256
		{2 * alpn, 1 * alpn, nil, nil},                           // ALPN h2
		{3 * alpn, 1 * alpn, nil, nil},                           // no ALPN overlap
		{0, 0, []byte{32}, []byte{33}},                           // one TLS 1.3 suite each, different
		{dh, 0, []byte{25, 23}, []byte{23, 25}},                  // DHE with ffdhe2048
		{honor, 0, []byte{23, 24, 26}, []byte{26, 24, 23}},       // server order
		{clientOrder, 0, []byte{23, 24, 26}, []byte{26, 24, 23}}, // client order
		{0, 0, []byte{0, 0x80 | 7}, []byte{38}},                  // ALL:-ECDHE against bogus
		{0, 0, []byte{2, 0x40 | 18, 0xc0 | 22}, []byte{35}},      // HIGH:!SHA384:+@STRENGTH
		{0, 0, []byte{34}, []byte{32}},                           // TLS 1.3 suites only
		{ecdsa, 0, []byte{29, 24}, []byte{0x40 | 29, 0, 1}},      // ECDSA key with RSA suites
		{2, 2, nil, nil},                                         // level 3
	} {
		f.Add(s.srv, s.cli, s.srvWords, s.cliWords)
	}
	keys := newNegotiationKeys(f)
	oracle := nodeoracle.Start(f, negotiationOracleScript)
	f.Fuzz(func(t *testing.T, srvBits, cliBits uint64, srvWords, cliWords []byte) {
		if len(srvWords) > 8 || len(cliWords) > 8 {
			return
		}
		server, client := negotiationOptions(keys, srvBits, cliBits, srvWords, cliWords)
		var want negotiationReply
		oracle.Ask(t, map[string]any{"op": "pair", "server": server, "client": client}, &want)
		require.Empty(t, want.OracleError)
		check := func(pair string, got negotiationReply) {
			t.Helper()
			w := want
			if clientRejected(w.ClientError) && clientRejected(got.ClientError) {
				// The client rejected the server after its handshake and
				// destroyed the socket: whether the server completed its
				// own first (TLS 1.3) or saw ECONNRESET is up to timing.
				w.Server, got.Server = nil, nil
			}
			if !assert.Equal(t, w, got, "%s against node's client and server", pair) {
				opts, _ := json.Marshal(map[string]any{"server": redactPEM(server), "client": redactPEM(client)})
				t.Logf("options: %s", opts)
			}
		}

		pairings[negotiationReply, negotiationServer]{
			oracle: oracle, server: server, client: client,
			startGo:  func() (int, func() *negotiationServer, string) { return startGoNegotiationServer(t, server) },
			goClient: func(port int) negotiationReply { return goNegotiationClient(t, client, port) },
			withServer: func(r negotiationReply, s *negotiationServer) negotiationReply {
				r.Server = s
				return r
			},
			withError: func(e string) negotiationReply { return negotiationReply{ServerError: e} },
			check:     check,
		}.run(t)
	})
}

// verifyCodeNames are Node's names of verify results.
var verifyCodeNames = func() map[string]bool {
	m := map[string]bool{}
	for code := int64(0); code < 200; code++ {
		m[openssl.VerifyCodeName(code)] = true
	}
	return m
}()

// clientRejected says whether code is a client's verification error.
func clientRejected(code string) bool {
	return verifyCodeNames[code] || code == "ERR_TLS_CERT_ALTNAME_INVALID"
}

// redactPEM is m with PEM values shortened, for a failure's log.
func redactPEM(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "-----BEGIN") {
			v = s[:strings.Index(s, "\n")] + "..."
		}
		out[k] = v
	}
	return out
}

// startGoNegotiationServer is a nodetls server holding options (node's
// createServer options) behind a front: its port and result, or the error
// of CreateServer's options.
func startGoNegotiationServer(t *testing.T, options map[string]any) (int, func() *negotiationServer, string) {
	so, err := parity.ServerOptions(options)
	require.NoError(t, err)
	return serveGo(t, so, func(s *tls.Socket) *negotiationServer {
		r := &negotiationServer{Protocol: s.GetProtocol(), Cipher: s.GetCipher().Name, ALPN: s.ALPNProtocol(),
			Servername: s.Servername(), Authorized: s.Authorized()}
		if err := s.AuthorizationError(); err != nil {
			r.AuthorizationError = errCode(err)
		}
		return r
	}, func(code string) *negotiationServer { return &negotiationServer{Error: code} }, errCode)
}

// goNegotiationClient runs a nodetls client holding options (node's connect
// options) against port: the reply's ClientError or Client.
func goNegotiationClient(t *testing.T, options map[string]any, port int) negotiationReply {
	co, err := parity.ConnectOptions(options)
	require.NoError(t, err)
	co.Host, co.Port, co.Timeout = "127.0.0.1", port, 10*time.Second
	c, err := tls.Connect(co)
	if err != nil {
		return negotiationReply{ClientError: errCode(err)}
	}
	defer c.Destroy()
	ci := c.GetCipher()
	eph := c.GetEphemeralKeyInfo()
	r := &negotiationClient{Protocol: c.GetProtocol(), Cipher: ci.Name, StandardName: ci.StandardName,
		Version: ci.Version, ALPN: c.ALPNProtocol(), Authorized: c.Authorized(),
		Ephemeral: eph.Type + "/" + eph.Name + "/" + itoa(eph.Size)}
	if err := c.AuthorizationError(); err != nil {
		r.AuthorizationError = errCode(err)
	}
	r.Data, r.After = readToEnd(t, c, errCode)
	return negotiationReply{Client: r}
}

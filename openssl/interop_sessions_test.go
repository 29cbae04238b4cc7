package openssl_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const greeting = "hello from the server\n"

// served is what our server saw on one connection.
type served struct {
	reused bool
	err    error
}

// serveOurs runs our server on 127.0.0.1: each connection handshakes, gets
// the greeting (after any TLS 1.3 tickets), and is read until the peer ends it.
func serveOurs(t *testing.T, sctx *openssl.Context, scfg openssl.ConnConfig) (string, <-chan served) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	results := make(chan served, 64)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, err := openssl.Server(raw, sctx, scfg)
				if err != nil {
					raw.Close()
					results <- served{err: err}
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = c.Handshake(ctx)
				res := served{err: err}
				if err == nil {
					res.reused = c.SessionReused()
					_ = c.SetDeadline(time.Now().Add(10 * time.Second))
					if _, werr := c.Write([]byte(greeting)); werr == nil {
						_, _ = io.Copy(io.Discard, c)
					}
				}
				c.Close()
				results <- res
			}()
		}
	}()
	return ln.Addr().String(), results
}

func nextServed(t *testing.T, results <-chan served) served {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("our server saw no connection")
		return served{}
	}
}

var sessionLine = regexp.MustCompile(`(?m)^(New|Reused), (TLSv1\.[0-3])`)

// sessionLines lists the "New"/"Reused" words of s_client's (or s_server -www's) summaries.
func sessionLines(out string) []string {
	var words []string
	for _, m := range sessionLine.FindAllStringSubmatch(out, -1) {
		words = append(words, m[1])
	}
	return words
}

func versionFlag(v openssl.ProtocolVersion) string {
	if v == openssl.TLS1_3 {
		return "-tls1_3"
	}
	return "-tls1_2"
}

// `openssl s_client -reconnect` (one connection, then five with the first
// session) against our server, with tickets and with -no_ticket (our external
// cache), TLS 1.2 (s_client 3.0 saves the session before TLS 1.3 tickets
// arrive, so -reconnect never resumes TLS 1.3). The expectation comes from
// the same run against `openssl s_server`; Node's test-tls-session-cache
// sees the same: five resumptions, and the session callbacks unused with
// tickets.
func TestInteropSClientReconnect(t *testing.T) {
	leaf := sessionPKI(t)
	keyFile, chainFile, caFile := leaf.WriteFiles(t)
	for _, noTicket := range []bool{false, true} {
		name := "tickets"
		if noTicket {
			name = "no_ticket"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"-CAfile", caFile, "-servername", "localhost", "-tls1_2", "-reconnect"}
			if noTicket {
				args = append(args, "-no_ticket")
			}
			run := func(addr string) []string {
				cli := peers.OpenSSLClient(t, addr, args...)
				cli.CloseStdin()
				require.Equal(t, 0, cli.Wait(t, 30*time.Second), cli.Output())
				return sessionLines(cli.Stdout())
			}

			oracle, oracleAddr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", chainFile)
			want := run(oracleAddr)
			oracle.Kill()
			require.Len(t, want, 6, "s_client -reconnect makes six connections")

			opts := openssl.ContextOptions{}
			if noTicket {
				opts.Options = openssl.OpNoTicket
			}
			sctx := sessionServer(t, leaf, openssl.TLS1_2, opts)
			cache := newSessionCache(t)
			addr, results := serveOurs(t, sctx, cache.serverConfig())
			got := run(addr)
			assert.Equal(t, want, got, "same New/Reused sequence as against s_server")
			assert.Equal(t, []string{"New", "Reused", "Reused", "Reused", "Reused", "Reused"}, got)
			reused := 0
			for range 6 {
				r := nextServed(t, results)
				require.NoError(t, r.err)
				if r.reused {
					reused++
				}
			}
			assert.Equal(t, 5, reused, "our server resumed five times")
			news, hits, _ := cache.counts()
			if noTicket {
				assert.Equal(t, 1, news)
				assert.Equal(t, 5, hits)
			} else {
				assert.Equal(t, 0, news, "tickets: the session callbacks are not used")
				assert.Equal(t, 0, hits)
			}
		})
	}
}

// Two s_client runs against our server share a session file (-sess_out,
// -sess_in): New, then Reused; and with a 1 s session timeout, a third run
// after 2.1 s is New again (Node's sequential/test-tls-session-timeout).
func TestInteropSClientSessionFile(t *testing.T) {
	leaf := sessionPKI(t)
	_, _, caFile := leaf.WriteFiles(t)
	type sessCase struct {
		name     string
		v        openssl.ProtocolVersion
		noTicket bool
		timeout  bool
	}
	var cases []sessCase
	for _, p := range sessionProtocols {
		cases = append(cases,
			sessCase{name: p.name + "/tickets", v: p.v},
			sessCase{name: p.name + "/no_ticket", v: p.v, noTicket: true},
			sessCase{name: p.name + "/tickets/timeout", v: p.v, timeout: true},
			sessCase{name: p.name + "/no_ticket/timeout", v: p.v, noTicket: true, timeout: true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := openssl.ContextOptions{}
			if tc.noTicket {
				opts.Options = openssl.OpNoTicket
			}
			if tc.timeout {
				opts.SessionTimeout = time.Second
			}
			sctx := sessionServer(t, leaf, tc.v, opts)
			if !tc.noTicket {
				require.NoError(t, sctx.SetTicketKeys(newKey(t)))
			}
			cache := newSessionCache(t)
			addr, results := serveOurs(t, sctx, cache.serverConfig())
			sessFile := filepath.Join(t.TempDir(), "session.pem")

			run := func(sessArg string) string {
				args := []string{"-CAfile", caFile, "-servername", "localhost", versionFlag(tc.v), sessArg, sessFile}
				if tc.noTicket {
					args = append(args, "-no_ticket")
				}
				cli := peers.OpenSSLClient(t, addr, args...)
				// The greeting comes after the TLS 1.3 tickets: once it is
				// printed, s_client has written the session file.
				cli.WaitFor(t, regexp.MustCompile(regexp.QuoteMeta(strings.TrimSpace(greeting))), 15*time.Second)
				cli.CloseStdin()
				require.Equal(t, 0, cli.Wait(t, 15*time.Second), cli.Output())
				lines := sessionLines(cli.Stdout())
				require.Len(t, lines, 1, cli.Stdout())
				r := nextServed(t, results)
				require.NoError(t, r.err)
				assert.Equal(t, lines[0] == "Reused", r.reused, "our server agrees with s_client")
				return lines[0]
			}
			assert.Equal(t, "New", run("-sess_out"))
			assert.Equal(t, "Reused", run("-sess_in"))
			if tc.timeout {
				time.Sleep(2100 * time.Millisecond)
				assert.Equal(t, "New", run("-sess_in"), "expired after the session timeout")
			}
			_, hits, _ := cache.counts()
			if tc.noTicket {
				assert.Positive(t, hits, "resumed through the external cache")
			} else {
				assert.Equal(t, 0, hits)
			}
		})
	}
}

// wwwGet runs one GET against `openssl s_server -www` with our client and
// returns the page and whether our client resumed.
func wwwGet(t *testing.T, addr string, cctx *openssl.Context, ccfg openssl.ConnConfig) (string, bool) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	c, err := openssl.Client(raw, cctx, ccfg)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(15*time.Second)))
	_, err = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	require.NoError(t, err)
	page, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		require.NoError(t, err)
	}
	return string(page), c.SessionReused()
}

// Our client resumes against `openssl s_server`, with the session taken as
// DER from the first connection; s_server's -www page says "New" and then
// "Reused", as our SessionReused does.
func TestInteropOurClientResumesWithSServer(t *testing.T) {
	leaf := sessionPKI(t)
	keyFile, chainFile, _ := leaf.WriteFiles(t)
	for _, p := range sessionProtocols {
		for _, noTicket := range []bool{false, true} {
			if noTicket && p.v == openssl.TLS1_3 {
				continue // -no_ticket on a TLS 1.3 s_server only makes its tickets stateful
			}
			name := p.name + "/tickets"
			if noTicket {
				name = p.name + "/no_ticket"
			}
			t.Run(name, func(t *testing.T) {
				args := []string{"-key", keyFile, "-cert", chainFile, "-www", versionFlag(p.v)}
				if noTicket {
					args = append(args, "-no_ticket")
				}
				_, addr := peers.OpenSSLServer(t, args...)
				cctx := sessionClient(t, leaf, p.v)
				got := newSessionList(t)
				ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}

				page, reused := wwwGet(t, addr, cctx, ccfg)
				assert.Equal(t, []string{"New"}, sessionLines(page), page)
				assert.False(t, reused)
				last := got.last()
				require.NotNil(t, last, "a session was delivered")
				assert.Equal(t, !noTicket, last.HasTicket())
				der := last.DER()

				sess, err := openssl.ParseSession(der)
				require.NoError(t, err)
				defer sess.Free()
				ccfg.Session = sess
				page, reused = wwwGet(t, addr, cctx, ccfg)
				assert.Equal(t, []string{"Reused"}, sessionLines(page), page)
				assert.True(t, reused)
			})
		}
	}
}

func caPool(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	return pool
}

func goTLSVersion(v openssl.ProtocolVersion) uint16 {
	if v == openssl.TLS1_3 {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// Go's crypto/tls client with a ClientSessionCache resumes against our
// server, with OpenSSL's ticket keys and with ours.
func TestInteropGoClientResumesWithOurServer(t *testing.T) {
	leaf := sessionPKI(t)
	for _, p := range sessionProtocols {
		for _, ownKeys := range []bool{false, true} {
			name := p.name + "/openssl-keys"
			if ownKeys {
				name = p.name + "/our-keys"
			}
			t.Run(name, func(t *testing.T) {
				sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				if ownKeys {
					require.NoError(t, sctx.SetTicketKeys(newKey(t)))
				}
				addr, results := serveOurs(t, sctx, openssl.ConnConfig{})
				conf := &tls.Config{
					RootCAs:            caPool(t, leaf.CAPEM),
					ServerName:         "localhost",
					MinVersion:         goTLSVersion(p.v),
					MaxVersion:         goTLSVersion(p.v),
					ClientSessionCache: tls.NewLRUClientSessionCache(4),
				}
				for i, wantResumed := range []bool{false, true, true} {
					c, err := tls.Dial("tcp", addr, conf)
					require.NoError(t, err)
					// Reading the greeting also reads the TLS 1.3 ticket before it.
					line, err := bufio.NewReader(c).ReadString('\n')
					require.NoError(t, err)
					assert.Equal(t, greeting, line)
					assert.Equal(t, wantResumed, c.ConnectionState().DidResume, "connection %d: crypto/tls", i)
					c.Close()
					r := nextServed(t, results)
					require.NoError(t, r.err)
					assert.Equal(t, wantResumed, r.reused, "connection %d: our server", i)
				}
			})
		}
	}
}

// Our client resumes against a crypto/tls server, with the session passed as DER.
func TestInteropOurClientResumesWithGoServer(t *testing.T) {
	leaf := sessionPKI(t)
	cert, err := tls.X509KeyPair(leaf.ChainPEM, leaf.KeyPEM)
	require.NoError(t, err)
	for _, p := range sessionProtocols {
		t.Run(p.name, func(t *testing.T) {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
				Certificates: []tls.Certificate{cert},
				MinVersion:   goTLSVersion(p.v),
				MaxVersion:   goTLSVersion(p.v),
			})
			require.NoError(t, err)
			defer ln.Close()
			resumed := make(chan bool, 4)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						tc := c.(*tls.Conn)
						if tc.Handshake() != nil {
							resumed <- false
							return
						}
						resumed <- tc.ConnectionState().DidResume
						_, _ = tc.Write([]byte(greeting))
						_, _ = io.Copy(io.Discard, tc)
					}()
				}
			}()
			cctx := sessionClient(t, leaf, p.v)
			got := newSessionList(t)
			ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
			dial := func() bool {
				raw, err := net.Dial("tcp", ln.Addr().String())
				require.NoError(t, err)
				c, err := openssl.Client(raw, cctx, ccfg)
				require.NoError(t, err)
				defer c.Close()
				require.NoError(t, c.SetDeadline(time.Now().Add(15*time.Second)))
				line, err := bufio.NewReader(c).ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, greeting, line)
				return c.SessionReused()
			}
			assert.False(t, dial())
			assert.False(t, <-resumed)
			last := got.last()
			require.NotNil(t, last)
			sess, err := openssl.ParseSession(last.DER())
			require.NoError(t, err)
			defer sess.Free()
			ccfg.Session = sess
			assert.True(t, dial(), "our client resumed")
			assert.True(t, <-resumed, "crypto/tls resumed")
		})
	}
}

const nodeTicketServer = `
const tls = require('tls'), fs = require('fs');
const [keyFile, certFile, keysHex, sidCtx, maxVersion, sni] = process.argv.slice(1);
const key = fs.readFileSync(keyFile), cert = fs.readFileSync(certFile);
const opts = {key, cert, ticketKeys: Buffer.from(keysHex, 'hex'), sessionIdContext: sidCtx, maxVersion};
if (sni === 'sni') {
  // A context of its own, with random ticket keys of its own.
  const other = tls.createSecureContext({key, cert, sessionIdContext: sidCtx});
  opts.SNICallback = (name, cb) => cb(null, other);
}
const srv = tls.createServer(opts, (s) => { s.end(JSON.stringify({reused: s.isSessionReused()}) + '\n'); });
srv.listen(0, '127.0.0.1', () => console.log('LISTEN ' + srv.address().port));
`

// The ticket format is Node's: a Node server with the same 48-byte keys
// resumes our tickets, and our server resumes Node's. With an SNI switch to a
// context with other keys, both keep using the first context's keys.
func TestInteropTicketKeysWithNode(t *testing.T) {
	leaf := sessionPKI(t)
	keyFile, chainFile, _ := leaf.WriteFiles(t)
	for _, p := range sessionProtocols {
		for _, sni := range []string{"plain", "sni"} {
			t.Run(p.name+"/"+sni, func(t *testing.T) {
				testTicketKeysWithNode(t, leaf, keyFile, chainFile, p, sni)
			})
		}
	}
}

// testTicketKeysWithNode runs one case of TestInteropTicketKeysWithNode.
func testTicketKeysWithNode(t *testing.T, leaf *testpki.Leaf, keyFile, chainFile string, p protoCase, sni string) {
	keys := newKey(t)
	node := peers.Node(t, nodeTicketServer, keyFile, chainFile, hex.EncodeToString(keys), string(sessionIDContext), p.name, sni)
	nodeAddr := "127.0.0.1:" + node.WaitFor(t, regexp.MustCompile(`LISTEN (\d+)`), 15*time.Second)[1]
	sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
	require.NoError(t, sctx.SetTicketKeys(keys))
	var scfg openssl.ConnConfig
	if sni == "sni" {
		other := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
		require.NoError(t, other.SetTicketKeys(newKey(t)))
		scfg.ServerNameCallback = func(string) (*openssl.Context, error) { return other, nil }
	}
	ourAddr, results := serveOurs(t, sctx, scfg)
	cctx := sessionClient(t, leaf, p.v)

	// dialNode returns what the Node server reported and our client's view.
	dialNode := func(sess *openssl.Session) (nodeReused, ours bool, got *openssl.Session) {
		list := newSessionList(t)
		raw, err := net.Dial("tcp", nodeAddr)
		require.NoError(t, err)
		c, err := openssl.Client(raw, cctx, openssl.ConnConfig{ServerName: "localhost", Session: sess, OnNewSession: list.add})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(15*time.Second)))
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		var msg struct{ Reused bool }
		require.NoError(t, json.Unmarshal([]byte(line), &msg), line)
		return msg.Reused, c.SessionReused(), list.last()
	}
	dialOurs := func(sess *openssl.Session) (ours bool, got *openssl.Session) {
		list := newSessionList(t)
		raw, err := net.Dial("tcp", ourAddr)
		require.NoError(t, err)
		c, err := openssl.Client(raw, cctx, openssl.ConnConfig{ServerName: "localhost", Session: sess, OnNewSession: list.add})
		require.NoError(t, err)
		require.NoError(t, c.SetDeadline(time.Now().Add(15*time.Second)))
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, greeting, line)
		reused := c.SessionReused()
		c.Close()
		r := nextServed(t, results)
		require.NoError(t, r.err)
		assert.Equal(t, reused, r.reused)
		return reused, list.last()
	}

	nodeReused, ours, fromNode := dialNode(nil)
	require.False(t, nodeReused)
	require.False(t, ours)
	require.NotNil(t, fromNode, "Node's server sent a ticket")
	assert.True(t, sameName(fromNode.Ticket(), keys), "Node's ticket starts with the key name")
	reused, _ := dialOurs(copySession(t, fromNode))
	assert.True(t, reused, "our server resumed Node's ticket")

	reused, fromUs := dialOurs(nil)
	require.False(t, reused)
	require.NotNil(t, fromUs)
	nodeReused, ours, _ = dialNode(copySession(t, fromUs))
	assert.True(t, nodeReused, "Node's server resumed our ticket")
	assert.True(t, ours)

	// Different keys on our side: Node's ticket is refused.
	require.NoError(t, sctx.SetTicketKeys(newKey(t)))
	_, _, fromNode = dialNode(nil)
	require.NotNil(t, fromNode)
	reused, fromUs = dialOurs(copySession(t, fromNode))
	assert.False(t, reused, fmt.Sprintf("%s: different keys", p.name))
	nodeReused, _, _ = dialNode(copySession(t, fromUs))
	assert.False(t, nodeReused, "and Node's server refuses ours")
}

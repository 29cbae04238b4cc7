package openssl_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pskVersions are the two ways to run PSK: a TLS 1.2 PSK cipher suite, and
// TLS 1.3 with OpenSSL's old-style callbacks (which use TLS_AES_128_GCM_SHA256).
var pskVersions = []struct {
	name   string
	opts   openssl.ContextOptions
	cipher string
	// the matching arguments for openssl s_server / s_client
	cliArgs []string
}{
	{
		name:    "TLSv1.2",
		opts:    openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String("PSK-AES128-CBC-SHA256")},
		cipher:  "PSK-AES128-CBC-SHA256",
		cliArgs: []string{"-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256"},
	},
	{
		name:    "TLSv1.3",
		opts:    openssl.ContextOptions{MinVersion: openssl.TLS1_3, Ciphersuites: openssl.String("TLS_AES_128_GCM_SHA256")},
		cipher:  "TLS_AES_128_GCM_SHA256",
		cliArgs: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"},
	},
}

// pskContext makes a context without any certificate.
func pskContext(t testing.TB, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	ctx, err := openssl.NewContext(opts)
	require.NoError(t, err)
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

func fixedKey(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestPSK(t *testing.T) {
	key := fixedKey(32, 0x5a)
	for _, kind := range transports {
		for _, v := range pskVersions {
			for _, hint := range []string{"HINT", ""} {
				t.Run(kind+"/"+v.name+"/hint="+hint, func(t *testing.T) {
					var gotIdentity, gotHint string
					var gotHasHint bool
					scfg := openssl.ConnConfig{PSKIdentityHint: hint, PSKServer: func(identity string) ([]byte, error) {
						gotIdentity = identity
						return key, nil
					}}
					ccfg := openssl.ConnConfig{PSKClient: func(h string, has bool) (string, []byte, error) {
						gotHint, gotHasHint = h, has
						return "client-one", key, nil
					}}
					srv, cli, serr, cerr := extPair(t, kind, pskContext(t, v.opts), pskContext(t, v.opts), scfg, ccfg)
					require.NoError(t, serr)
					require.NoError(t, cerr)
					assert.Equal(t, "client-one", gotIdentity)
					if v.name == "TLSv1.2" && hint != "" {
						assert.True(t, gotHasHint)
						assert.Equal(t, hint, gotHint)
					} else {
						// TLS 1.3 has no hint; TLS 1.2 without one passes NULL.
						assert.False(t, gotHasHint)
						assert.Equal(t, "", gotHint)
					}
					assert.Equal(t, v.name, cli.Version())
					for _, c := range []*openssl.Conn{srv, cli} {
						ci, ok := c.Cipher()
						require.True(t, ok)
						assert.Equal(t, v.cipher, ci.Name)
						// TLS 1.2 PSK suites authenticate with the PSK; TLS 1.3
						// reports the PSK as a resumption.
						assert.Equal(t, v.name == "TLSv1.2", ci.AuthPSK)
						assert.Equal(t, v.name == "TLSv1.3", c.SessionReused())
					}
					assert.Nil(t, cli.PeerCertificate(), "a PSK server without any certificate")
					exchange(t, srv, cli)
				})
			}
		}
	}
}

func TestPSKFailures(t *testing.T) {
	key := fixedKey(32, 0x5a)
	errUser := errors.New("identity store is down")
	for _, v := range pskVersions {
		for _, c := range []struct {
			name      string
			server    func(string) ([]byte, error)
			client    func(string, bool) (string, []byte, error)
			serverErr error
			clientErr error
			// OpenSSL reasons each side reports (when not a Go error)
			serverReason, clientReason string
		}{
			{
				name:   "server callback error",
				server: func(string) ([]byte, error) { return nil, errUser },
				client: func(string, bool) (string, []byte, error) { return "id", key, nil },
				// Our abort answer makes OpenSSL send internal_error.
				serverErr: errUser, clientReason: "tlsv1 alert internal error",
			},
			{
				name:      "client callback error",
				server:    func(string) ([]byte, error) { return key, nil },
				client:    func(string, bool) (string, []byte, error) { return "", nil, errUser },
				clientErr: errUser,
			},
			{
				name:   "identity with a NUL byte",
				server: func(string) ([]byte, error) { return key, nil },
				client: func(string, bool) (string, []byte, error) { return "a\x00b", key, nil },
			},
		} {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				_, _, serr, cerr := extPair(t, "pipe", pskContext(t, v.opts), pskContext(t, v.opts),
					openssl.ConnConfig{PSKServer: c.server}, openssl.ConnConfig{PSKClient: c.client})
				require.Error(t, serr)
				require.Error(t, cerr)
				t.Logf("server: %v\nclient: %v", serr, cerr)
				if c.serverErr != nil {
					assert.ErrorIs(t, serr, c.serverErr)
				}
				if c.clientErr != nil {
					assert.ErrorIs(t, cerr, c.clientErr)
				}
				if c.clientReason != "" {
					assert.Equal(t, c.clientReason, opensslReason(cerr))
				}
				if c.name == "identity with a NUL byte" {
					assert.ErrorContains(t, cerr, "NUL")
				}
			})
		}
	}
}

// OpenSSL 3.0's limits are PSK_MAX_IDENTITY_LEN (256) and PSK_MAX_PSK_LEN
// (512): one byte more is a *PSKLimitError on the side that supplied it, and
// the handshake ends; nothing is truncated.
func TestPSKLimits(t *testing.T) {
	require.Equal(t, 256, openssl.PSKMaxIdentityLen)
	require.Equal(t, 512, openssl.PSKMaxKeyLen)
	for _, v := range pskVersions {
		for _, c := range []struct {
			name                string
			serverKey           int
			clientKey, identity int
			errSide             string // "server", "client" or "" (success)
			what                string
		}{
			{"identity 256", 32, 32, 256, "", ""},
			{"identity 257", 32, 32, 257, "client", "identity"},
			{"client key 512", 512, 512, 8, "", ""},
			{"client key 513", 513, 513, 8, "client", "key"},
			{"server key 513", 513, 512, 8, "server", "key"},
		} {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				identity := strings.Repeat("i", c.identity)
				var gotIdentity string
				srv, cli, serr, cerr := extPair(t, "pipe", pskContext(t, v.opts), pskContext(t, v.opts),
					openssl.ConnConfig{PSKServer: func(id string) ([]byte, error) { gotIdentity = id; return fixedKey(c.serverKey, 1), nil }},
					openssl.ConnConfig{PSKClient: func(string, bool) (string, []byte, error) { return identity, fixedKey(c.clientKey, 1), nil }})
				t.Logf("server: %v\nclient: %v", serr, cerr)
				var le *openssl.PSKLimitError
				switch c.errSide {
				case "":
					require.NoError(t, serr)
					require.NoError(t, cerr)
					assert.Equal(t, identity, gotIdentity, "the whole identity arrives")
					exchange(t, srv, cli)
				case "client":
					require.ErrorAs(t, cerr, &le)
					assert.Equal(t, c.what, le.What)
					assert.Equal(t, map[string]int{"identity": 256, "key": 512}[c.what], le.Max)
					assert.Equal(t, map[string]int{"identity": c.identity, "key": c.clientKey}[c.what], le.Len)
					assert.Error(t, serr)
					assert.Empty(t, gotIdentity, "nothing truncated reached the server")
				case "server":
					require.ErrorAs(t, serr, &le)
					assert.Equal(t, PSKLimit{"key", 513, 512}, PSKLimit{le.What, le.Len, le.Max})
					assert.Equal(t, "tlsv1 alert internal error", opensslReason(cerr))
				}
			})
		}
	}
}

type PSKLimit struct {
	What     string
	Len, Max int
}

func TestPSKIdentityHintErrors(t *testing.T) {
	ctx := pskContext(t, pskVersions[0].opts)
	psk := func(string) ([]byte, error) { return nil, nil }
	for _, c := range []struct {
		hint string
		ok   bool
	}{
		{strings.Repeat("h", 256), true},
		{strings.Repeat("h", 257), false}, // SSL_use_psk_identity_hint: data length too long
		{"a\x00b", false},
	} {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		_, err := openssl.Server(a, ctx, openssl.ConnConfig{PSKServer: psk, PSKIdentityHint: c.hint})
		if c.ok {
			assert.NoError(t, err, "hint of %d bytes", len(c.hint))
		} else {
			assert.Error(t, err, "hint %q", c.hint)
		}
	}
}

// The hint is set on the connection; an SNI switch (which replaces the
// SSL's certificate data, where OpenSSL keeps the hint) does not lose it.
func TestPSKHintSurvivesSNISwitch(t *testing.T) {
	v := pskVersions[0]
	first, second := pskContext(t, v.opts), pskContext(t, v.opts)
	key := fixedKey(16, 3)
	var gotHint string
	var has bool
	srv, _, serr, cerr := extPair(t, "pipe", first, pskContext(t, v.opts),
		openssl.ConnConfig{PSKIdentityHint: "HINT", PSKServer: func(string) ([]byte, error) { return key, nil },
			ServerNameCallback: func(string) (*openssl.Context, error) { return second, nil }},
		openssl.ConnConfig{ServerName: "psk.example", PSKClient: func(h string, hh bool) (string, []byte, error) {
			gotHint, has = h, hh
			return "id", key, nil
		}})
	require.NoError(t, serr)
	require.NoError(t, cerr)
	assert.Same(t, second, srv.Context())
	assert.True(t, has)
	assert.Equal(t, "HINT", gotHint)
}

// pskOracle runs openssl s_server against openssl s_client with the given
// PSK settings and returns the first SSL reason each printed ("" when the
// handshake worked).
func pskOracle(t *testing.T, args []string, serverKey, serverIdentity, clientKey, clientIdentity string) (srvReason, cliReason string) {
	t.Helper()
	srv, addr := peers.OpenSSLServer(t, append([]string{"-nocert", "-psk", serverKey, "-psk_identity", serverIdentity}, args...)...)
	cli := peers.OpenSSLClient(t, addr, append([]string{"-psk", clientKey, "-psk_identity", clientIdentity}, args...)...)
	cli.Wait(t, 10*time.Second)
	srv.WaitFor(t, regexp.MustCompile(`ERROR|CIPHER is`), 10*time.Second)
	first := func(rs []string) string {
		if len(rs) == 0 {
			return ""
		}
		return rs[0]
	}
	return first(cliReasons(srv.Output())), first(cliReasons(cli.Output()))
}

// nodePSKUnknownIdentity is a Node program whose PSK server knows no
// identity; it prints the OpenSSL reasons of both sides' errors as JSON.
const nodePSKUnknownIdentity = `
const tls = require('tls');
const [ver, cipher] = process.argv.slice(1);
const out = {};
let n = 0;
const done = () => { if (++n === 2) { console.log(JSON.stringify(out)); server.close(); } };
const server = tls.createServer({ciphers: cipher, minVersion: ver, maxVersion: ver, pskCallback: () => null}, () => {});
server.on('tlsClientError', (e) => { out.server = e.reason; done(); });
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({port: server.address().port, host: '127.0.0.1', ciphers: cipher, minVersion: ver, maxVersion: ver,
    checkServerIdentity: () => {}, pskCallback: () => ({psk: Buffer.alloc(32, 1), identity: 'id'})});
  c.on('error', (e) => { out.client = e.reason; done(); });
});
`

// A wrong key and an unknown identity fail the way OpenSSL's own programs
// fail: the expected reasons of each side come from a run of the oracle —
// s_server against s_client for a wrong key, and Node for an unknown identity
// (s_server only warns about an unexpected identity on TLS 1.2).
func TestPSKMismatchMatchesOracles(t *testing.T) {
	key, other := fixedKey(32, 0x11), fixedKey(32, 0x22)
	for _, v := range pskVersions {
		t.Run(v.name+"/wrong key", func(t *testing.T) {
			wantSrv, wantCli := pskOracle(t, v.cliArgs, hex.EncodeToString(key), "id", hex.EncodeToString(other), "id")
			require.NotEmpty(t, wantSrv, "the oracle's server failed")
			require.NotEmpty(t, wantCli, "the oracle's client failed")
			_, _, serr, cerr := extPair(t, "tcp", pskContext(t, v.opts), pskContext(t, v.opts),
				openssl.ConnConfig{PSKServer: func(string) ([]byte, error) { return key, nil }},
				openssl.ConnConfig{PSKClient: func(string, bool) (string, []byte, error) { return "id", other, nil }})
			t.Logf("s_server: %s / s_client: %s\nour server: %v\nour client: %v", wantSrv, wantCli, serr, cerr)
			assert.Equal(t, wantSrv, opensslReason(serr), "server")
			assert.Equal(t, wantCli, opensslReason(cerr), "client")
		})
		t.Run(v.name+"/unknown identity", func(t *testing.T) {
			node := peers.Node(t, nodePSKUnknownIdentity, v.name, v.cipher)
			require.Equal(t, 0, node.Wait(t, 20*time.Second), node.Output())
			var want struct{ Server, Client string }
			require.NoError(t, json.Unmarshal([]byte(node.Stdout()), &want), node.Output())
			require.NotEmpty(t, want.Server)
			require.NotEmpty(t, want.Client)
			_, _, serr, cerr := extPair(t, "tcp", pskContext(t, v.opts), pskContext(t, v.opts),
				openssl.ConnConfig{PSKServer: func(string) ([]byte, error) { return nil, nil }},
				openssl.ConnConfig{PSKClient: func(string, bool) (string, []byte, error) { return "id", key, nil }})
			t.Logf("node server: %s / node client: %s\nour server: %v\nour client: %v", want.Server, want.Client, serr, cerr)
			assert.Equal(t, want.Server, opensslReason(serr), "server")
			assert.Equal(t, want.Client, opensslReason(cerr), "client")
		})
	}
}

// PSK against openssl s_server and s_client, TLS 1.2 and 1.3.
func TestInteropPSKOpenSSL(t *testing.T) {
	key := fixedKey(32, 0x42)
	hexKey := hex.EncodeToString(key)
	for _, v := range pskVersions {
		t.Run(v.name+"/we are the client", func(t *testing.T) {
			args := append([]string{"-nocert", "-psk", hexKey, "-psk_identity", "gopher", "-psk_hint", "HINT"}, v.cliArgs...)
			srv, addr := peers.OpenSSLServer(t, args...)
			raw, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			var gotHint string
			var has bool
			cli, err := openssl.Client(raw, pskContext(t, v.opts), openssl.ConnConfig{PSKClient: func(h string, hh bool) (string, []byte, error) {
				gotHint, has = h, hh
				return "gopher", key, nil
			}})
			require.NoError(t, err)
			t.Cleanup(func() { cli.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, cli.Handshake(ctx))
			ci, _ := cli.Cipher()
			assert.Equal(t, v.cipher, ci.Name)
			assert.Equal(t, v.name == "TLSv1.2", has)
			if has {
				assert.Equal(t, "HINT", gotHint)
			}
			assert.Equal(t, v.name == "TLSv1.3", cli.SessionReused())
			_, err = cli.Write([]byte("psk says hi\n"))
			require.NoError(t, err)
			srv.WaitFor(t, regexp.MustCompile(`psk says hi`), 10*time.Second)
			m := srv.WaitFor(t, regexp.MustCompile(`CIPHER is (\S+)`), 10*time.Second)
			assert.Equal(t, v.cipher, m[1])
		})

		t.Run(v.name+"/we are the server", func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { ln.Close() })
			sctx := pskContext(t, v.opts)
			type result struct {
				identity string
				reused   bool
				err      error
			}
			res := make(chan result, 1)
			go func() {
				raw, err := ln.Accept()
				if err != nil {
					res <- result{err: err}
					return
				}
				var identity string
				srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{PSKIdentityHint: "HINT", PSKServer: func(id string) ([]byte, error) {
					identity = id
					return key, nil
				}})
				if err != nil {
					res <- result{err: err}
					return
				}
				defer srv.Close()
				err = srv.Handshake(context.Background())
				res <- result{identity, srv.SessionReused(), err}
				buf := make([]byte, 64)
				if n, err := srv.Read(buf); err == nil {
					srv.Write(bytes.ToUpper(buf[:n]))
				}
				srv.Read(buf)
			}()
			// -debug makes s_client print the hint its PSK callback got.
			args := append([]string{"-psk", hexKey, "-psk_identity", "gopher", "-debug"}, v.cliArgs...)
			cli := peers.OpenSSLClient(t, ln.Addr().String(), args...)
			r := <-res
			require.NoError(t, r.err)
			assert.Equal(t, "gopher", r.identity)
			assert.Equal(t, v.name == "TLSv1.3", r.reused)
			m := cli.WaitFor(t, regexp.MustCompile(`Cipher is (\S+)`), 10*time.Second)
			assert.Equal(t, v.cipher, m[1])
			if v.name == "TLSv1.2" {
				assert.Contains(t, cli.Output(), "Received PSK identity hint 'HINT'")
			} else {
				// TLS 1.3 carries no hint (s_client uses its session callback there).
				assert.NotContains(t, cli.Output(), "PSK identity hint")
			}
			cli.Send(t, "shout\n")
			cli.WaitFor(t, regexp.MustCompile(`SHOUT`), 10*time.Second)
			cli.CloseStdin()
			cli.Wait(t, 10*time.Second)
		})
	}
}

// A callback that fails with a SilentAbort ends the handshake without a
// word to the peer, over TCP as over net.Pipe: a TLS 1.3
// client whose PSK callback aborts sends no ClientHello, and a server whose
// PSK callback aborts sends no alert (the client sees the connection end).
func TestPSKSilentAbort(t *testing.T) {
	errUser := errors.New("identity too long")
	tls13 := pskVersions[1]
	require.Equal(t, "TLSv1.3", tls13.name)
	for _, kind := range transports {
		t.Run(kind+"/client sends nothing", func(t *testing.T) {
			sraw, craw := rawPair(t, kind)
			defer sraw.Close()
			cli, err := openssl.Client(craw, pskContext(t, tls13.opts), openssl.ConnConfig{
				PSKClient: func(string, bool) (string, []byte, error) { return "", nil, &openssl.SilentAbort{Err: errUser} }})
			require.NoError(t, err)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(sraw)
				got <- b
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.ErrorIs(t, cli.Handshake(ctx), errUser)
			require.NoError(t, cli.Close())
			select {
			case b := <-got:
				assert.Empty(t, b, "bytes the client sent")
			case <-time.After(10 * time.Second):
				t.Fatal("the client's transport was not closed")
			}
		})
		for _, v := range pskVersions {
			t.Run(kind+"/"+v.name+"/server sends no alert", func(t *testing.T) {
				_, _, serr, cerr := extPair(t, kind, pskContext(t, v.opts), pskContext(t, v.opts),
					openssl.ConnConfig{PSKServer: func(string) ([]byte, error) { return nil, &openssl.SilentAbort{Err: errUser} }},
					openssl.ConnConfig{PSKClient: func(string, bool) (string, []byte, error) { return "id", fixedKey(32, 1), nil }})
				require.ErrorIs(t, serr, errUser)
				require.Error(t, cerr)
				assert.NotContains(t, cerr.Error(), "alert", "the client's error")
			})
		}
	}
}

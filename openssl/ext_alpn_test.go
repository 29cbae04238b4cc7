package openssl_test

import (
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"net"
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

func TestSelectALPNServerPreference(t *testing.T) {
	cases := []struct {
		server, offered []string
		want            string
		ok              bool
	}{
		{[]string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, "h2", true},
		{[]string{"http/1.1", "h2"}, []string{"h2", "http/1.1"}, "http/1.1", true},
		{[]string{"a", "b"}, []string{"c", "b"}, "b", true},
		{[]string{"a"}, []string{"b"}, "", false},
		{[]string{"H2"}, []string{"h2"}, "", false}, // byte-exact, as SSL_select_next_proto
		{nil, []string{"h2"}, "", false},
		{[]string{"h2"}, nil, "", false},
		{[]string{"", "h2"}, []string{"", "h2"}, "h2", true}, // an empty name is never a protocol
	}
	for _, c := range cases {
		got, ok := openssl.SelectALPNServerPreference(c.server, c.offered)
		assert.Equal(t, c.want, got, "server %q offered %q", c.server, c.offered)
		assert.Equal(t, c.ok, ok, "server %q offered %q", c.server, c.offered)
	}
}

// nodeRule is Node's ALPN choice as a ConnConfig.SelectALPN callback.
func nodeRule(server []string) func([]string) (string, error) {
	return func(offered []string) (string, error) {
		if p, ok := openssl.SelectALPNServerPreference(server, offered); ok {
			return p, nil
		}
		return "", openssl.ErrNoApplicationProtocol
	}
}

func TestALPN(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	errUser := errors.New("the callback refuses")
	cases := []struct {
		name       string
		serverALPN func([]string) (string, error)
		clientALPN []string
		want       string // negotiated on both sides
		serverErr  string // OpenSSL reason on the server
		userErr    error  // error the server's handshake returns
		clientErr  string // OpenSSL reason on the client
		maxVersion openssl.ProtocolVersion
	}{
		{name: "server preference wins", serverALPN: nodeRule([]string{"h2", "http/1.1"}), clientALPN: []string{"http/1.1", "h2"}, want: "h2"},
		{name: "server preference wins TLS 1.2", serverALPN: nodeRule([]string{"h2", "http/1.1"}), clientALPN: []string{"http/1.1", "h2"}, want: "h2", maxVersion: openssl.TLS1_2},
		{name: "single overlap", serverALPN: nodeRule([]string{"a", "b", "c"}), clientALPN: []string{"x", "c"}, want: "c"},
		{name: "client only", clientALPN: []string{"h2"}},
		{name: "server only", serverALPN: nodeRule([]string{"h2"})},
		{name: "callback declines", serverALPN: func([]string) (string, error) { return "", nil }, clientALPN: []string{"h2"}},
		{name: "no overlap", serverALPN: nodeRule([]string{"h2"}), clientALPN: []string{"http/1.1"},
			serverErr: "no application protocol", clientErr: "tlsv1 alert no application protocol"},
		{name: "no overlap TLS 1.2", serverALPN: nodeRule([]string{"h2"}), clientALPN: []string{"http/1.1"}, maxVersion: openssl.TLS1_2,
			serverErr: "no application protocol", clientErr: "tlsv1 alert no application protocol"},
		{name: "callback error", serverALPN: func([]string) (string, error) { return "", errUser }, clientALPN: []string{"h2"},
			userErr: errUser, clientErr: "tlsv1 alert no application protocol"},
		{name: "callback picks what was not offered", serverALPN: func([]string) (string, error) { return "spdy/3", nil }, clientALPN: []string{"h2"},
			clientErr: "tlsv1 alert no application protocol"},
	}
	for _, kind := range transports {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				sctx := serverContext(t, leaf, openssl.ContextOptions{MaxVersion: c.maxVersion})
				cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{})
				var seen []string
				scfg := openssl.ConnConfig{}
				if c.serverALPN != nil {
					scfg.SelectALPN = func(offered []string) (string, error) {
						seen = offered
						return c.serverALPN(offered)
					}
				}
				srv, cli, serr, cerr := extPair(t, kind, sctx, cctx, scfg, openssl.ConnConfig{ALPNProtocols: c.clientALPN})
				if c.serverALPN != nil && len(c.clientALPN) > 0 {
					assert.Equal(t, c.clientALPN, seen, "the callback gets the client's offer in order")
				} else {
					assert.Nil(t, seen, "the callback runs only when the client offers ALPN")
				}
				if c.clientErr != "" {
					require.Error(t, cerr)
					require.Error(t, serr)
					assert.Equal(t, c.clientErr, opensslReason(cerr), "client: %v", cerr)
					if c.serverErr != "" {
						assert.Equal(t, c.serverErr, opensslReason(serr), "server: %v", serr)
					}
					if c.userErr != nil {
						assert.ErrorIs(t, serr, c.userErr)
					}
					if c.name == "callback picks what was not offered" {
						assert.ErrorContains(t, serr, `"spdy/3"`)
					}
					return
				}
				require.NoError(t, serr)
				require.NoError(t, cerr)
				assert.Equal(t, c.want, srv.ALPNProtocol())
				assert.Equal(t, c.want, cli.ALPNProtocol())
				exchange(t, srv, cli)
			})
		}
	}
}

func TestALPNBadProtocolList(t *testing.T) {
	cctx := clientContext(t, nil, openssl.ContextOptions{})
	for _, list := range [][]string{{""}, {"h2", strings.Repeat("x", 256)}} {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		_, err := openssl.Client(a, cctx, openssl.ConnConfig{ALPNProtocols: list})
		assert.Error(t, err, "%q", list)
	}
	wire, err := openssl.ALPNWireFormat([]string{"h2", strings.Repeat("x", 255)})
	require.NoError(t, err)
	assert.Equal(t, 1+2+1+255, len(wire))
}

// ALPN against openssl s_server and s_client.
func TestInteropALPNOpenSSL(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	keyFile, chainFile, caFile := leaf.WriteFiles(t)

	t.Run("we are the client", func(t *testing.T) {
		for _, c := range []struct {
			name, serverList string
			offer            []string
		}{
			{"overlap", "h2,http/1.1", []string{"http/1.1", "h2"}},
			{"one in common", "h2,http/1.1", []string{"spdy/3", "http/1.1"}},
			{"no overlap", "h2", []string{"http/1.1"}},
			{"we offer nothing", "h2", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				srv, addr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", chainFile, "-alpn", c.serverList)
				raw, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				cli, err := openssl.Client(raw, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{ALPNProtocols: c.offer})
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				herr := cli.Handshake(ctx)
				want, ok := openssl.SelectALPNServerPreference(strings.Split(c.serverList, ","), c.offer)
				if !ok && len(c.offer) > 0 {
					// s_server refuses with its own "no application protocol"
					// and we see its alert.
					require.Error(t, herr)
					srv.WaitFor(t, regexp.MustCompile(`SSL routines:[^:]*:no application protocol`), 10*time.Second)
					assert.Equal(t, "tlsv1 alert no application protocol", opensslReason(herr))
					return
				}
				require.NoError(t, herr)
				if len(c.offer) > 0 {
					// s_server reports what we offered.
					srv.WaitFor(t, regexp.MustCompile(`ALPN protocols advertised by the client: (.*)`), 10*time.Second)
					assert.Contains(t, srv.Output(), "ALPN protocols advertised by the client: "+strings.Join(c.offer, ", "))
				}
				// s_server's choice is SSL_select_next_proto's.
				assert.Equal(t, want, cli.ALPNProtocol())
			})
		}
	})

	t.Run("we are the server", func(t *testing.T) {
		for _, c := range []struct {
			name        string
			ours, offer []string
		}{
			{"server preference", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}},
			{"no overlap", []string{"h2"}, []string{"http/1.1"}},
			{"client offers nothing", []string{"h2"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { ln.Close() })
				sctx := serverContext(t, leaf, openssl.ContextOptions{})
				type result struct {
					proto string
					err   error
				}
				res := make(chan result, 1)
				go func() {
					raw, err := ln.Accept()
					if err != nil {
						res <- result{err: err}
						return
					}
					srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{SelectALPN: nodeRule(c.ours)})
					if err != nil {
						res <- result{err: err}
						return
					}
					defer srv.Close()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					err = srv.Handshake(ctx)
					res <- result{srv.ALPNProtocol(), err}
					if err == nil {
						buf := make([]byte, 1)
						srv.Read(buf) // until s_client leaves
					}
				}()
				args := []string{"-CAfile", caFile, "-servername", "localhost"}
				if len(c.offer) > 0 {
					args = append(args, "-alpn", strings.Join(c.offer, ","))
				}
				cli := peers.OpenSSLClient(t, ln.Addr().String(), args...)
				r := <-res
				want, ok := openssl.SelectALPNServerPreference(c.ours, c.offer)
				if !ok && len(c.offer) > 0 {
					require.Error(t, r.err)
					assert.Equal(t, "no application protocol", opensslReason(r.err))
					cli.Wait(t, 10*time.Second)
					assert.Contains(t, cliReasons(cli.Output()), "tlsv1 alert no application protocol")
					return
				}
				require.NoError(t, r.err)
				assert.Equal(t, want, r.proto)
				if want == "" {
					cli.WaitFor(t, regexp.MustCompile(`No ALPN negotiated`), 10*time.Second)
				} else {
					m := cli.WaitFor(t, regexp.MustCompile(`ALPN protocol: (\S+)`), 10*time.Second)
					assert.Equal(t, want, m[1])
				}
				cli.CloseStdin()
				cli.Wait(t, 10*time.Second)
			})
		}
	})
}

// ALPN against Go's crypto/tls, both directions.
func TestInteropALPNGoTLS(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(leaf.CAPEM))
	goCert, err := gotls.X509KeyPair(leaf.ChainPEM, leaf.KeyPEM)
	require.NoError(t, err)

	t.Run("we are the client", func(t *testing.T) {
		for _, c := range []struct {
			name         string
			server, ours []string
			want         string
			wantErr      string
		}{
			{"overlap", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, "h2", ""},
			// (crypto/tls lets a client offering http/1.1 through without ALPN.)
			{"no overlap", []string{"h2"}, []string{"spdy/3"}, "", "tlsv1 alert no application protocol"},
			{"http/1.1 fallback", []string{"h2"}, []string{"http/1.1"}, "", ""},
			{"server has none", nil, []string{"h2"}, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				sraw, craw := rawPair(t, "tcp")
				gs := gotls.Server(sraw, &gotls.Config{Certificates: []gotls.Certificate{goCert}, NextProtos: c.server})
				t.Cleanup(func() { gs.Close() })
				gerr := make(chan error, 1)
				go func() { gerr <- gs.Handshake() }()
				cli, err := openssl.Client(craw, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{ALPNProtocols: c.ours})
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				err = cli.Handshake(context.Background())
				if c.wantErr != "" {
					require.Error(t, err)
					assert.Equal(t, c.wantErr, opensslReason(err))
					assert.ErrorContains(t, <-gerr, "unsupported application protocols")
					return
				}
				require.NoError(t, err)
				require.NoError(t, <-gerr)
				assert.Equal(t, c.want, cli.ALPNProtocol())
				assert.Equal(t, gs.ConnectionState().NegotiatedProtocol, cli.ALPNProtocol())
			})
		}
	})

	t.Run("we are the server", func(t *testing.T) {
		for _, c := range []struct {
			name         string
			ours, client []string
			want         string
		}{
			{"server preference", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, "h2"},
			{"no overlap", []string{"h2"}, []string{"http/1.1"}, ""},
			{"client offers nothing", []string{"h2"}, nil, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				sraw, craw := rawPair(t, "tcp")
				srv, err := openssl.Server(sraw, serverContext(t, leaf, openssl.ContextOptions{}), openssl.ConnConfig{SelectALPN: nodeRule(c.ours)})
				require.NoError(t, err)
				t.Cleanup(func() { srv.Close() })
				serr := make(chan error, 1)
				go func() { serr <- srv.Handshake(context.Background()) }()
				gc := gotls.Client(craw, &gotls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: c.client})
				t.Cleanup(func() { gc.Close() })
				cerr := gc.Handshake()
				if _, ok := openssl.SelectALPNServerPreference(c.ours, c.client); !ok && len(c.client) > 0 {
					require.Error(t, cerr)
					assert.Contains(t, cerr.Error(), "no application protocol")
					assert.Equal(t, "no application protocol", opensslReason(<-serr))
					return
				}
				require.NoError(t, cerr)
				require.NoError(t, <-serr)
				assert.Equal(t, c.want, gc.ConnectionState().NegotiatedProtocol)
				assert.Equal(t, c.want, srv.ALPNProtocol())
			})
		}
	})
}

package openssl_test

import (
	"bytes"
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sniPKI is a CA with a default server certificate, one for *.example.com and
// a client certificate.
type sniPKI struct {
	ca                         *testpki.CA
	def, wild, client          *testpki.Leaf
	defDER, wildDER, clientDER []byte
}

func newSNIPKI(t *testing.T) *sniPKI {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	p := &sniPKI{
		ca:     ca,
		def:    ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "default.test", "localhost"),
		wild:   ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "*.example.com"),
		client: ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true}, "client"),
	}
	p.defDER = der(t, p.def.Cert)
	p.wildDER = der(t, p.wild.Cert)
	p.clientDER = der(t, p.client.Cert)
	return p
}

func der(t testing.TB, c *openssl.Certificate) []byte {
	t.Helper()
	require.NotNil(t, c)
	d, err := c.DER()
	require.NoError(t, err)
	return d
}

func TestSNI(t *testing.T) {
	p := newSNIPKI(t)
	errUser := errors.New("no such host here")
	for _, kind := range transports {
		for _, c := range []struct {
			name        string
			sendName    string
			switchTo    bool  // the callback returns the *.example.com context
			fail        error // the callback fails
			wantCert    []byte
			wantSrvName string
		}{
			{name: "switch", sendName: "www.example.com", switchTo: true, wantCert: p.wildDER, wantSrvName: "www.example.com"},
			{name: "keep", sendName: "default.test", wantCert: p.defDER, wantSrvName: "default.test"},
			{name: "no name sent", wantCert: p.defDER},
			{name: "callback error", sendName: "www.example.com", fail: errUser},
		} {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				sctx := serverContext(t, p.def, openssl.ContextOptions{})
				wctx := serverContext(t, p.wild, openssl.ContextOptions{})
				cctx := clientContext(t, p.ca.CertPEM, openssl.ContextOptions{})
				var got []string
				scfg := openssl.ConnConfig{ServerNameCallback: func(name string) (*openssl.Context, error) {
					got = append(got, name)
					if c.fail != nil {
						return nil, c.fail
					}
					if c.switchTo {
						return wctx, nil
					}
					return nil, nil
				}}
				srv, cli, serr, cerr := extPair(t, kind, sctx, cctx, scfg, openssl.ConnConfig{ServerName: c.sendName})
				assert.Equal(t, []string{c.sendName}, got, "the callback gets the name sent, once")
				if c.fail != nil {
					assert.ErrorIs(t, serr, errUser)
					assert.Equal(t, "tlsv1 alert internal error", opensslReason(cerr), "client: %v", cerr)
					return
				}
				require.NoError(t, serr)
				require.NoError(t, cerr)
				assert.Equal(t, c.wantSrvName, srv.ServerName())
				assert.Equal(t, c.sendName, cli.ServerName())
				if c.switchTo {
					assert.Same(t, wctx, srv.Context())
				} else {
					assert.Same(t, sctx, srv.Context())
				}
				assert.Same(t, cctx, cli.Context())
				assert.Equal(t, c.wantCert, der(t, cli.PeerCertificate()), "the certificate served")
				assert.Equal(t, c.wantCert, der(t, srv.LocalCertificate()))
				assert.Equal(t, int64(0), cli.VerifyResult())
				exchange(t, srv, cli)
			})
		}
	}
}

// What SSL_set_SSL_CTX takes from the new context in OpenSSL 3.0: the
// certificates and keys, the trust store that verifies client certificates,
// and the cipher list; not the protocol bounds or the verify mode, which the
// SSL copied from the first context when it was made.
func TestSNISwitchTakesFromNewContext(t *testing.T) {
	p := newSNIPKI(t)
	cases := []struct {
		name             string
		first, second    openssl.ContextOptions
		client           openssl.ContextOptions
		requestCert      bool
		check            func(t *testing.T, srv, cli *openssl.Conn)
		wantCallbackRuns int
	}{
		{
			name: "trust store of the new context", requestCert: true,
			first: openssl.ContextOptions{}, second: openssl.ContextOptions{CA: p.ca.CertPEM},
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				assert.Equal(t, p.clientDER, der(t, srv.PeerCertificate()))
				assert.Equal(t, int64(0), srv.VerifyResult(), openssl.VerifyErrorString(srv.VerifyResult()))
			},
		},
		{
			name: "not the old context's trust store", requestCert: true,
			first: openssl.ContextOptions{CA: p.ca.CertPEM}, second: openssl.ContextOptions{},
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				assert.Equal(t, p.clientDER, der(t, srv.PeerCertificate()))
				assert.NotEqual(t, int64(0), srv.VerifyResult())
			},
		},
		{
			name: "verify mode stays the connection's",
			// The client has a certificate but is not asked for it.
			first: openssl.ContextOptions{}, second: openssl.ContextOptions{CA: p.ca.CertPEM},
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				assert.Nil(t, srv.PeerCertificate())
			},
		},
		{
			name:   "cipher list of the new context",
			first:  openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String("ECDHE-ECDSA-AES128-GCM-SHA256")},
			second: openssl.ContextOptions{CipherList: openssl.String("ECDHE-ECDSA-CHACHA20-POLY1305")},
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				ci, ok := cli.Cipher()
				require.True(t, ok)
				assert.Equal(t, "ECDHE-ECDSA-CHACHA20-POLY1305", ci.Name)
			},
		},
		{
			name:   "protocol bounds stay the first context's",
			first:  openssl.ContextOptions{},
			second: openssl.ContextOptions{MaxVersion: openssl.TLS1_2},
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				assert.Equal(t, "TLSv1.3", cli.Version())
			},
		},
		{
			name: "hello retry runs the callback again",
			// The client's key share is for X25519, the server takes P-256 only.
			first: openssl.ContextOptions{Groups: "P-256"}, second: openssl.ContextOptions{},
			client:           openssl.ContextOptions{Groups: "X25519:P-256"},
			wantCallbackRuns: 2,
			check: func(t *testing.T, srv, cli *openssl.Conn) {
				assert.Equal(t, "TLSv1.3", cli.Version())
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sctx := serverContext(t, p.def, c.first)
			wctx := serverContext(t, p.wild, c.second)
			co := c.client
			co.KeyPairs = []openssl.KeyPair{{CertPEM: p.client.ChainPEM, KeyPEM: p.client.KeyPEM}}
			cctx := clientContext(t, p.ca.CertPEM, co)
			runs := 0
			scfg := openssl.ConnConfig{RequestClientCert: c.requestCert, ServerNameCallback: func(string) (*openssl.Context, error) {
				runs++
				return wctx, nil
			}}
			srv, cli, serr, cerr := extPair(t, "pipe", sctx, cctx, scfg, openssl.ConnConfig{ServerName: "a.example.com"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			assert.Equal(t, p.wildDER, der(t, cli.PeerCertificate()))
			assert.Same(t, wctx, srv.Context())
			want := c.wantCallbackRuns
			if want == 0 {
				want = 1
			}
			assert.Equal(t, want, runs)
			c.check(t, srv, cli)
		})
	}
}

// A switch to a closed context fails the handshake instead of using freed
// memory; switching holds no reference once the connections and contexts are
// gone.
func TestSNIContextLifetime(t *testing.T) {
	p := newSNIPKI(t)
	t.Run("closed context", func(t *testing.T) {
		sctx := serverContext(t, p.def, openssl.ContextOptions{})
		wctx := serverContext(t, p.wild, openssl.ContextOptions{})
		require.NoError(t, wctx.Close())
		_, _, serr, cerr := extPair(t, "pipe", sctx, clientContext(t, p.ca.CertPEM, openssl.ContextOptions{}),
			openssl.ConnConfig{ServerNameCallback: func(string) (*openssl.Context, error) { return wctx, nil }},
			openssl.ConnConfig{ServerName: "www.example.com"})
		assert.ErrorContains(t, serr, "closed")
		assert.Error(t, cerr)
	})
	t.Run("no leaked SSL_CTX", func(t *testing.T) {
		before := cbridge.LiveObjects()
		func() {
			sctx, err := openssl.NewContext(openssl.ContextOptions{KeyPairs: []openssl.KeyPair{{CertPEM: p.def.ChainPEM, KeyPEM: p.def.KeyPEM}}})
			require.NoError(t, err)
			defer sctx.Close()
			wctx, err := openssl.NewContext(openssl.ContextOptions{KeyPairs: []openssl.KeyPair{{CertPEM: p.wild.ChainPEM, KeyPEM: p.wild.KeyPEM}}})
			require.NoError(t, err)
			cctx, err := openssl.NewContext(openssl.ContextOptions{CA: p.ca.CertPEM})
			require.NoError(t, err)
			defer cctx.Close()
			type pair struct{ srv, cli *openssl.Conn }
			var pairs []pair
			for i := 0; i < 3; i++ {
				a, b := net.Pipe()
				srv, err := openssl.Server(a, sctx, openssl.ConnConfig{ServerNameCallback: func(string) (*openssl.Context, error) { return wctx, nil }})
				require.NoError(t, err)
				cli, err := openssl.Client(b, cctx, openssl.ConnConfig{ServerName: "x.example.com"})
				require.NoError(t, err)
				var wg sync.WaitGroup
				var serr error
				wg.Add(1)
				go func() { defer wg.Done(); serr = srv.Handshake(context.Background()) }()
				require.NoError(t, cli.Handshake(context.Background()))
				wg.Wait()
				require.NoError(t, serr)
				pairs = append(pairs, pair{srv, cli})
			}
			// The connections keep the switched-to context alive on their own.
			require.NoError(t, wctx.Close())
			for _, pr := range pairs {
				assert.Equal(t, p.wildDER, der(t, pr.srv.LocalCertificate()))
				exchange(t, pr.srv, pr.cli)
				pr.srv.Transport().Close()
				pr.srv.Close()
				pr.cli.Close()
			}
		}()
		after := cbridge.LiveObjects()
		assert.Equal(t, before.SSLCtx, after.SSLCtx, "SSL_CTX")
		assert.Equal(t, before.SSL, after.SSL, "SSL")
	})
}

// SNI against openssl s_server (-servername with -cert2/-key2) and s_client.
func TestInteropSNIOpenSSL(t *testing.T) {
	p := newSNIPKI(t)
	defKey, defChain, caFile := p.def.WriteFiles(t)
	wildKey, wildChain, _ := p.wild.WriteFiles(t)

	t.Run("we are the client", func(t *testing.T) {
		for _, c := range []struct {
			name string
			send string
			want []byte
		}{
			{"s_server's second context", "www.example.com", p.wildDER},
			{"another name", "default.test", p.defDER},
		} {
			t.Run(c.name, func(t *testing.T) {
				srv, addr := peers.OpenSSLServer(t, "-key", defKey, "-cert", defChain,
					"-servername", "www.example.com", "-key2", wildKey, "-cert2", wildChain)
				raw, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				cli, err := openssl.Client(raw, clientContext(t, p.ca.CertPEM, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: c.send})
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				require.NoError(t, cli.Handshake(ctx))
				assert.Equal(t, c.want, der(t, cli.PeerCertificate()))
				assert.Equal(t, c.send, cli.ServerName())
				if bytes.Equal(c.want, p.wildDER) {
					// s_server's servername callback says it switched.
					srv.WaitFor(t, regexp.MustCompile(`Switching server context`), 10*time.Second)
				}
			})
		}
	})

	t.Run("we are the server", func(t *testing.T) {
		for _, c := range []struct {
			name string
			send string
			want *testpki.Leaf
		}{
			{"switch", "www.example.com", p.wild},
			{"keep", "default.test", p.def},
		} {
			t.Run(c.name, func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { ln.Close() })
				sctx := serverContext(t, p.def, openssl.ContextOptions{})
				wctx := serverContext(t, p.wild, openssl.ContextOptions{})
				names := make(chan string, 2)
				done := make(chan error, 1)
				go func() {
					raw, err := ln.Accept()
					if err != nil {
						done <- err
						return
					}
					srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{ServerNameCallback: func(name string) (*openssl.Context, error) {
						names <- name
						if name == "www.example.com" {
							return wctx, nil
						}
						return nil, nil
					}})
					if err != nil {
						done <- err
						return
					}
					defer srv.Close()
					err = srv.Handshake(context.Background())
					if err == nil {
						names <- srv.ServerName()
					}
					done <- err
					buf := make([]byte, 1)
					srv.Read(buf)
				}()
				cli := peers.OpenSSLClient(t, ln.Addr().String(), "-CAfile", caFile, "-servername", c.send, "-verify_return_error")
				require.NoError(t, <-done)
				assert.Equal(t, c.send, <-names, "the callback's name")
				assert.Equal(t, c.send, <-names, "Conn.ServerName")
				// s_client prints the certificate it got: it must be the one we meant to serve.
				m := cli.WaitFor(t, regexp.MustCompile(`(?s)Server certificate\n(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)`), 10*time.Second)
				assert.Equal(t, string(c.want.CertPEM), m[1])
				cli.WaitFor(t, regexp.MustCompile(`Verify return code: 0 \(ok\)`), 10*time.Second)
				cli.CloseStdin()
				cli.Wait(t, 10*time.Second)
			})
		}
	})
}

// SNI against Go's crypto/tls, both directions.
func TestInteropSNIGoTLS(t *testing.T) {
	p := newSNIPKI(t)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(p.ca.CertPEM))

	t.Run("we are the client", func(t *testing.T) {
		defCert, err := gotls.X509KeyPair(p.def.ChainPEM, p.def.KeyPEM)
		require.NoError(t, err)
		wildCert, err := gotls.X509KeyPair(p.wild.ChainPEM, p.wild.KeyPEM)
		require.NoError(t, err)
		for _, c := range []struct {
			send string
			want []byte
		}{{"www.example.com", p.wildDER}, {"default.test", p.defDER}, {"", p.defDER}} {
			t.Run("name="+c.send, func(t *testing.T) {
				sraw, craw := rawPair(t, "tcp")
				seen := make(chan string, 1)
				gs := gotls.Server(sraw, &gotls.Config{GetCertificate: func(h *gotls.ClientHelloInfo) (*gotls.Certificate, error) {
					seen <- h.ServerName
					if h.ServerName == "www.example.com" {
						return &wildCert, nil
					}
					return &defCert, nil
				}})
				t.Cleanup(func() { gs.Close() })
				gerr := make(chan error, 1)
				go func() { gerr <- gs.Handshake() }()
				cli, err := openssl.Client(craw, clientContext(t, p.ca.CertPEM, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: c.send})
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				require.NoError(t, cli.Handshake(context.Background()))
				require.NoError(t, <-gerr)
				assert.Equal(t, c.send, <-seen)
				assert.Equal(t, c.send, gs.ConnectionState().ServerName)
				assert.Equal(t, c.want, der(t, cli.PeerCertificate()))
			})
		}
	})

	t.Run("we are the server", func(t *testing.T) {
		for _, c := range []struct {
			send string
			want []byte
		}{{"www.example.com", p.wildDER}, {"default.test", p.defDER}} {
			t.Run("name="+c.send, func(t *testing.T) {
				sctx := serverContext(t, p.def, openssl.ContextOptions{})
				wctx := serverContext(t, p.wild, openssl.ContextOptions{})
				sraw, craw := rawPair(t, "tcp")
				srv, err := openssl.Server(sraw, sctx, openssl.ConnConfig{ServerNameCallback: func(name string) (*openssl.Context, error) {
					if name == "www.example.com" {
						return wctx, nil
					}
					return nil, nil
				}})
				require.NoError(t, err)
				t.Cleanup(func() { srv.Close() })
				serr := make(chan error, 1)
				go func() { serr <- srv.Handshake(context.Background()) }()
				gc := gotls.Client(craw, &gotls.Config{RootCAs: pool, ServerName: c.send})
				t.Cleanup(func() { gc.Close() })
				require.NoError(t, gc.Handshake(), "crypto/tls verifies the certificate for %q", c.send)
				require.NoError(t, <-serr)
				assert.Equal(t, c.want, gc.ConnectionState().PeerCertificates[0].Raw)
				assert.Equal(t, c.send, srv.ServerName())
			})
		}
	})
}

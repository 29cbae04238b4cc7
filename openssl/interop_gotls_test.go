package openssl_test

import (
	"bufio"
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Interop with Go's crypto/tls: verification, versions, KeyUpdate, exported
// keying material and server-initiated renegotiation.

func goKeyPair(t testing.TB, chainPEM, keyPEM []byte) gotls.Certificate {
	t.Helper()
	kp, err := gotls.X509KeyPair(chainPEM, keyPEM)
	require.NoError(t, err)
	return kp
}

func goPool(t testing.TB, pemCerts []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(pemCerts))
	return p
}

// goServer serves one crypto/tls connection on 127.0.0.1 with cfg; the
// connection, after its handshake, goes to handle.
func goServer(t testing.TB, cfg *gotls.Config, handle func(*gotls.Conn)) string {
	t.Helper()
	ln, err := gotls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tc := c.(*gotls.Conn)
		t.Cleanup(func() { tc.Close() })
		if err := tc.HandshakeContext(context.Background()); err != nil {
			return
		}
		handle(tc)
	}()
	return ln.Addr().String()
}

// goDial connects a crypto/tls client to addr.
func goDial(t testing.TB, addr string, cfg *gotls.Config) (*gotls.Conn, error) {
	t.Helper()
	d := gotls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c.(*gotls.Conn), nil
}

func goEcho(c *gotls.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := c.Write([]byte(strings.ToUpper(line))); err != nil {
			return
		}
	}
}

// Our client records the same verdicts against a crypto/tls server; a
// crypto/tls client accepts our server's chain; our server judges crypto/tls
// client certificates.
func TestInteropGoVerify(t *testing.T) {
	for _, sc := range verifyScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			addr := goServer(t, &gotls.Config{Certificates: []gotls.Certificate{goKeyPair(t, sc.chainPEM, sc.keyPEM)}}, goEcho)
			c, err := dialOurs(t, addr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, err)
			assert.Equal(t, sc.wantName, openssl.VerifyCodeName(c.VerifyResult()))
			_, err = c.Write([]byte("hi\n"))
			require.NoError(t, err)
			line, err := bufio.NewReader(c).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "HI\n", line)
		})
	}

	scs := verifyScenarios(t)
	good, self := scs[0], scs[1]
	root := testpki.NewCA(t, testpki.Options{})
	cliLeaf := root.Leaf(t, testpki.Options{ClientAuth: true}, "go client")
	for _, cc := range []struct {
		name     string
		chain    []byte
		key      []byte
		wantName string
	}{
		{"trusted client certificate", cliLeaf.ChainPEM, cliLeaf.KeyPEM, "OK"},
		{"self-signed client certificate", self.chainPEM, self.keyPEM, "DEPTH_ZERO_SELF_SIGNED_CERT"},
	} {
		t.Run("crypto/tls client, "+cc.name, func(t *testing.T) {
			addr, conns, errs := ourServer(t, good.serverContext(t, openssl.ContextOptions{CA: root.CertPEM}), openssl.ConnConfig{RequestClientCert: true}, nil)
			kp := goKeyPair(t, cc.chain, cc.key)
			// GetClientCertificate, not Certificates: crypto/tls would send
			// none whose issuer is not in our CA list.
			gc, err := goDial(t, addr, &gotls.Config{RootCAs: goPool(t, good.caPEM), ServerName: "localhost",
				GetClientCertificate: func(*gotls.CertificateRequestInfo) (*gotls.Certificate, error) { return &kp, nil }})
			require.NoError(t, err, "crypto/tls verifies our chain")
			_, err = gc.Write([]byte("x\n"))
			require.NoError(t, err)
			c := recvConn(t, conns, errs)
			assert.Equal(t, cc.wantName, openssl.VerifyCodeName(c.VerifyResult()))
		})
	}
}

var goVersions = map[openssl.ProtocolVersion]uint16{
	openssl.TLS1: gotls.VersionTLS10, openssl.TLS1_1: gotls.VersionTLS11, openssl.TLS1_2: gotls.VersionTLS12, openssl.TLS1_3: gotls.VersionTLS13,
}

func TestInteropGoVersions(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	wide := openssl.ContextOptions{MinVersion: openssl.TLS1, CipherList: openssl.String(legacyCiphers)}
	for _, v := range allVersions {
		t.Run(v.name, func(t *testing.T) {
			// crypto/tls client capped at v, our server open.
			addr, conns, errs := ourServer(t, serverContext(t, leaf, wide), openssl.ConnConfig{}, nil)
			gc, err := goDial(t, addr, &gotls.Config{RootCAs: goPool(t, leaf.CAPEM), ServerName: "localhost",
				MinVersion: gotls.VersionTLS10, MaxVersion: goVersions[v.v]})
			require.NoError(t, err)
			c := recvConn(t, conns, errs)
			st := gc.ConnectionState()
			assert.Equal(t, goVersions[v.v], st.Version)
			assert.Equal(t, v.name, c.Version())
			ci, _ := c.Cipher()
			assert.Equal(t, gotls.CipherSuiteName(st.CipherSuite), ci.StandardName)

			// crypto/tls server capped at v, our client open.
			saddr := goServer(t, &gotls.Config{Certificates: []gotls.Certificate{goKeyPair(t, leaf.ChainPEM, leaf.KeyPEM)},
				MinVersion: gotls.VersionTLS10, MaxVersion: goVersions[v.v]}, goEcho)
			oc, err := dialOurs(t, saddr, clientContext(t, leaf.CAPEM, wide), openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, err)
			assert.Equal(t, v.name, oc.Version())
			_, err = oc.Write([]byte("ok\n"))
			require.NoError(t, err)
			line, err := bufio.NewReader(oc).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "OK\n", line)
		})
	}
}

// crypto/tls answers our KeyUpdate (it updates its own keys when asked).
func TestInteropGoKeyUpdate(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	check := func(t *testing.T, c *openssl.Conn) {
		r := bufio.NewReader(c)
		for i := 0; i < 3; i++ {
			require.NoError(t, c.KeyUpdate())
			msg := strings.Repeat("after key update ", 1000) + "\n"
			_, err := c.Write([]byte(msg))
			require.NoError(t, err)
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, strings.ToUpper(msg), line)
		}
	}
	t.Run("our client", func(t *testing.T) {
		addr := goServer(t, &gotls.Config{Certificates: []gotls.Certificate{goKeyPair(t, leaf.ChainPEM, leaf.KeyPEM)}}, goEcho)
		c, err := dialOurs(t, addr, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(t, err)
		require.Equal(t, "TLSv1.3", c.Version())
		check(t, c)
	})
	t.Run("our server", func(t *testing.T) {
		got := make(chan error, 1)
		addr, conns, errs := ourServer(t, serverContext(t, leaf, openssl.ContextOptions{}), openssl.ConnConfig{}, func(c *openssl.Conn) {
			r := bufio.NewReader(c)
			for i := 0; i < 3; i++ {
				if err := c.KeyUpdate(); err != nil {
					got <- err
					return
				}
				line, err := r.ReadString('\n')
				if err != nil {
					got <- err
					return
				}
				if _, err := c.Write([]byte(strings.ToUpper(line))); err != nil {
					got <- err
					return
				}
			}
			got <- nil
		})
		gc, err := goDial(t, addr, &gotls.Config{RootCAs: goPool(t, leaf.CAPEM), ServerName: "localhost"})
		require.NoError(t, err)
		recvConn(t, conns, errs)
		r := bufio.NewReader(gc)
		for i := 0; i < 3; i++ {
			_, err := gc.Write([]byte("from crypto/tls\n"))
			require.NoError(t, err)
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "FROM CRYPTO/TLS\n", line)
		}
		require.NoError(t, <-got)
	})
}

// Exported keying material equals crypto/tls's ConnectionState.ExportKeyingMaterial
// (nil context = none, empty = empty).
func TestInteropGoExporter(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			addr, conns, errs := ourServer(t, serverContext(t, leaf, openssl.ContextOptions{MaxVersion: v.v}), openssl.ConnConfig{},
				func(c *openssl.Conn) { _, _ = io.Copy(io.Discard, c) })
			gc, err := goDial(t, addr, &gotls.Config{RootCAs: goPool(t, leaf.CAPEM), ServerName: "localhost"})
			require.NoError(t, err)
			c := recvConn(t, conns, errs)
			st := gc.ConnectionState()
			for _, ctx := range [][]byte{nil, {}, []byte("some context")} {
				want, err := st.ExportKeyingMaterial("EXPERIMENTAL-nodetls", ctx, 40)
				require.NoError(t, err)
				got, err := c.ExportKeyingMaterial(40, "EXPERIMENTAL-nodetls", ctx, ctx != nil)
				require.NoError(t, err)
				assert.Equal(t, want, got, "context %q", ctx)
			}
		})
	}
}

// crypto/tls as a TLS 1.2 client that accepts renegotiation: our server
// renegotiates (also to ask for a client certificate) while data flows.
func TestInteropGoRenegotiation(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	cliLeaf := root.Leaf(t, testpki.Options{ClientAuth: true}, "go client")
	for _, requestCert := range []bool{false, true} {
		name := "plain"
		if requestCert {
			name = "requesting a client certificate"
		}
		t.Run(name, func(t *testing.T) {
			asked := make(chan struct{}, 4)
			addr, conns, errs := ourServer(t, serverContext(t, leaf, openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CA: root.CertPEM}),
				openssl.ConnConfig{}, func(c *openssl.Conn) { upperEcho(c) })
			gc, err := goDial(t, addr, &gotls.Config{RootCAs: goPool(t, root.CertPEM), ServerName: "localhost",
				Renegotiation: gotls.RenegotiateFreelyAsClient,
				GetClientCertificate: func(*gotls.CertificateRequestInfo) (*gotls.Certificate, error) {
					asked <- struct{}{}
					kp := goKeyPair(t, cliLeaf.ChainPEM, cliLeaf.KeyPEM)
					return &kp, nil
				}})
			require.NoError(t, err)
			c := recvConn(t, conns, errs)
			r := bufio.NewReader(gc)
			roundTrip := func(msg string) {
				_, err := gc.Write([]byte(msg + "\n"))
				require.NoError(t, err)
				line, err := r.ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, strings.ToUpper(msg)+"\n", line)
			}
			roundTrip("before")
			// crypto/tls runs the new handshake inside its Read, and cannot
			// take application data in the middle of it: it reads while our
			// server renegotiates, and our server writes only afterwards.
			got := make(chan string, 1)
			go func() {
				line, err := r.ReadString('\n')
				if err != nil {
					line = err.Error()
				}
				got <- line
			}()
			if requestCert {
				require.NoError(t, c.RenegotiateWith(openssl.RenegotiateOptions{RequestClientCert: true}))
			} else {
				require.NoError(t, c.Renegotiate())
			}
			eventually(t, "the renegotiation", func() bool { return c.HandshakeCount() == 2 })
			_, err = c.Write([]byte("renegotiated\n"))
			require.NoError(t, err)
			assert.Equal(t, "renegotiated\n", <-got)
			roundTrip("after")
			if requestCert {
				assert.Len(t, asked, 1)
				peer := c.PeerCertificate()
				require.NotNil(t, peer)
				assert.Equal(t, derOf(t, cliLeaf.Cert), derOf(t, peer))
				peer.Free()
				assert.Equal(t, "OK", openssl.VerifyCodeName(c.VerifyResult()))
			} else {
				assert.Len(t, asked, 0)
				assert.Nil(t, c.PeerCertificate())
			}
		})
	}
}

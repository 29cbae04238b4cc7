package openssl_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/require"
)

// Fuzz targets for everything in this package that reads bytes a user or a
// peer hands us: certificates, keys, PKCS#12 files, sessions, DH parameters,
// cipher strings, and the first flight of a hostile peer. Their seeds run
// with every `go test` (make test); `make fuzz` mutates them.
//
// What each target asserts is what a user would rely on: bad input is an
// *openssl.Error (never a panic, a hang or a silently accepted prefix), good
// input round-trips, and nothing is leaked (the live OpenSSL objects counted
// by cbridge are the same before and after a second run of the same input:
// the first run may fill OpenSSL's own caches).

// requireOpenSSLError fails unless err is an *openssl.Error with a reason.
func requireOpenSSLError(t *testing.T, err error) {
	t.Helper()
	var oe *openssl.Error
	require.True(t, errors.As(err, &oe), "want an *openssl.Error, got %T: %v", err, err)
	require.NotEmpty(t, oe.Error())
}

// noLeak runs f twice and fails if the second run leaves more (or fewer)
// live OpenSSL objects than it found.
func noLeak(t *testing.T, f func()) {
	t.Helper()
	f()
	before := cbridge.LiveObjects()
	f()
	require.Equal(t, before, cbridge.LiveObjects(), "live OpenSSL objects")
}

// fuzzCerts makes the seed certificates: a CA and leaves with every kind of
// key and extension that Certificate.Info reads.
func fuzzCerts(f *testing.F) []*testpki.Leaf {
	f.Helper()
	var leaves []*testpki.Leaf
	for _, k := range []testpki.KeyType{testpki.ECDSAP256, testpki.RSA2048, testpki.Ed25519} {
		_, leaf := newPKI(f, testpki.Options{Key: k})
		leaves = append(leaves, leaf)
	}
	return leaves
}

func FuzzParseCertificate(f *testing.F) {
	for _, leaf := range fuzzCerts(f) {
		der, err := leaf.Cert.DER()
		require.NoError(f, err)
		f.Add(der)
		f.Add(leaf.CertPEM)
		f.Add(leaf.ChainPEM)
		f.Add(append(append([]byte{}, der...), der...))
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		noLeak(t, func() {
			certs, err := openssl.ParseCertificates(data)
			if err != nil {
				requireOpenSSLError(t, err)
			}
			openssl.FreeCertificates(certs)

			c, err := openssl.ParseCertificate(data)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			defer c.Free()
			// Whatever parsed re-encodes, and the encoding parses to itself.
			der, err := c.DER()
			require.NoError(t, err)
			c2, err := openssl.ParseCertificate(der)
			require.NoError(t, err)
			der2, err := c2.DER()
			c2.Free()
			require.NoError(t, err)
			require.Equal(t, der, der2)
			pem, err := c.PEM()
			require.NoError(t, err)
			c3, err := openssl.ParseCertificate(pem)
			require.NoError(t, err)
			c3.Free()
			// Node's certificate object, and the host checks, on any certificate.
			if _, err := c.Info(); err != nil {
				requireOpenSSLError(t, err)
			}
			// A usable name either matches, does not, or (a malformed
			// subjectAltName) fails in OpenSSL.
			for _, err := range []error{openssl.CheckHost(c, "www.example.com"), openssl.CheckIP(c, "127.0.0.1")} {
				var mismatch *openssl.HostMismatchError
				if err != nil && !errors.As(err, &mismatch) {
					requireOpenSSLError(t, err)
				}
			}
			c.SelfIssued()
			c.IsCA()
		})
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, leaf := range fuzzCerts(f) {
		f.Add(leaf.KeyPEM, []byte(nil))
		der, err := leaf.Key.MarshalDER()
		require.NoError(f, err)
		f.Add(der, []byte(nil))
		enc, err := leaf.Key.MarshalEncryptedPKCS8PEM([]byte("pass"))
		require.NoError(f, err)
		f.Add(enc, []byte("pass"))
		f.Add(enc, []byte("wrong"))
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		noLeak(t, func() {
			k, err := openssl.ParsePrivateKey(data, pass)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			defer k.Free()
			require.NotEmpty(t, k.Type())
			// A key that parsed re-encodes, and the encoding is the same key.
			der, err := k.MarshalDER()
			require.NoError(t, err)
			k2, err := openssl.ParsePrivateKey(der, nil)
			require.NoError(t, err)
			defer k2.Free()
			pub, err := k.PublicKeyDER()
			require.NoError(t, err)
			pub2, err := k2.PublicKeyDER()
			require.NoError(t, err)
			require.Equal(t, pub, pub2)
			require.Equal(t, k.Type(), k2.Type())
			require.Equal(t, k.Bits(), k2.Bits())
		})
	})
}

func FuzzParsePKCS12(f *testing.F) {
	for _, leaf := range fuzzCerts(f)[:2] {
		p12, err := openssl.CreatePKCS12(leaf.Key, leaf.Cert, nil, "pw")
		require.NoError(f, err)
		f.Add(p12, "pw")
		f.Add(p12, "")
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, "")
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		noLeak(t, func() {
			p, err := openssl.ParsePKCS12(data, pass)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			p.Free()
		})
	})
}

// fuzzSessions returns the DER of a TLS 1.3 and a TLS 1.2 client session
// from real handshakes with sctx (a server on leaf).
func fuzzSessions(f *testing.F, leaf *testpki.Leaf, sctx *openssl.Context) [][]byte {
	f.Helper()
	var out [][]byte
	for _, v := range []openssl.ProtocolVersion{openssl.TLS1_3, openssl.TLS1_2} {
		cctx := clientContext(f, leaf.CAPEM, openssl.ContextOptions{MaxVersion: v})
		srv, cli, serr, cerr := pipePair(f, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(f, serr)
		require.NoError(f, cerr)
		go io.Copy(io.Discard, srv)
		// A TLS 1.3 session arrives after the handshake, with the first read.
		cli.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		cli.Read(make([]byte, 1))
		s := cli.Session()
		require.NotNil(f, s)
		out = append(out, s.DER())
		s.Free()
		cli.Close()
		srv.Close()
	}
	return out
}

func FuzzParseSession(f *testing.F) {
	_, leaf := newPKI(f, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(f, leaf, openssl.ContextOptions{})
	cctx := clientContext(f, leaf.CAPEM, openssl.ContextOptions{})
	for _, der := range fuzzSessions(f, leaf, sctx) {
		f.Add(der)
		f.Add(der[:len(der)-1])
		f.Add(append(append([]byte{}, der...), 0))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		// A session that parses, however damaged, can be offered to the
		// server it came from: the handshake resumes it, falls back to a full
		// one, or (a damaged secret under an intact ticket: the binder or the
		// Finished does not verify) fails, by itself and at both ends; a
		// connection that was made works.
		if s, err := openssl.ParseSession(der); err == nil {
			srv, cli, serr, cerr := pipePair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost", Session: s})
			s.Free()
			require.NotErrorIs(t, serr, context.DeadlineExceeded)
			require.NotErrorIs(t, cerr, context.DeadlineExceeded)
			if serr == nil && cerr == nil {
				exchange(t, srv, cli)
			} else {
				require.Error(t, cerr, "the client fails when the server does (server: %v)", serr)
			}
			// Over net.Pipe a close_notify waits for its reader (up to Close's
			// 5 s): drop the client's end first.
			cli.Abort()
			srv.Close()
		}
		noLeak(t, func() {
			s, err := openssl.ParseSession(der)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			defer s.Free()
			s.ID()
			s.Protocol()
			s.Time()
			s.Timeout()
			s.Expired(time.Now())
			s.Resumable()
			s.HasTicket()
			s.Ticket()
			s.TicketLifetimeHint()
			// ParseSession takes exactly one session: its encoding is what was read.
			out := s.DER()
			s2, err := openssl.ParseSession(out)
			require.NoError(t, err)
			require.Equal(t, out, s2.DER())
			s2.Free()
		})
	})
}

func FuzzParseDHParamsPEM(f *testing.F) {
	dir := f.TempDir()
	for _, args := range [][]string{
		{"dhparam", "-out", "dh.pem", "512"},
		{"genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem"},
		{"genpkey", "-genparam", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "dh.pem"},
	} {
		peers.Require(f, "openssl")
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(f, err, "%s", out)
		pem, err := os.ReadFile(filepath.Join(dir, "dh.pem"))
		require.NoError(f, err)
		f.Add(pem)
	}
	f.Fuzz(func(t *testing.T, pem []byte) {
		noLeak(t, func() {
			d, err := openssl.ParseDHParamsPEM(pem)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			require.Greater(t, d.Bits(), 0)
			require.NotEmpty(t, d.Type())
			d.Free()
		})
	})
}

func FuzzResolveCiphers(f *testing.F) {
	f.Add("HIGH:!aNULL:@SECLEVEL=1", "TLS_AES_128_GCM_SHA256", int8(-1), false)
	f.Add("DEFAULT:@STRENGTH", "", int8(2), true)
	f.Add("ECDHE+AESGCM:-RSA:+kPSK:COMPLEMENTOFALL", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384", int8(0), false)
	f.Add("ALL:!eNULL:@SECLEVEL=0:RC4", "bogus", int8(5), false)
	f.Add("", "TLS_AES_128_CCM_8_SHA256", int8(1), true)
	f.Fuzz(func(t *testing.T, list, suites string, level int8, supportedOnly bool) {
		q := openssl.CipherQuery{CipherList: &list, Ciphersuites: &suites, SupportedOnly: supportedOnly}
		if level >= 0 {
			l := int(level % 6)
			q.SecurityLevel = &l
		}
		noLeak(t, func() {
			ciphers, err := openssl.ResolveCiphers(q)
			if err != nil {
				requireOpenSSLError(t, err)
				return
			}
			for _, c := range ciphers {
				require.NotEmpty(t, c.Name)
				got, ok := openssl.CipherByName(c.Name)
				require.True(t, ok, "a resolved cipher is known by name: %q", c.Name)
				require.Equal(t, c.Name, got.Name)
			}
		})
	})
}

// fuzzEnv is a server and a client context for the hostile-peer targets.
type fuzzEnv struct {
	leaf       *testpki.Leaf
	sctx, cctx *openssl.Context
}

func newFuzzEnv(f *testing.F) fuzzEnv {
	_, leaf := newPKI(f, testpki.Options{Key: testpki.ECDSAP256})
	return fuzzEnv{
		leaf: leaf,
		sctx: serverContext(f, leaf, openssl.ContextOptions{MinVersion: openssl.TLS1_2}),
		cctx: clientContext(f, leaf.CAPEM, openssl.ContextOptions{MinVersion: openssl.TLS1_2}),
	}
}

// firstFlights records, over a real handshake, what each end sends first: the
// client's ClientHello and the server's whole first flight.
func firstFlights(f *testing.F, e fuzzEnv, v openssl.ProtocolVersion) (hello, serverFlight []byte) {
	f.Helper()
	cc, cs := net.Pipe()
	sc, ss := net.Pipe()
	var toServer, toClient bytes.Buffer
	done := make(chan struct{}, 2)
	go func() { io.Copy(io.MultiWriter(sc, &toServer), cs); sc.Close(); done <- struct{}{} }()
	go func() { io.Copy(io.MultiWriter(cs, &toClient), sc); cs.Close(); done <- struct{}{} }()
	srv, err := openssl.Server(ss, e.sctx, openssl.ConnConfig{})
	require.NoError(f, err)
	cctx := clientContext(f, e.leaf.CAPEM, openssl.ContextOptions{MaxVersion: v})
	cli, err := openssl.Client(cc, cctx, openssl.ConnConfig{ServerName: "localhost"})
	require.NoError(f, err)
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake(context.Background()) }()
	require.NoError(f, cli.Handshake(context.Background()))
	require.NoError(f, <-errc)
	cli.Abort()
	srv.Abort()
	<-done
	<-done
	hello, err = readRecord(bytes.NewReader(toServer.Bytes()))
	require.NoError(f, err)
	return hello, toClient.Bytes()
}

// hostilePeer gives conn the bytes input, then closes its end: the handshake
// must fail by itself (a peer that knows no key cannot finish it), promptly,
// with an error, and the Conn must close cleanly.
func hostilePeer(t *testing.T, input []byte, server bool, e fuzzEnv) {
	mine, peer := net.Pipe()
	go func() {
		if !server {
			readRecord(peer) // the ClientHello
		}
		peer.Write(input)
		peer.Close()
	}()
	var c *openssl.Conn
	var err error
	if server {
		c, err = openssl.Server(mine, e.sctx, openssl.ConnConfig{})
	} else {
		c, err = openssl.Client(mine, e.cctx, openssl.ConnConfig{ServerName: "localhost"})
	}
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Handshake(ctx)
	require.Error(t, err, "a handshake with a peer that has no key cannot succeed")
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the handshake ends by itself")
	_, err = c.Write([]byte("x"))
	require.Error(t, err)
	c.Close()
}

func FuzzServerHandshake(f *testing.F) {
	e := newFuzzEnv(f)
	for _, v := range []openssl.ProtocolVersion{openssl.TLS1_3, openssl.TLS1_2} {
		hello, _ := firstFlights(f, e, v)
		f.Add(hello)
		f.Add(hello[:len(hello)-7])
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Fuzz(func(t *testing.T, input []byte) {
		hostilePeer(t, input, true, e)
	})
}

func FuzzClientHandshake(f *testing.F) {
	e := newFuzzEnv(f)
	for _, v := range []openssl.ProtocolVersion{openssl.TLS1_3, openssl.TLS1_2} {
		_, flight := firstFlights(f, e, v)
		f.Add(flight)
		f.Add(flight[:len(flight)/2])
	}
	f.Add([]byte{22, 3, 3, 0, 4, 14, 0, 0, 0}) // a lone ServerHelloDone
	f.Fuzz(func(t *testing.T, input []byte) {
		hostilePeer(t, input, false, e)
	})
}

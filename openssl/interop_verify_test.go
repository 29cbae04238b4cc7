package openssl_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Interop with `openssl s_client` / `s_server`: verification results against
// their "Verify return code" lines, protocol versions, renegotiation (the R /
// r commands), KeyUpdate (k / K) and exported keying material.

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// splitLeaf splits a PEM chain into its first certificate and the rest.
func splitLeaf(t testing.TB, chain []byte) (leaf, rest []byte) {
	t.Helper()
	b, tail := pem.Decode(chain)
	require.NotNil(t, b)
	return pem.EncodeToMemory(b), tail
}

// ourServer accepts connections on 127.0.0.1 with sctx. Each connection is
// handshaken, handed to handle (if any), and otherwise echoed upper-cased line
// by line. Handshake results arrive on the returned channel.
func ourServer(t testing.TB, sctx *openssl.Context, cfg openssl.ConnConfig, handle func(*openssl.Conn)) (string, chan *openssl.Conn, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	conns, errs := make(chan *openssl.Conn, 4), make(chan error, 4)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			c, err := openssl.Server(raw, sctx, cfg)
			if err != nil {
				errs <- err
				raw.Close()
				continue
			}
			t.Cleanup(func() { c.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = c.Handshake(ctx)
			cancel()
			if err != nil {
				errs <- err
				continue
			}
			conns <- c
			go func() {
				if handle != nil {
					handle(c)
					return
				}
				upperEcho(c)
			}()
		}
	}()
	return ln.Addr().String(), conns, errs
}

func upperEcho(c *openssl.Conn) {
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

func recvConn(t testing.TB, conns chan *openssl.Conn, errs chan error) *openssl.Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case err := <-errs:
		t.Fatalf("server handshake: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no connection")
	}
	return nil
}

// dialOurs connects our client to addr and runs the handshake.
func dialOurs(t testing.TB, addr string, cctx *openssl.Context, cfg openssl.ConnConfig) (*openssl.Conn, error) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	c, err := openssl.Client(raw, cctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c, c.Handshake(ctx)
}

var verifyReturnCode = regexp.MustCompile(`Verify return code: (\d+) \(([^)]*)\)`)

// emptyStore keeps s_client from loading the system's default CA paths.
var emptyStore = []string{"-no-CAfile", "-no-CApath", "-no-CAstore"}

func TestInteropVerifyResults(t *testing.T) {
	for _, sc := range verifyScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			trust := append([]string{}, emptyStore...)
			if sc.caPEM != nil {
				trust = append(trust, "-CAfile", writeTemp(t, "ca.pem", sc.caPEM))
			}
			if sc.crlPEM != nil {
				trust = append(trust, "-CRL", writeTemp(t, "crl.pem", sc.crlPEM), "-crl_check_all")
			}
			if sc.partial {
				trust = append(trust, "-partial_chain")
			}

			// s_client against our server: its verdict is the oracle.
			addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{}), openssl.ConnConfig{}, nil)
			cl := peers.OpenSSLClient(t, addr, append([]string{"-servername", "localhost"}, trust...)...)
			m := cl.WaitFor(t, verifyReturnCode, 20*time.Second)
			recvConn(t, conns, errs)
			cl.CloseStdin()
			code, err := strconv.ParseInt(m[1], 10, 64)
			require.NoError(t, err)
			assert.Equal(t, sc.wantName, openssl.VerifyCodeName(code), "s_client said %s (%s)", m[1], m[2])
			assert.Equal(t, m[2], openssl.VerifyErrorString(code))

			// Our client against s_server serving the same chain.
			leaf, rest := splitLeaf(t, sc.chainPEM)
			args := []string{"-key", writeTemp(t, "key.pem", sc.keyPEM), "-cert", writeTemp(t, "leaf.pem", leaf)}
			if len(rest) > 0 {
				args = append(args, "-cert_chain", writeTemp(t, "chain.pem", rest))
			}
			_, saddr := peers.OpenSSLServer(t, args...)
			c, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, err)
			assert.Equal(t, code, c.VerifyResult(), "our client against s_server")
		})
	}
}

// Client certificates: a self-signed one from s_client is recorded (not
// refused) by our server; s_server requiring one from our client, which has
// none, fails the connection the TLS 1.3 way.
func TestInteropClientCertificates(t *testing.T) {
	scs := verifyScenarios(t)
	srvSC := scs[0] // valid chain via an intermediate
	self := scs[1]  // self-signed leaf

	t.Run("s_client sends a self-signed certificate", func(t *testing.T) {
		addr, conns, errs := ourServer(t, srvSC.serverContext(t, openssl.ContextOptions{CA: srvSC.caPEM}),
			openssl.ConnConfig{RequestClientCert: true}, nil)
		cl := peers.OpenSSLClient(t, addr, append([]string{"-key", writeTemp(t, "k.pem", self.keyPEM),
			"-cert", writeTemp(t, "c.pem", self.chainPEM), "-CAfile", writeTemp(t, "ca.pem", srvSC.caPEM)}, emptyStore...)...)
		cl.WaitFor(t, verifyReturnCode, 20*time.Second)
		c := recvConn(t, conns, errs)
		assert.Equal(t, "DEPTH_ZERO_SELF_SIGNED_CERT", openssl.VerifyCodeName(c.VerifyResult()))
		cl.Send(t, "still talking\n")
		cl.WaitFor(t, regexp.MustCompile(`STILL TALKING`), 10*time.Second)
		cl.CloseStdin()
	})

	t.Run("s_server requires a certificate our client lacks", func(t *testing.T) {
		leaf, rest := splitLeaf(t, srvSC.chainPEM)
		srv, saddr := peers.OpenSSLServer(t, "-key", writeTemp(t, "key.pem", srvSC.keyPEM), "-cert", writeTemp(t, "leaf.pem", leaf),
			"-cert_chain", writeTemp(t, "chain.pem", rest), "-Verify", "1", "-CAfile", writeTemp(t, "ca.pem", srvSC.caPEM))
		c, err := dialOurs(t, saddr, srvSC.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(t, err, "TLS 1.3: the client's handshake ends before the server judges it")
		_, err = c.Read(make([]byte, 1))
		var oe *openssl.Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "tlsv13 alert certificate required", oe.Reason)
		srv.WaitFor(t, regexp.MustCompile(`peer did not return a certificate`), 10*time.Second)
	})
}

// s_client -brief prints the negotiated protocol and cipher.
var (
	briefProtocol = regexp.MustCompile(`Protocol version: (\S+)`)
	briefCipher   = regexp.MustCompile(`Ciphersuite: (\S+)`)
)

func TestInteropVersions(t *testing.T) {
	scs := verifyScenarios(t)
	sc := scs[0]
	flags := map[openssl.ProtocolVersion]string{openssl.TLS1: "-tls1", openssl.TLS1_1: "-tls1_1", openssl.TLS1_2: "-tls1_2", openssl.TLS1_3: "-tls1_3"}
	wide := openssl.ContextOptions{MinVersion: openssl.TLS1, CipherList: openssl.String(legacyCiphers)}
	for _, v := range allVersions {
		t.Run(v.name, func(t *testing.T) {
			// s_client pinned to the version, our server open to all.
			addr, conns, errs := ourServer(t, sc.serverContext(t, wide), openssl.ConnConfig{}, nil)
			cl := peers.OpenSSLClient(t, addr, append([]string{"-brief", flags[v.v], "-cipher", legacyCiphers, "-CAfile", writeTemp(t, "ca.pem", sc.caPEM)}, emptyStore...)...)
			p := cl.WaitFor(t, briefProtocol, 20*time.Second)
			m := cl.WaitFor(t, briefCipher, 10*time.Second)
			c := recvConn(t, conns, errs)
			assert.Equal(t, v.name, p[1])
			assert.Equal(t, v.name, c.Version())
			ci, _ := c.Cipher()
			assert.Equal(t, m[1], ci.Name)
			cl.Send(t, "over "+v.name+"\n")
			cl.WaitFor(t, regexp.MustCompile(`OVER TLSV`), 10*time.Second)
			cl.CloseStdin()

			// s_server pinned to the version, our client open to all.
			leaf, rest := splitLeaf(t, sc.chainPEM)
			srv, saddr := peers.OpenSSLServer(t, flags[v.v], "-cipher", legacyCiphers, "-key", writeTemp(t, "key.pem", sc.keyPEM),
				"-cert", writeTemp(t, "leaf.pem", leaf), "-cert_chain", writeTemp(t, "chain.pem", rest))
			oc, err := dialOurs(t, saddr, sc.clientContext(t, wide), openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, err)
			assert.Equal(t, v.name, oc.Version())
			assert.Equal(t, "OK", openssl.VerifyCodeName(oc.VerifyResult()))
			_, err = oc.Write([]byte("from our client\n"))
			require.NoError(t, err)
			srv.WaitFor(t, regexp.MustCompile(`from our client`), 10*time.Second)
		})
	}

	t.Run("no overlap", func(t *testing.T) {
		// s_client up to 1.2 against our 1.3-only server.
		addr, _, errs2 := ourServer(t, sc.serverContext(t, openssl.ContextOptions{MinVersion: openssl.TLS1_3}), openssl.ConnConfig{}, nil)
		cl := peers.OpenSSLClient(t, addr, append([]string{"-tls1_2"}, emptyStore...)...)
		cl.WaitFor(t, regexp.MustCompile(`tlsv1 alert protocol version`), 20*time.Second)
		var oe *openssl.Error
		select {
		case err := <-errs2:
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "unsupported protocol", oe.Reason)
		case <-time.After(10 * time.Second):
			t.Fatal("our server did not fail")
		}

		// Our 1.2-capped client against s_server -tls1_3.
		leaf, rest := splitLeaf(t, sc.chainPEM)
		srv, saddr := peers.OpenSSLServer(t, "-tls1_3", "-key", writeTemp(t, "key.pem", sc.keyPEM),
			"-cert", writeTemp(t, "leaf.pem", leaf), "-cert_chain", writeTemp(t, "chain.pem", rest))
		_, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{MaxVersion: openssl.TLS1_2}), openssl.ConnConfig{})
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "tlsv1 alert protocol version", oe.Reason)
		srv.WaitFor(t, regexp.MustCompile(`unsupported protocol`), 10*time.Second)

		// A TLS 1.1 s_client at its default security level against our
		// level-0 server: the same refusal as our own client's.
		addr3, _, _ := ourServer(t, sc.serverContext(t, wide), openssl.ConnConfig{}, nil)
		cl3 := peers.OpenSSLClient(t, addr3, append([]string{"-tls1_1"}, emptyStore...)...)
		cl3.WaitFor(t, regexp.MustCompile(`legacy sigalg disallowed or unsupported`), 20*time.Second)
	})
}

func TestInteropRenegotiation(t *testing.T) {
	sc := verifyScenarios(t)[0]
	leaf, rest := splitLeaf(t, sc.chainPEM)
	serverFiles := func(t *testing.T) []string {
		return []string{"-key", writeTemp(t, "key.pem", sc.keyPEM), "-cert", writeTemp(t, "leaf.pem", leaf), "-cert_chain", writeTemp(t, "chain.pem", rest)}
	}
	clientArgs := func(t *testing.T) []string {
		return append([]string{"-tls1_2", "-CAfile", writeTemp(t, "ca.pem", sc.caPEM)}, emptyStore...)
	}

	t.Run("s_client R, allowed", func(t *testing.T) {
		addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation}), openssl.ConnConfig{}, nil)
		cl := peers.OpenSSLClient(t, addr, clientArgs(t)...)
		cl.WaitFor(t, verifyReturnCode, 20*time.Second)
		c := recvConn(t, conns, errs)
		cl.Send(t, "R\n")
		cl.WaitFor(t, regexp.MustCompile(`RENEGOTIATING`), 10*time.Second)
		eventually(t, "the renegotiation", func() bool { return c.HandshakeCount() == 2 })
		cl.Send(t, "after renegotiation\n")
		cl.WaitFor(t, regexp.MustCompile(`AFTER RENEGOTIATION`), 10*time.Second)
		cl.CloseStdin()
	})

	t.Run("s_client R, refused", func(t *testing.T) {
		for _, o := range []uint64{0, openssl.OpAllowClientRenegotiation | openssl.OpNoRenegotiation} {
			addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{Options: o}), openssl.ConnConfig{}, nil)
			cl := peers.OpenSSLClient(t, addr, clientArgs(t)...)
			cl.WaitFor(t, verifyReturnCode, 20*time.Second)
			recvConn(t, conns, errs)
			cl.Send(t, "R\n")
			cl.WaitFor(t, regexp.MustCompile(`no renegotiation`), 10*time.Second)
		}
	})

	t.Run("our server renegotiates with s_client", func(t *testing.T) {
		for _, flag := range []string{"", "-no_renegotiation"} {
			result := make(chan error, 1)
			addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{}), openssl.ConnConfig{}, func(c *openssl.Conn) {
				if err := c.Renegotiate(); err != nil {
					result <- err
					return
				}
				_, err := c.Read(make([]byte, 64))
				result <- err
			})
			args := clientArgs(t)
			if flag != "" {
				args = append(args, flag)
			}
			cl := peers.OpenSSLClient(t, addr, args...)
			cl.WaitFor(t, verifyReturnCode, 20*time.Second)
			c := recvConn(t, conns, errs)
			if flag == "" {
				eventually(t, "the renegotiation", func() bool { return c.HandshakeCount() == 2 })
				cl.Send(t, "x\n")
				require.NoError(t, <-result)
				continue
			}
			var oe *openssl.Error
			require.ErrorAs(t, <-result, &oe)
			assert.Equal(t, "no renegotiation", oe.Reason)
			cl.WaitFor(t, regexp.MustCompile(`alert handshake failure`), 10*time.Second)
		}
	})

	t.Run("s_server r", func(t *testing.T) {
		srv, saddr := peers.OpenSSLServer(t, append(serverFiles(t), "-tls1_2")...)
		c, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{})
		require.NoError(t, err)
		got := collect(c)
		srv.WaitFor(t, regexp.MustCompile(`CIPHER is`), 10*time.Second)
		srv.Send(t, "r\n")
		eventually(t, "the renegotiation", func() bool { return c.HandshakeCount() == 2 })
		srv.Send(t, "from s_server\n")
		eventually(t, "data", func() bool { return got.len() >= len("from s_server\n") })
		_, err = c.Write([]byte("from us\n"))
		require.NoError(t, err)
		srv.WaitFor(t, regexp.MustCompile(`from us`), 10*time.Second)
	})

	t.Run("our client renegotiates with s_server", func(t *testing.T) {
		cases := []struct {
			flag, wantErr string
		}{
			{"-client_renegotiation", ""},
			{"", "no renegotiation"},
			{"-no_renegotiation", "no renegotiation"},
		}
		for _, cse := range cases {
			args := append(serverFiles(t), "-tls1_2")
			if cse.flag != "" {
				args = append(args, cse.flag)
			}
			srv, saddr := peers.OpenSSLServer(t, args...)
			c, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{})
			require.NoError(t, err)
			srv.WaitFor(t, regexp.MustCompile(`CIPHER is`), 10*time.Second)
			require.NoError(t, c.Renegotiate())
			if cse.wantErr == "" {
				// The renegotiation finishes inside a Write here: nobody reads.
				_, err = c.Write([]byte("renegotiated\n"))
				require.NoError(t, err)
				srv.WaitFor(t, regexp.MustCompile(`renegotiated`), 10*time.Second)
				assert.Equal(t, 2, c.HandshakeCount())
				continue
			}
			_, err = c.Read(make([]byte, 8))
			var oe *openssl.Error
			require.ErrorAs(t, err, &oe, "s_server %s", cse.flag)
			assert.Equal(t, cse.wantErr, oe.Reason)
		}
	})
}

func TestInteropKeyUpdate(t *testing.T) {
	sc := verifyScenarios(t)[0]
	leaf, rest := splitLeaf(t, sc.chainPEM)

	t.Run("s_client k and K", func(t *testing.T) {
		addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{}), openssl.ConnConfig{}, nil)
		cl := peers.OpenSSLClient(t, addr, append([]string{"-CAfile", writeTemp(t, "ca.pem", sc.caPEM)}, emptyStore...)...)
		cl.WaitFor(t, verifyReturnCode, 20*time.Second)
		recvConn(t, conns, errs)
		for i, cmd := range []string{"k\n", "K\n", "k\n"} {
			cl.Send(t, cmd)
			cl.WaitFor(t, regexp.MustCompile(fmt.Sprintf(`(?s)(KEYUPDATE.*){%d}`, i+1)), 10*time.Second)
			line := fmt.Sprintf("line %d after key update\n", i)
			cl.Send(t, line)
			cl.WaitFor(t, regexp.MustCompile(strings.ToUpper(strings.TrimSpace(line))), 10*time.Second)
		}
		cl.CloseStdin()
	})

	t.Run("s_server k and K; ours too", func(t *testing.T) {
		srv, saddr := peers.OpenSSLServer(t, "-key", writeTemp(t, "key.pem", sc.keyPEM), "-cert", writeTemp(t, "leaf.pem", leaf),
			"-cert_chain", writeTemp(t, "chain.pem", rest))
		c, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{})
		require.NoError(t, err)
		srv.WaitFor(t, regexp.MustCompile(`CIPHER is`), 10*time.Second)
		r := bufio.NewReader(c)
		for i, cmd := range []string{"k\n", "K\n"} {
			srv.Send(t, cmd)
			// s_server drops the rest of a stdin read that holds a command,
			// and reports the command with a stdio printf that a pipe buffers:
			// give it time to take the command alone.
			time.Sleep(300 * time.Millisecond)
			line := fmt.Sprintf("s_server line %d\n", i)
			srv.Send(t, line)
			got, err := r.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, line, got)
		}
		require.NoError(t, c.KeyUpdate())
		_, err = c.Write([]byte("after our key update\n"))
		require.NoError(t, err)
		srv.WaitFor(t, regexp.MustCompile(`after our key update`), 10*time.Second)
		srv.Send(t, "and back\n")
		got, err := r.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "and back\n", got)
	})
}

var keyingMaterial = regexp.MustCompile(`Keying material: ([0-9A-F]+)`)

func TestInteropExporter(t *testing.T) {
	sc := verifyScenarios(t)[0]
	leaf, rest := splitLeaf(t, sc.chainPEM)
	const label = "EXPERIMENTAL-nodetls"
	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			flag := map[openssl.ProtocolVersion]string{openssl.TLS1_2: "-tls1_2", openssl.TLS1_3: "-tls1_3"}[v.v]
			srv, saddr := peers.OpenSSLServer(t, flag, "-keymatexport", label, "-keymatexportlen", "32", "-key", writeTemp(t, "key.pem", sc.keyPEM),
				"-cert", writeTemp(t, "leaf.pem", leaf), "-cert_chain", writeTemp(t, "chain.pem", rest))
			c, err := dialOurs(t, saddr, sc.clientContext(t, openssl.ContextOptions{}), openssl.ConnConfig{})
			require.NoError(t, err)
			m := srv.WaitFor(t, keyingMaterial, 10*time.Second)
			ours, err := c.ExportKeyingMaterial(32, label, nil, false)
			require.NoError(t, err)
			assert.Equal(t, m[1], strings.ToUpper(hex.EncodeToString(ours)))

			var theirs *openssl.Conn
			addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{MaxVersion: v.v}), openssl.ConnConfig{}, func(c *openssl.Conn) { _, _ = io.Copy(io.Discard, c) })
			cl := peers.OpenSSLClient(t, addr, append([]string{"-keymatexport", label, "-keymatexportlen", "32", "-CAfile", writeTemp(t, "ca.pem", sc.caPEM)}, emptyStore...)...)
			m = cl.WaitFor(t, keyingMaterial, 20*time.Second)
			theirs = recvConn(t, conns, errs)
			ours, err = theirs.ExportKeyingMaterial(32, label, nil, false)
			require.NoError(t, err)
			assert.Equal(t, m[1], strings.ToUpper(hex.EncodeToString(ours)))
			cl.CloseStdin()
		})
	}
}

// verifyNode connects a Node client (rejectUnauthorized: false) and prints
// its authorizationError ("OK" when authorized). Arguments: port, CA file or
// "", CRL file or "".
const verifyNode = `
const tls = require('tls'), fs = require('fs');
const opts = {host: '127.0.0.1', port: +process.argv[1], servername: 'localhost', rejectUnauthorized: false};
if (process.argv[2]) opts.ca = fs.readFileSync(process.argv[2]);
if (process.argv[3]) opts.crl = fs.readFileSync(process.argv[3]);
const c = tls.connect(opts, () => {
  console.log(c.authorized ? 'OK' : c.authorizationError);
  c.end();
});
c.on('error', (e) => { console.log('error ' + e.code); });
`

// VerifyCodeName gives the codes Node's clients report for the same chains.
func TestVerifyCodeNameNodeOracle(t *testing.T) {
	peers.Require(t, "node")
	for _, sc := range verifyScenarios(t) {
		if sc.partial {
			continue // Node 20 has no allowPartialTrustChain
		}
		t.Run(sc.name, func(t *testing.T) {
			addr, conns, errs := ourServer(t, sc.serverContext(t, openssl.ContextOptions{}), openssl.ConnConfig{}, func(c *openssl.Conn) {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			})
			_, port, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			ca, crl := "", ""
			if sc.caPEM != nil {
				ca = writeTemp(t, "ca.pem", sc.caPEM)
			}
			if sc.crlPEM != nil {
				crl = writeTemp(t, "crl.pem", sc.crlPEM)
			}
			p := peers.Node(t, verifyNode, port, ca, crl)
			p.Wait(t, 20*time.Second)
			recvConn(t, conns, errs)
			assert.Equal(t, strings.TrimSpace(p.Stdout()), sc.wantName, "node: %s", p.Stderr())
		})
	}
}

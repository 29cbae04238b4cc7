package openssl_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustPair(t *testing.T, tr string, sctx, cctx *openssl.Context) (srv, cli *openssl.Conn) {
	t.Helper()
	a, b := rawPair(t, tr)
	srv, cli, serr, cerr := handshakePair(t, a, b, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
	require.NoError(t, serr)
	require.NoError(t, cerr)
	closeBothAtEnd(t, srv, cli)
	return srv, cli
}

// closeBothAtEnd closes the two ends when the test ends (before
// handshakePair's cleanup), with the client reading meanwhile: over net.Pipe
// the server's close_notify needs a reader.
func closeBothAtEnd(t testing.TB, srv, cli *openssl.Conn) {
	t.Cleanup(func() {
		go func() { _, _ = io.Copy(io.Discard, cli) }()
		srv.Close()
		cli.Close()
	})
}

// Keying material (RFC 5705 / RFC 8446 §7.5) is equal on both sides; in TLS
// 1.2 an empty context differs from none, in TLS 1.3 they are the same.
func TestExportKeyingMaterial(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, v := range tlsVersions {
		for _, tr := range transports {
			t.Run(v.name+"/"+tr, func(t *testing.T) {
				srv, cli := mustPair(t, tr, serverContext(t, leaf, openssl.ContextOptions{MaxVersion: v.v}), clientContext(t, leaf.CAPEM, openssl.ContextOptions{}))
				export := func(c *openssl.Conn, n int, label string, ctx []byte, use bool) []byte {
					b, err := c.ExportKeyingMaterial(n, label, ctx, use)
					require.NoError(t, err)
					require.Len(t, b, n)
					return b
				}
				none := export(cli, 48, "EXPERIMENTAL-nodetls", nil, false)
				assert.Equal(t, none, export(srv, 48, "EXPERIMENTAL-nodetls", nil, false))
				empty := export(cli, 48, "EXPERIMENTAL-nodetls", []byte{}, true)
				assert.Equal(t, empty, export(srv, 48, "EXPERIMENTAL-nodetls", []byte{}, true))
				withCtx := export(cli, 48, "EXPERIMENTAL-nodetls", []byte("context"), true)
				assert.Equal(t, withCtx, export(srv, 48, "EXPERIMENTAL-nodetls", []byte("context"), true))
				assert.NotEqual(t, none, withCtx)
				assert.NotEqual(t, none, export(cli, 48, "EXPERIMENTAL-other", nil, false))
				if v.v == openssl.TLS1_3 {
					assert.Equal(t, none, empty, "TLS 1.3 has no 'no context'")
				} else {
					assert.NotEqual(t, none, empty)
				}
				// A shorter export is not a prefix of a longer one in TLS 1.3
				// (the length is in the HKDF label), and is in TLS 1.2 (P_hash).
				short := export(cli, 16, "EXPERIMENTAL-nodetls", nil, false)
				assert.Equal(t, v.v != openssl.TLS1_3, bytes.Equal(short, none[:16]))

				_, err := cli.ExportKeyingMaterial(0, "x", nil, false)
				assert.Error(t, err)
			})
		}
	}
	t.Run("before the handshake", func(t *testing.T) {
		a, _ := net.Pipe()
		c, err := openssl.Client(a, clientContext(t, nil, openssl.ContextOptions{}), openssl.ConnConfig{})
		require.NoError(t, err)
		defer c.Close()
		_, err = c.ExportKeyingMaterial(16, "x", nil, false)
		assert.ErrorIs(t, err, openssl.ErrHandshakeIncomplete)
	})
}

// Finished messages: the client's is the server's peer Finished and the
// reverse; 12 bytes in TLS 1.2, the suite's hash length in TLS 1.3.
func TestFinishedMessages(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	cases := []struct {
		name string
		opts openssl.ContextOptions
		n    int
	}{
		{"TLSv1.2", openssl.ContextOptions{MaxVersion: openssl.TLS1_2}, 12},
		{"TLS_AES_128_GCM_SHA256", openssl.ContextOptions{Ciphersuites: openssl.String("TLS_AES_128_GCM_SHA256")}, 32},
		{"TLS_AES_256_GCM_SHA384", openssl.ContextOptions{Ciphersuites: openssl.String("TLS_AES_256_GCM_SHA384")}, 48},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				srv, cli := mustPair(t, tr, serverContext(t, leaf, c.opts), clientContext(t, leaf.CAPEM, openssl.ContextOptions{}))
				assert.Len(t, cli.Finished(), c.n)
				assert.Len(t, srv.Finished(), c.n)
				assert.Equal(t, cli.Finished(), srv.PeerFinished())
				assert.Equal(t, srv.Finished(), cli.PeerFinished())
				assert.NotEqual(t, cli.Finished(), srv.Finished())
			})
		}
	}
	t.Run("before the handshake", func(t *testing.T) {
		a, _ := net.Pipe()
		c, err := openssl.Client(a, clientContext(t, nil, openssl.ContextOptions{}), openssl.ConnConfig{})
		require.NoError(t, err)
		defer c.Close()
		assert.Nil(t, c.Finished())
		assert.Nil(t, c.PeerFinished())
	})
}

// The negotiated cipher and protocol, named as `openssl ciphers -stdname -v`
// names them.
func TestNegotiatedCipher(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{})
	cases := []struct {
		cipher string
		opts   openssl.ContextOptions
	}{
		{"TLS_AES_256_GCM_SHA384", openssl.ContextOptions{Ciphersuites: openssl.String("TLS_AES_256_GCM_SHA384")}},
		{"TLS_CHACHA20_POLY1305_SHA256", openssl.ContextOptions{Ciphersuites: openssl.String("TLS_CHACHA20_POLY1305_SHA256")}},
		{"ECDHE-RSA-AES128-GCM-SHA256", openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String("ECDHE-RSA-AES128-GCM-SHA256")}},
		{"AES128-SHA", openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String("AES128-SHA")}},
	}
	for _, c := range cases {
		t.Run(c.cipher, func(t *testing.T) {
			std, version := cipherOracle(t, c.cipher)
			srv, cli := mustPair(t, "pipe", serverContext(t, leaf, c.opts), clientContext(t, leaf.CAPEM, openssl.ContextOptions{}))
			for _, conn := range []*openssl.Conn{srv, cli} {
				ci, ok := conn.Cipher()
				require.True(t, ok)
				assert.Equal(t, c.cipher, ci.Name)
				assert.Equal(t, std, ci.StandardName)
				assert.Equal(t, version, ci.Version)
				want := "TLSv1.2"
				if strings.HasPrefix(c.cipher, "TLS_") {
					want = "TLSv1.3"
				}
				assert.Equal(t, want, conn.Version())
			}
		})
	}
}

// cipherOracle asks `openssl ciphers -stdname -v` for a cipher's standard
// name and version column.
func cipherOracle(t *testing.T, name string) (std, version string) {
	t.Helper()
	peers.Require(t, "openssl")
	args := []string{"ciphers", "-stdname", "-v", name}
	if strings.HasPrefix(name, "TLS_") {
		args = []string{"ciphers", "-stdname", "-v", "-ciphersuites", name, "eNULL"}
	}
	out, err := exec.Command("openssl", args...).Output()
	require.NoError(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == name {
			return f[0], f[3]
		}
	}
	t.Fatalf("openssl ciphers does not list %s:\n%s", name, out)
	return "", ""
}

// The peer's ephemeral key as a client sees it.
func TestPeerEphemeralKey(t *testing.T) {
	_, rsaLeaf := newPKI(t, testpki.Options{})
	peers.Require(t, "openssl")
	ffdhe, err := exec.Command("openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048").Output()
	require.NoError(t, err)
	tls12 := func(cipher string) openssl.ContextOptions {
		return openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String(cipher)}
	}
	cases := []struct {
		name string
		sopt openssl.ContextOptions
		want openssl.EphemeralKey
	}{
		{"X25519 (TLS 1.3 default)", openssl.ContextOptions{}, openssl.EphemeralKey{Kind: "ECDH", Name: "X25519", Bits: 253}},
		{"P-256", openssl.ContextOptions{Groups: "P-256"}, openssl.EphemeralKey{Kind: "ECDH", Name: "prime256v1", Bits: 256}},
		{"P-384 at TLS 1.2", openssl.ContextOptions{Groups: "P-384", MaxVersion: openssl.TLS1_2}, openssl.EphemeralKey{Kind: "ECDH", Name: "secp384r1", Bits: 384}},
		{"DHE, auto parameters", func() openssl.ContextOptions {
			o := tls12("DHE-RSA-AES128-GCM-SHA256")
			o.DHParams = []byte("auto")
			return o
		}(), openssl.EphemeralKey{Kind: "DH", Bits: 2048}},
		{"DHE, ffdhe2048 PEM", func() openssl.ContextOptions {
			o := tls12("DHE-RSA-AES128-GCM-SHA256")
			o.DHParams = ffdhe
			return o
		}(), openssl.EphemeralKey{Kind: "DH", Bits: 2048}},
		{"RSA key exchange", tls12("AES128-SHA256"), openssl.EphemeralKey{}},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				srv, cli := mustPair(t, tr, serverContext(t, rsaLeaf, c.sopt), clientContext(t, rsaLeaf.CAPEM, openssl.ContextOptions{}))
				assert.Equal(t, c.want, cli.PeerEphemeralKey())
				echoOnce(t, srv, cli)
			})
		}
	}
}

// Shared signature algorithms, named as Node names them.
func TestSharedSigalgs(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	srv, _ := mustPair(t, "pipe", serverContext(t, leaf, openssl.ContextOptions{}),
		clientContext(t, leaf.CAPEM, openssl.ContextOptions{Sigalgs: "ECDSA+SHA256:RSA-PSS+SHA256:ed25519:RSA+SHA384"}))
	assert.Equal(t, []string{"ECDSA+SHA256", "RSA-PSS+SHA256", "Ed25519+UNDEF", "RSA+SHA384"}, srv.SharedSigalgNames())
	algs := srv.SharedSigalgs()
	require.Len(t, algs, 4)
	assert.Equal(t, "UNDEF", algs[2].Hash)
}

// recordCounter records the TLS record lengths written to a transport.
type recordCounter struct {
	net.Conn
	mu      sync.Mutex
	pending []byte
	lens    map[byte][]int // content type -> record lengths
}

func (r *recordCounter) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.pending = append(r.pending, p...)
	for len(r.pending) >= 5 {
		n := int(binary.BigEndian.Uint16(r.pending[3:5]))
		if len(r.pending) < 5+n {
			break
		}
		if r.lens == nil {
			r.lens = map[byte][]int{}
		}
		r.lens[r.pending[0]] = append(r.lens[r.pending[0]], n)
		r.pending = r.pending[5+n:]
	}
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recordCounter) appData() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.lens[23]...)
}

// SetMaxSendFragment bounds every record's plaintext (512..16384 bytes).
func TestMaxSendFragment(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	cases := []struct {
		name     string
		opts     openssl.ContextOptions
		overhead int // ciphertext bytes a record adds to its plaintext
	}{
		// TLS 1.3 AES-GCM: inner content type byte + 16-byte tag.
		{"TLSv1.3", openssl.ContextOptions{Ciphersuites: openssl.String("TLS_AES_128_GCM_SHA256")}, 17},
		// TLS 1.2 AES-GCM: 8-byte explicit nonce + 16-byte tag.
		{"TLSv1.2", openssl.ContextOptions{MaxVersion: openssl.TLS1_2, CipherList: openssl.String("ECDHE-ECDSA-AES128-GCM-SHA256")}, 24},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				a, b := rawPair(t, tr)
				rc := &recordCounter{Conn: a}
				srv, cli, serr, cerr := handshakePair(t, rc, b, serverContext(t, leaf, c.opts), clientContext(t, leaf.CAPEM, openssl.ContextOptions{}),
					openssl.ConnConfig{}, openssl.ConnConfig{})
				require.NoError(t, serr)
				require.NoError(t, cerr)
				closeBothAtEnd(t, srv, cli)
				// Let TLS 1.3 tickets reach the client first: they are
				// records too.
				echoOnce(t, srv, cli)
				for _, n := range []int{511, 16385, 0, -1} {
					assert.False(t, srv.SetMaxSendFragment(n), "%d", n)
				}
				assert.True(t, srv.SetMaxSendFragment(16384))
				require.True(t, srv.SetMaxSendFragment(512))
				before := len(rc.appData())
				data := randomBytes(10000)
				got := make(chan []byte, 1)
				go func() {
					buf := make([]byte, len(data))
					n := 0
					for n < len(buf) {
						m, err := cli.Read(buf[n:])
						if err != nil {
							break
						}
						n += m
					}
					got <- buf[:n]
				}()
				_, err := srv.Write(data)
				require.NoError(t, err)
				assert.Equal(t, data, <-got)
				recs := rc.appData()[before:]
				assert.Len(t, recs, (len(data)+511)/512)
				for _, n := range recs {
					assert.LessOrEqual(t, n, 512+c.overhead)
				}
				assert.Equal(t, 512+c.overhead, recs[0])
			})
		}
	}
}

// sharedSigalgsNode prints, as JSON, what a Node server reports from
// getSharedSigalgs() for a Node client offering sigalgs ("" = default), both
// at security level 2 (Debian's default level; Node's own is 1). The last
// argument is the server's honorCipherOrder, which also decides whose
// signature algorithm order wins.
const sharedSigalgsNode = `
const tls = require('tls'), fs = require('fs');
const key = fs.readFileSync(process.argv[1]), cert = fs.readFileSync(process.argv[2]);
const ciphers = 'DEFAULT@SECLEVEL=2';
const copts = {rejectUnauthorized: false, ciphers};
if (process.argv[3]) copts.sigalgs = process.argv[3];
const honorCipherOrder = process.argv[4] === 'true';
const srv = tls.createServer({key, cert, ciphers, honorCipherOrder}, (s) => {
  console.log(JSON.stringify(s.getSharedSigalgs()));
  s.end(); srv.close();
});
srv.listen(0, '127.0.0.1', () => {
  const c = tls.connect(Object.assign({port: srv.address().port, host: '127.0.0.1'}, copts), () => c.end());
  c.on('error', () => {});
});
`

// Shared signature algorithm names equal Node's getSharedSigalgs() for the
// same offer.
func TestSharedSigalgsNodeOracle(t *testing.T) {
	peers.Require(t, "node")
	for _, kt := range []struct {
		name string
		key  testpki.KeyType
	}{{"ECDSA", testpki.ECDSAP256}, {"RSA", testpki.RSA2048}} {
		_, leaf := newPKI(t, testpki.Options{Key: kt.key})
		keyFile, chainFile, _ := leaf.WriteFiles(t)
		for _, offer := range []string{"", "ECDSA+SHA256:rsa_pss_rsae_sha256:ed25519:RSA+SHA384"} {
			for _, serverPref := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/server preference %v", kt.name, offer, serverPref), func(t *testing.T) {
					out, err := exec.Command("node", "-e", sharedSigalgsNode, keyFile, chainFile, offer, fmt.Sprint(serverPref)).Output()
					require.NoError(t, err)
					var want []string
					require.NoError(t, json.Unmarshal(out, &want), "node printed %q", out)
					var sopts openssl.ContextOptions
					if serverPref {
						sopts.Options = openssl.OpCipherServerPreference
					}
					srv, _ := mustPair(t, "pipe", serverContext(t, leaf, sopts),
						clientContext(t, leaf.CAPEM, openssl.ContextOptions{Sigalgs: offer}))
					assert.Equal(t, want, srv.SharedSigalgNames())
				})
			}
		}
	}
}

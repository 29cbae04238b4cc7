package openssl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ocspPKI is a CA, a server certificate and a real OCSP response ("good")
// for it, signed by the CA with `openssl ocsp`.
type ocspPKI struct {
	ca                         *testpki.CA
	leaf                       *testpki.Leaf
	keyFile, chainFile, caFile string
	respFile                   string
	resp                       []byte
}

func newOCSPPKI(t *testing.T) *ocspPKI {
	t.Helper()
	peers.Require(t, "openssl")
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	p := &ocspPKI{ca: ca, leaf: ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost", "127.0.0.1")}
	p.keyFile, p.chainFile, p.caFile = p.leaf.WriteFiles(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	caKey := write("ca.key", ca.KeyPEM)
	leafPEM := write("leaf.pem", p.leaf.CertPEM)
	// The responder's database: one valid certificate, by serial (upper-case
	// hex of whole bytes, as OpenSSL's index.txt has it).
	index := write("index.txt", []byte(fmt.Sprintf("V\t391231235959Z\t\t%X\tunknown\t/CN=localhost\n", p.leaf.Serial.Bytes())))
	req := filepath.Join(dir, "req.der")
	p.respFile = filepath.Join(dir, "resp.der")
	run := func(args ...string) string {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		require.NoError(t, err, "openssl %v: %s", args, out)
		return string(out)
	}
	run("ocsp", "-issuer", p.caFile, "-cert", leafPEM, "-reqout", req, "-no_nonce")
	run("ocsp", "-index", index, "-rsigner", p.caFile, "-rkey", caKey, "-CA", p.caFile, "-reqin", req, "-respout", p.respFile, "-ndays", "1")
	require.Contains(t, run("ocsp", "-respin", p.respFile, "-CAfile", p.caFile, "-issuer", p.caFile, "-cert", leafPEM, "-no_nonce"), ": good")
	var err error
	p.resp, err = os.ReadFile(p.respFile)
	require.NoError(t, err)
	return p
}

// ocspRecorder records what OnOCSPResponse got.
type ocspRecorder struct {
	mu    sync.Mutex
	calls int
	resp  []byte
}

func (r *ocspRecorder) on(resp []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.resp = resp
}

func (r *ocspRecorder) get() (int, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, r.resp
}

func TestOCSPStapling(t *testing.T) {
	p := newOCSPPKI(t)
	errUser := errors.New("responder unreachable")
	for _, kind := range transports {
		for _, v := range []struct {
			name string
			max  openssl.ProtocolVersion
		}{{"TLSv1.2", openssl.TLS1_2}, {"TLSv1.3", 0}} {
			for _, c := range []struct {
				name        string
				request     bool
				serverCB    bool
				staple      []byte
				fail        error
				wantSrvRuns int
				wantCliRuns int
				wantResp    []byte
			}{
				{name: "stapled", request: true, serverCB: true, staple: p.resp, wantSrvRuns: 1, wantCliRuns: 1, wantResp: p.resp},
				{name: "any bytes", request: true, serverCB: true, staple: []byte("not really OCSP"), wantSrvRuns: 1, wantCliRuns: 1, wantResp: []byte("not really OCSP")},
				{name: "server has none", request: true, serverCB: true, staple: nil, wantSrvRuns: 1, wantCliRuns: 1},
				{name: "server has no callback", request: true, wantCliRuns: 1},
				{name: "not requested", request: false, serverCB: true, staple: p.resp},
				{name: "callback error", request: true, serverCB: true, fail: errUser, wantSrvRuns: 1},
			} {
				t.Run(kind+"/"+v.name+"/"+c.name, func(t *testing.T) {
					srvRuns := 0
					scfg := openssl.ConnConfig{}
					if c.serverCB {
						scfg.OCSPRequest = func() ([]byte, error) {
							srvRuns++
							return c.staple, c.fail
						}
					}
					var rec ocspRecorder
					ccfg := openssl.ConnConfig{RequestOCSP: c.request, OnOCSPResponse: rec.on}
					srv, cli, serr, cerr := extPair(t, kind,
						serverContext(t, p.leaf, openssl.ContextOptions{MaxVersion: v.max}),
						clientContext(t, p.ca.CertPEM, openssl.ContextOptions{}), scfg, ccfg)
					assert.Equal(t, c.wantSrvRuns, srvRuns, "server callback runs")
					if c.fail != nil {
						assert.ErrorIs(t, serr, errUser)
						assert.Equal(t, "tlsv1 alert internal error", opensslReason(cerr), "client: %v", cerr)
						return
					}
					require.NoError(t, serr)
					require.NoError(t, cerr)
					require.Equal(t, v.name, cli.Version())
					calls, resp := rec.get()
					assert.Equal(t, c.wantCliRuns, calls, "client callback runs")
					assert.Equal(t, c.wantResp, resp)
					exchange(t, srv, cli)
				})
			}
		}
	}
}

// Stapling against openssl s_server (-status_file) and s_client (-status).
func TestInteropOCSPOpenSSL(t *testing.T) {
	p := newOCSPPKI(t)
	for _, v := range []struct{ name, flag string }{{"TLSv1.2", "-tls1_2"}, {"TLSv1.3", "-tls1_3"}} {
		t.Run(v.name+"/we are the client", func(t *testing.T) {
			for _, request := range []bool{true, false} {
				_, addr := peers.OpenSSLServer(t, "-key", p.keyFile, "-cert", p.chainFile, v.flag, "-status_file", p.respFile)
				raw, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				var rec ocspRecorder
				cli, err := openssl.Client(raw, clientContext(t, p.ca.CertPEM, openssl.ContextOptions{}), openssl.ConnConfig{RequestOCSP: request, OnOCSPResponse: rec.on})
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				require.NoError(t, cli.Handshake(ctx))
				cancel()
				calls, resp := rec.get()
				if request {
					assert.Equal(t, 1, calls)
					assert.Equal(t, p.resp, resp, "the bytes of s_server's -status_file")
				} else {
					assert.Equal(t, 0, calls)
				}
			}
		})

		t.Run(v.name+"/we are the server", func(t *testing.T) {
			for _, c := range []struct {
				name   string
				staple []byte
				want   *regexp.Regexp
			}{
				{"stapled", p.resp, regexp.MustCompile(`(?s)OCSP Response Status: successful.*Cert Status: good`)},
				{"none", nil, regexp.MustCompile(`OCSP response: no response sent`)},
			} {
				t.Run(c.name, func(t *testing.T) {
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					require.NoError(t, err)
					t.Cleanup(func() { ln.Close() })
					sctx := serverContext(t, p.leaf, openssl.ContextOptions{})
					runs := make(chan int, 1)
					go func() {
						raw, err := ln.Accept()
						if err != nil {
							runs <- -1
							return
						}
						n := 0
						srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{OCSPRequest: func() ([]byte, error) { n++; return c.staple, nil }})
						if err != nil {
							runs <- -1
							return
						}
						defer srv.Close()
						if srv.Handshake(context.Background()) != nil {
							n = -1
						}
						runs <- n
						srv.Read(make([]byte, 1))
					}()
					cli := peers.OpenSSLClient(t, ln.Addr().String(), "-CAfile", p.caFile, "-servername", "localhost", v.flag, "-status")
					assert.Equal(t, 1, <-runs)
					cli.WaitFor(t, c.want, 10*time.Second)
					if c.staple != nil {
						// s_client printed the response and the handshake went on.
						cli.WaitFor(t, regexp.MustCompile(`(?s)OCSP Response Data:.*Verify return code: 0 \(ok\)`), 10*time.Second)
					}
					cli.CloseStdin()
					cli.Wait(t, 10*time.Second)
				})
			}
		})
	}
}

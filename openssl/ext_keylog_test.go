package openssl_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keylogSink collects key log lines from a callback (which may run on any
// goroutine).
type keylogSink struct {
	mu    sync.Mutex
	lines []string
}

func (k *keylogSink) add(line string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lines = append(k.lines, line)
}

func (k *keylogSink) get() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.lines...)
}

// file writes the lines as an NSS key log file.
func (k *keylogSink) file(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keylog.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(k.get(), "\n")+"\n"), 0o600))
	return path
}

var nssLine = regexp.MustCompile(`^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]+)$`)

// labels parses NSS key log lines, checks their form, and returns the labels
// and the client random they all share.
func labels(t testing.TB, lines []string) (labels []string, clientRandom string) {
	t.Helper()
	for _, l := range lines {
		m := nssLine.FindStringSubmatch(l)
		require.NotNil(t, m, "not an NSS key log line: %q", l)
		labels = append(labels, m[1])
		if clientRandom == "" {
			clientRandom = m[2]
		}
		assert.Equal(t, clientRandom, m[2], "one client random per handshake")
	}
	return labels, clientRandom
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// opensslKeylogLines reads an NSS key log file written by openssl
// -keylogfile, without its comment lines.
func opensslKeylogLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

var tls13Labels = []string{
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
	"SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0",
}

// keylogVersions are the protocol versions the key log tests run, with the
// labels each logs.
var keylogVersions = []struct {
	name   string
	max    openssl.ProtocolVersion
	labels []string
}{
	{"TLSv1.2", openssl.TLS1_2, []string{"CLIENT_RANDOM"}},
	{"TLSv1.3", 0, tls13Labels},
}

func TestKeylog(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, kind := range transports {
		for _, v := range keylogVersions {
			t.Run(kind+"/"+v.name, func(t *testing.T) {
				var sk, ck keylogSink
				srv, cli, serr, cerr := extPair(t, kind,
					serverContext(t, leaf, openssl.ContextOptions{MaxVersion: v.max}),
					clientContext(t, leaf.CAPEM, openssl.ContextOptions{}),
					openssl.ConnConfig{Keylog: sk.add}, openssl.ConnConfig{Keylog: ck.add})
				require.NoError(t, serr)
				require.NoError(t, cerr)
				require.Equal(t, v.name, cli.Version())
				exchange(t, srv, cli)
				sl, srand := labels(t, sk.get())
				cl, crand := labels(t, ck.get())
				assert.Equal(t, v.labels, sorted(sl), "server lines")
				assert.Equal(t, v.labels, sorted(cl), "client lines")
				assert.Equal(t, srand, crand)
				assert.Equal(t, sorted(sk.get()), sorted(ck.get()), "both sides log the same secrets")
			})
		}
	}
}

// The key log callback goes on a context only once a connection on it asks
// for key logs: a connection that an SNI choice moves to a context no such
// connection has used still logs every secret, and so does a client whose
// server asks for none.
func TestKeylogFollowsSNISwitch(t *testing.T) {
	p := newSNIPKI(t)
	for _, v := range keylogVersions {
		t.Run(v.name, func(t *testing.T) {
			sctx := serverContext(t, p.def, openssl.ContextOptions{MaxVersion: v.max})
			wctx := serverContext(t, p.wild, openssl.ContextOptions{MaxVersion: v.max})
			cctx := clientContext(t, p.ca.CertPEM, openssl.ContextOptions{})
			var sk, ck keylogSink
			toWild := func(string) (*openssl.Context, error) { return wctx, nil }
			srv, cli, serr, cerr := extPair(t, "tcp", sctx, cctx,
				openssl.ConnConfig{Keylog: sk.add, ServerNameCallback: toWild},
				openssl.ConnConfig{Keylog: ck.add, ServerName: "www.example.com"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			assert.Equal(t, p.wildDER, der(t, cli.PeerCertificate()), "the switch happened")
			exchange(t, srv, cli)
			sl, _ := labels(t, sk.get())
			assert.Equal(t, v.labels, sorted(sl), "server lines after the switch")
			assert.Equal(t, sorted(ck.get()), sorted(sk.get()), "both sides log the same secrets")

			// The server asks for no key log this time; the client does.
			var ck2 keylogSink
			srv2, cli2, serr, cerr := extPair(t, "tcp", sctx, cctx,
				openssl.ConnConfig{ServerNameCallback: toWild},
				openssl.ConnConfig{Keylog: ck2.add, ServerName: "www.example.com"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			exchange(t, srv2, cli2)
			cl2, _ := labels(t, ck2.get())
			assert.Equal(t, v.labels, sorted(cl2), "client lines")
		})
	}
}

// A panic in the keylog callback ends the handshake with an error instead of
// being lost.
func TestKeylogCallbackPanic(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	srv, _, serr, cerr := extPair(t, "pipe", serverContext(t, leaf, openssl.ContextOptions{}), clientContext(t, leaf.CAPEM, openssl.ContextOptions{}),
		openssl.ConnConfig{}, openssl.ConnConfig{Keylog: func(string) { panic("keylog sink broke") }})
	assert.ErrorContains(t, cerr, "keylog sink broke")
	// OpenSSL itself saw nothing wrong, so the server may have finished its
	// handshake; it then finds the connection cut without close_notify.
	if serr == nil {
		_, err := srv.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	}
}

// Our key log lines are the ones OpenSSL's own programs write for the same
// connection (openssl s_server / s_client -keylogfile).
func TestInteropKeylogOpenSSL(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	keyFile, chainFile, caFile := leaf.WriteFiles(t)
	for _, v := range []struct {
		name string
		flag string
	}{{"TLSv1.2", "-tls1_2"}, {"TLSv1.3", "-tls1_3"}} {
		t.Run(v.name+"/we are the client", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "s_server.keylog")
			srv, addr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", chainFile, v.flag, "-keylogfile", file)
			raw, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			var ours keylogSink
			cli, err := openssl.Client(raw, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{Keylog: ours.add})
			require.NoError(t, err)
			t.Cleanup(func() { cli.Close() })
			require.NoError(t, cli.Handshake(context.Background()))
			_, err = cli.Write([]byte("keylog\n"))
			require.NoError(t, err)
			srv.WaitFor(t, regexp.MustCompile(`keylog`), 10*time.Second)
			theirs := opensslKeylogLines(t, file)
			require.NotEmpty(t, theirs)
			assert.Equal(t, sorted(theirs), sorted(ours.get()))
		})
		t.Run(v.name+"/we are the server", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "s_client.keylog")
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { ln.Close() })
			sctx := serverContext(t, leaf, openssl.ContextOptions{})
			var ours keylogSink
			got := make(chan error, 1)
			go func() {
				raw, err := ln.Accept()
				if err != nil {
					got <- err
					return
				}
				srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{Keylog: ours.add})
				if err != nil {
					got <- err
					return
				}
				defer srv.Close()
				buf := make([]byte, 7)
				_, err = srv.Read(buf)
				got <- err
				srv.Read(buf)
			}()
			cli := peers.OpenSSLClient(t, ln.Addr().String(), "-CAfile", caFile, "-servername", "localhost", v.flag, "-keylogfile", file)
			cli.Send(t, "hello!\n") // (a line starting with k would be s_client's key update command)
			select {
			case err := <-got:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("our server got nothing")
			}
			cli.CloseStdin()
			cli.Wait(t, 10*time.Second)
			theirs := opensslKeylogLines(t, file)
			require.NotEmpty(t, theirs)
			assert.Equal(t, sorted(theirs), sorted(ours.get()))
		})
	}
}

// lockedBuffer is a bytes.Buffer written by a command while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// capture records loopback traffic on ln's port into a pcap file with
// tshark. It returns once the capture provably runs: canary connections are
// made until one shows up in the file (tshark reports "Capturing on" before
// its capture process has opened the file). stop waits until the file holds
// the end of the connection from clientPort both ways (packets reach the
// file in batches; stopping early would lose the last ones), then stops
// tshark. tshark and its dumpcap run in their own process group, which is
// what is signalled.
func capture(t *testing.T, ln net.Listener) (pcap string, stop func(clientPort int)) {
	t.Helper()
	peers.RequireCapture(t)
	peers.Require(t, "tshark")
	port := ln.Addr().(*net.TCPAddr).Port
	pcap = filepath.Join(t.TempDir(), "capture.pcap")
	var stderr lockedBuffer
	cmd := exec.Command("tshark", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "-w", pcap)
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	count := func(filter string) int {
		// A file being written may end in a partial packet; tshark then
		// complains but still prints the packets before it.
		out, _ := exec.Command("tshark", "-r", pcap, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
		return len(strings.Fields(string(out)))
	}
	deadline := time.Now().Add(30 * time.Second)
	for count("tcp.flags.syn==1") == 0 {
		require.True(t, time.Now().Before(deadline), "tshark never captured: %s", stderr.String())
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		a, err := ln.Accept()
		require.NoError(t, err)
		c.Close()
		a.Close()
		time.Sleep(200 * time.Millisecond)
	}
	return pcap, func(clientPort int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		// Both sides' last segment: a FIN, or a reset when one side writes
		// after the other has closed.
		ends := fmt.Sprintf("tcp.port==%d && (tcp.flags.fin==1 || tcp.flags.reset==1)", clientPort)
		for count(ends) < 2 {
			if time.Now().After(deadline) {
				// The connection's records are what the test decrypts;
				// say so if its last segments never reached the file.
				t.Logf("after 30 s the capture holds %d of the connection's 2 last segments (%d packets of it); tshark: %s",
					count(ends), count(fmt.Sprintf("tcp.port==%d", clientPort)), stderr.String())
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Fatalf("tshark did not stop: %s", stderr.String())
		}
		stopped = true
	}
}

// decrypted returns the application data tshark can decrypt from pcap with
// keylog (every record's plaintext, concatenated).
func decrypted(t *testing.T, pcap, keylog string, port int) []byte {
	t.Helper()
	cmd := exec.Command("tshark", "-r", pcap,
		"-o", "tls.keylog_file:"+keylog,
		"-d", fmt.Sprintf("tcp.port==%d,tls", port),
		"-Y", "data", "-T", "fields", "-e", "data.data")
	out, err := cmd.Output()
	require.NoError(t, err, "tshark: %s", out)
	var plain []byte
	for _, field := range strings.Fields(strings.ReplaceAll(string(out), ",", " ")) {
		b, err := hex.DecodeString(field)
		require.NoError(t, err, "tshark printed %q", field)
		plain = append(plain, b...)
	}
	return plain
}

// The proof that the key log is right: Wireshark decrypts a capture of the
// connection with it, and cannot without it.
func TestKeylogDecryptsCapture(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	for _, v := range []struct {
		name string
		max  openssl.ProtocolVersion
	}{{"TLSv1.2", openssl.TLS1_2}, {"TLSv1.3", 0}} {
		t.Run(v.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { ln.Close() })
			port := ln.Addr().(*net.TCPAddr).Port
			pcap, stop := capture(t, ln)

			var sk, ck keylogSink
			sctx := serverContext(t, leaf, openssl.ContextOptions{MaxVersion: v.max})
			fromClient := []byte(fmt.Sprintf("client secret %d %s", port, v.name))
			fromServer := []byte(fmt.Sprintf("server secret %d %s", port, v.name))
			srvDone := make(chan error, 1)
			srvExited := make(chan struct{})
			go func() {
				defer close(srvExited)
				raw, err := ln.Accept()
				if err != nil {
					srvDone <- err
					return
				}
				srv, err := openssl.Server(raw, sctx, openssl.ConnConfig{Keylog: sk.add})
				if err != nil {
					srvDone <- err
					return
				}
				defer srv.Close()
				buf := make([]byte, len(fromClient))
				if _, err := srv.Read(buf); err != nil {
					srvDone <- err
					return
				}
				_, err = srv.Write(fromServer)
				srvDone <- err
				srv.Read(buf) // until the client closes
			}()
			raw, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			cli, err := openssl.Client(raw, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{Keylog: ck.add})
			require.NoError(t, err)
			_, err = cli.Write(fromClient)
			require.NoError(t, err)
			buf := make([]byte, len(fromServer))
			_, err = cli.Read(buf)
			require.NoError(t, err)
			require.Equal(t, fromServer, buf)
			require.NoError(t, <-srvDone)
			require.Equal(t, v.name, cli.Version())
			cli.Close()
			<-srvExited
			stop(raw.LocalAddr().(*net.TCPAddr).Port)

			for side, k := range map[string]*keylogSink{"client": &ck, "server": &sk} {
				plain := decrypted(t, pcap, k.file(t), port)
				assert.True(t, bytes.Contains(plain, fromClient), "%s key log decrypts what the client sent; got %q", side, plain)
				assert.True(t, bytes.Contains(plain, fromServer), "%s key log decrypts what the server sent; got %q", side, plain)
			}
			// The control: without the secrets nothing is decrypted.
			empty := filepath.Join(t.TempDir(), "empty.txt")
			require.NoError(t, os.WriteFile(empty, nil, 0o600))
			assert.Empty(t, decrypted(t, pcap, empty, port))
		})
	}
}

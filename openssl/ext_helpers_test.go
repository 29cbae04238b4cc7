package openssl_test

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers for the extension tests (ALPN, SNI, PSK, keylog, OCSP).

// transports are the connections every Go-to-Go extension test runs over.
var transports = []string{"pipe", "tcp"}

// rawPair returns two connected transports of the given kind.
func rawPair(t testing.TB, kind string) (srv, cli net.Conn) {
	t.Helper()
	if kind == "pipe" {
		return net.Pipe()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	cli, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	srv = <-accepted
	require.NotNil(t, srv)
	return srv, cli
}

// extPair runs a client and a server handshake over a fresh transport of the
// given kind and returns both connections and both errors. A side whose
// handshake fails is closed at once, as a real application would, so that a
// peer blocked writing over net.Pipe is released. At the end of the test the
// client is drained while the server closes, so that Close never waits on an
// unread close_notify.
func extPair(t testing.TB, kind string, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error) {
	t.Helper()
	sraw, craw := rawPair(t, kind)
	srv, err := openssl.Server(sraw, sctx, scfg)
	require.NoError(t, err)
	cli, err = openssl.Client(craw, cctx, ccfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = io.Copy(io.Discard, cli)
		}()
		srv.Close()
		cli.Close()
		<-done
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if serr = srv.Handshake(ctx); serr != nil {
			srv.Transport().Close()
		}
	}()
	go func() {
		defer wg.Done()
		if cerr = cli.Handshake(ctx); cerr != nil {
			cli.Transport().Close()
		}
	}()
	wg.Wait()
	return srv, cli, serr, cerr
}

// exchange sends a line each way over an established pair and checks it
// arrives.
func exchange(t testing.TB, srv, cli *openssl.Conn) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(srv, buf); err != nil {
			errc <- err
			return
		}
		_, err := srv.Write([]byte("pong:" + string(buf)))
		errc <- err
	}()
	_, err := cli.Write([]byte("ping!"))
	require.NoError(t, err)
	got := make([]byte, 10)
	_, err = io.ReadFull(cli, got)
	require.NoError(t, err)
	assert.Equal(t, "pong:ping!", string(got))
	require.NoError(t, <-errc)
}

// opensslReason returns OpenSSL's reason text of err ("" if err carries no
// OpenSSL error).
func opensslReason(err error) string {
	var oe *openssl.Error
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return ""
}

// cliErrorLine matches an OpenSSL error line as the openssl command prints it
// ("...:error:0A000419:SSL routines:ssl3_read_bytes:tlsv1 alert access denied:...")
// and captures the reason.
var cliErrorLine = regexp.MustCompile(`error:[0-9A-F]{8}:SSL routines:[^:]*:([^:]+):`)

// cliReasons lists the SSL reasons in an openssl command's output.
func cliReasons(out string) []string {
	var rs []string
	for _, m := range cliErrorLine.FindAllStringSubmatch(out, -1) {
		rs = append(rs, m[1])
	}
	return rs
}

package tls

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/nodetls/nodetls/openssl"
)

var (
	debugOnce    sync.Once
	debugEnabled bool
	traceEnv     bool
)

// readDebugEnv reads NODE_DEBUG once: a comma-separated list of sections, as
// in Node ("tls", "net,tls", "*").
func readDebugEnv() {
	debugOnce.Do(func() {
		for _, name := range strings.Split(os.Getenv("NODE_DEBUG"), ",") {
			name = strings.TrimSpace(name)
			if strings.EqualFold(name, "tls") || name == "*" {
				debugEnabled = true
			}
		}
	})
}

// debugOn reports whether NODE_DEBUG names the tls section.
func debugOn() bool {
	readDebugEnv()
	return debugEnabled
}

// debugf writes a Node-style NODE_DEBUG=tls line ("TLS <pid>: ...") to
// stderr. The lines mark the points of a socket's life that Node's
// debuglog('tls') marks (_init, initRead, _start, onhandshakestart,
// onhandshakedone, _finishInit, emit secureConnect / secureConnection,
// onerror, emit tlsClientError, onkeylog, sessions, OCSP, renegotiate), with
// the same wording; they are a debugging aid, not an interface.
func debugf(format string, args ...any) {
	if !debugOn() {
		return
	}
	fmt.Fprintf(os.Stderr, "TLS %d: %s\n", os.Getpid(), fmt.Sprintf(format, args...))
}

// traceAll reports whether every socket should trace (Node's --trace-tls);
// nodetls has no such switch yet, so it is false.
func traceAll() bool { return traceEnv }

var noTraceOnce sync.Once

// warnNoTrace tells, once per process, that a trace was asked for but the
// linked OpenSSL cannot write one. Node stays silent in this case; a Go
// program asking for EnableTrace deserves to know why stderr stays empty.
func warnNoTrace(w io.Writer) {
	noTraceOnce.Do(func() {
		fmt.Fprintln(w, noTraceMessage(os.Getpid(), openssl.Version().Text))
	})
}

// noTraceMessage is the line warnNoTrace writes.
func noTraceMessage(pid int, version string) string {
	return fmt.Sprintf("(nodetls:%d) Warning: enableTrace: %s was built without SSL_trace "+
		"(OPENSSL_NO_SSL_TRACE), so no TLS trace is written; "+
		"use an OpenSSL built with enable-ssl-trace, or openssl s_client/s_server -trace", pid, version)
}

package main

import (
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nodetls/nodetls/internal/nodeshape"
	"github.com/nodetls/nodetls/tls"
)

const clientSynopsis = "client [--host localhost] [--port 8000] [flags]"

// clientFlags are the flags of `nodetls client`.
type clientFlags struct {
	contextFlags
	host       string
	port       int
	servername string
	sessionIn  string
	sessionOut string
	timeout    int
	help       bool
}

func newClientFlagSet(f *clientFlags) *flag.FlagSet {
	fs := newFlagSet("client")
	fs.StringVar(&f.host, "host", "localhost", "host to connect to")
	fs.IntVar(&f.port, "port", 8000, "port to connect to")
	fs.StringVar(&f.servername, "servername", "", "SNI name, also the name the certificate is checked against")
	addContextFlags(fs, &f.contextFlags)
	fs.StringVar(&f.sessionIn, "session-in", "", "resume the session saved (DER) in `FILE`")
	fs.StringVar(&f.sessionOut, "session-out", "", "save the session (DER) to `FILE`")
	fs.IntVar(&f.timeout, "timeout", 0, "give up connecting after `MS` milliseconds (0 = never)")
	fs.BoolVar(&f.help, "help", false, "show this help")
	return fs
}

// clientConfig is everything read from the flags before connecting.
type clientConfig struct {
	opts   tls.ConnectOptions
	keylog *keylogFile
	// removeUnsaved: --session-out did not exist before; remove it when no
	// session was written.
	removeUnsaved bool
}

// configure checks the flags and reads their files (usage errors).
func (f *clientFlags) configure() (*clientConfig, error) {
	if err := checkPort(f.port); err != nil {
		return nil, err
	}
	if err := checkNonNegative("timeout", f.timeout, "milliseconds"); err != nil {
		return nil, err
	}
	if len(f.psk) > 1 {
		return nil, usagef("--psk: a client uses one identity, got %d", len(f.psk))
	}
	sc, err := f.secureContextOptions()
	if err != nil {
		return nil, err
	}
	alpn, err := parseALPN(f.alpn)
	if err != nil {
		return nil, err
	}
	session, err := readFileFlag("session-in", f.sessionIn)
	if err != nil {
		return nil, err
	}
	cfg := &clientConfig{opts: tls.ConnectOptions{
		SecureContextOptions: sc,
		Host:                 f.host,
		Port:                 f.port,
		Servername:           f.servername,
		ALPNProtocols:        alpn,
		RejectUnauthorized:   tls.Bool(f.rejectUnauthorized),
		Session:              session,
		Timeout:              time.Duration(f.timeout) * time.Millisecond,
	}}
	if len(f.psk) == 1 {
		p, err := parsePSK(f.psk[0])
		if err != nil {
			return nil, err
		}
		cfg.opts.PSKCallback = func(string) ([]byte, string, bool) { return p.key, p.identity, true }
		// There is no certificate to check the host name against.
		cfg.opts.CheckServerIdentity = func(string, *tls.Certificate) error { return nil }
	}
	if f.sessionOut != "" {
		// Fail now rather than after the connection: the file must be
		// writable. A file made only for this check is removed if no
		// session comes.
		_, statErr := os.Stat(f.sessionOut)
		fh, err := os.OpenFile(f.sessionOut, os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, usagef("--session-out: cannot write %s: %v", f.sessionOut, bareError(err))
		}
		fh.Close()
		cfg.removeUnsaved = errors.Is(statErr, os.ErrNotExist)
	}
	if cfg.keylog, err = openKeylog(f.keylog); err != nil {
		return nil, err
	}
	return cfg, nil
}

// runClient is `nodetls client`: tls.connect, one secureConnect (or error)
// line in Node's shapes, then stdin to the socket and the socket to stdout.
func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f clientFlags
	fs := newClientFlagSet(&f)
	if err := parseFlags(fs, args); err != nil {
		return exitCode(stderr, "client", err)
	}
	if f.help {
		printHelp(stdout, fs, clientSynopsis)
		return 0
	}
	cfg, err := f.configure()
	if err != nil {
		return exitCode(stderr, "client", err)
	}
	defer cfg.keylog.close()

	out := &lineWriter{w: stdout}
	sessions := &sessionFile{path: f.sessionOut, removeIfNone: cfg.removeUnsaved}
	s, err := tls.Connect(cfg.opts)
	if err != nil {
		sessions.finish(nil) //nolint:errcheck // the connection error is the one to report
		return printError(out, err)
	}
	defer s.Close()
	if cfg.keylog != nil {
		s.OnKeylog(cfg.keylog.write)
	}
	if sessions.path != "" {
		s.OnSession(sessions.save)
	}
	out.json(nodeshape.SecureConnect(s))

	go func() {
		if _, err := io.Copy(s, stdin); err == nil {
			s.End() //nolint:errcheck // a failed end shows up on the read side
		}
	}()
	_, err = io.Copy(&lockedWriter{out: out}, s)
	code := 0
	if err != nil && !errors.Is(err, net.ErrClosed) {
		code = printError(out, err)
	}
	if err := sessions.finish(s); err != nil {
		code = printError(out, err)
	}
	return code
}

// sessionFile is --session-out: it keeps the newest session the socket
// reported (TLS 1.3 sessions arrive after the handshake, while reading).
type sessionFile struct {
	path         string
	removeIfNone bool // the file was made by the writability check

	mu    sync.Mutex
	saved bool
	err   error
}

func (f *sessionFile) save(der []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saved = true
	if err := os.WriteFile(f.path, der, 0o600); err != nil && f.err == nil {
		f.err = err
	}
}

// finish saves the socket's current session when none was reported (nil
// socket: the connection failed), removes a file made only by the check when
// there is nothing to save, and returns the first write error.
func (f *sessionFile) finish(s *tls.Socket) error {
	if f.path == "" {
		return nil
	}
	f.mu.Lock()
	saved := f.saved
	f.mu.Unlock()
	if !saved && s != nil {
		if der := s.GetSession(); der != nil {
			f.save(der)
			saved = true
		}
	}
	if !saved && f.removeIfNone {
		os.Remove(f.path)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// lockedWriter writes socket data through the line writer's lock, so data
// never interleaves with a JSON line.
type lockedWriter struct{ out *lineWriter }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.out.mu.Lock()
	defer w.out.mu.Unlock()
	return w.out.w.Write(p)
}

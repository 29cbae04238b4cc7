package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/internal/nodeshape"
	"github.com/nodetls/nodetls/tls"
)

const serverSynopsis = "server [--host 127.0.0.1] [--port 8000] [--key FILE --cert FILE | --pfx FILE] [flags]"

// serverFlags are the flags of `nodetls server`.
type serverFlags struct {
	contextFlags
	host             string
	port             int
	pfx              string
	sigalgs          string
	ecdhCurve        string
	dhparam          string
	honorCipherOrder bool
	requestCert      bool
	sni              listFlag
	pskIdentityHint  string
	sessionTimeout   int
	ticketKeys       string
	sessionCache     bool
	handshakeTimeout int
	json             bool
	help             bool
}

func newServerFlagSet(f *serverFlags) *flag.FlagSet {
	fs := newFlagSet("server")
	fs.StringVar(&f.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&f.port, "port", 8000, "port to listen on (0 picks one)")
	addContextFlags(fs, &f.contextFlags)
	fs.StringVar(&f.pfx, "pfx", "", "PKCS#12 `FILE` with the key and certificate chain")
	fs.StringVar(&f.sigalgs, "sigalgs", "", "signature algorithms (ECDSA+SHA256:RSA-PSS+SHA256)")
	fs.StringVar(&f.ecdhCurve, "ecdh-curve", "", "ECDH groups (X25519:P-256), default auto")
	fs.StringVar(&f.dhparam, "dhparam", "", "DHE parameters: auto, or a PEM `FILE`")
	fs.BoolVar(&f.honorCipherOrder, "honor-cipher-order", true, "prefer the server's cipher order (true|false)")
	fs.BoolVar(&f.requestCert, "request-cert", false, "ask clients for a certificate")
	fs.Var(&f.sni, "sni", "serve HOST with another key and certificate: `HOST=KEYFILE,CERTFILE` (repeatable)")
	fs.StringVar(&f.pskIdentityHint, "psk-identity-hint", "", "PSK identity hint sent to clients (TLSv1.2)")
	fs.IntVar(&f.sessionTimeout, "session-timeout", 0, "session lifetime in `SECONDS` (0 = OpenSSL's default)")
	fs.StringVar(&f.ticketKeys, "ticket-keys", "", "session ticket keys: 48 bytes as 96 hex digits")
	fs.BoolVar(&f.sessionCache, "session-cache", false, "serve newSession/resumeSession from memory")
	fs.IntVar(&f.handshakeTimeout, "handshake-timeout", 0, "handshake idle timeout in `MS` (0 = 120000)")
	fs.BoolVar(&f.json, "json", false, "print every event as one JSON line")
	fs.BoolVar(&f.help, "help", false, "show this help")
	return fs
}

// sniEntry is one --sni HOST=KEYFILE,CERTFILE, with the files read.
type sniEntry struct {
	host string
	opts tls.SecureContextOptions
}

func parseSNI(v string) (sniEntry, error) {
	host, files, ok := strings.Cut(v, "=")
	keyFile, certFile, ok2 := strings.Cut(files, ",")
	if !ok || !ok2 || host == "" || keyFile == "" || certFile == "" {
		return sniEntry{}, usagef("--sni %q: want HOST=KEYFILE,CERTFILE", v)
	}
	// A path may hold a comma too: split at the first comma after which
	// the key file exists.
	for i := len(keyFile); i < len(files); i++ {
		if files[i] != ',' {
			continue
		}
		if _, err := os.Stat(files[:i]); err == nil {
			keyFile, certFile = files[:i], files[i+1:]
			break
		}
	}
	key, err := readFileFlag("sni", keyFile)
	if err != nil {
		return sniEntry{}, err
	}
	cert, err := readFileFlag("sni", certFile)
	if err != nil {
		return sniEntry{}, err
	}
	return sniEntry{host: host, opts: tls.SecureContextOptions{Key: key, Cert: cert}}, nil
}

// serverConfig is everything read from the flags before the server starts.
type serverConfig struct {
	opts   tls.ServerOptions
	sni    []sniEntry
	keylog *keylogFile
}

// configure checks the flags and reads their files (usage errors).
func (f *serverFlags) configure() (*serverConfig, error) {
	if err := checkPort(f.port); err != nil {
		return nil, err
	}
	if err := checkNonNegative("handshake-timeout", f.handshakeTimeout, "milliseconds"); err != nil {
		return nil, err
	}
	if err := checkNonNegative("session-timeout", f.sessionTimeout, "seconds"); err != nil {
		return nil, err
	}
	sc, err := f.secureContextOptions()
	if err != nil {
		return nil, err
	}
	if sc.PFX, err = readFileFlag("pfx", f.pfx); err != nil {
		return nil, err
	}
	sc.Sigalgs = f.sigalgs
	sc.ECDHCurve = f.ecdhCurve
	switch f.dhparam {
	case "", "auto":
		sc.DHParam = f.dhparam
	default:
		pem, err := readFileFlag("dhparam", f.dhparam)
		if err != nil {
			return nil, err
		}
		sc.DHParam = string(pem)
	}
	sc.SessionTimeout = time.Duration(f.sessionTimeout) * time.Second
	if f.ticketKeys != "" {
		keys, err := hex.DecodeString(f.ticketKeys)
		if err != nil || len(keys) != 48 {
			return nil, usagef("--ticket-keys: want 48 bytes as 96 hex digits, got %q", f.ticketKeys)
		}
		sc.TicketKeys = keys
	}
	alpn, err := parseALPN(f.alpn)
	if err != nil {
		return nil, err
	}
	cfg := &serverConfig{opts: tls.ServerOptions{
		SecureContextOptions: sc,
		RequestCert:          f.requestCert,
		RejectUnauthorized:   tls.Bool(f.rejectUnauthorized),
		ALPNProtocols:        alpn,
		PSKIdentityHint:      f.pskIdentityHint,
		HandshakeTimeout:     time.Duration(f.handshakeTimeout) * time.Millisecond,
		ClientCipherOrder:    !f.honorCipherOrder,
	}}
	for _, v := range f.sni {
		e, err := parseSNI(v)
		if err != nil {
			return nil, err
		}
		cfg.sni = append(cfg.sni, e)
	}
	if len(f.psk) > 0 {
		keys := map[string][]byte{}
		for _, v := range f.psk {
			p, err := parsePSK(v)
			if err != nil {
				return nil, err
			}
			keys[p.identity] = p.key
		}
		cfg.opts.PSKCallback = func(_ *tls.Socket, identity string) []byte { return keys[identity] }
	}
	if cfg.keylog, err = openKeylog(f.keylog); err != nil {
		return nil, err
	}
	return cfg, nil
}

// runServer is `nodetls server`: Node's echo server with every option of
// tls.createServer as a flag, reporting its events as human lines or, with
// --json, as Node's JSON shapes.
func runServer(args []string, stdout, stderr io.Writer) int {
	var f serverFlags
	fs := newServerFlagSet(&f)
	if err := parseFlags(fs, args); err != nil {
		return exitCode(stderr, "server", err)
	}
	if f.help {
		printHelp(stdout, fs, serverSynopsis)
		return 0
	}
	cfg, err := f.configure()
	if err != nil {
		return exitCode(stderr, "server", err)
	}
	defer cfg.keylog.close()

	out := &lineWriter{w: stdout}
	ev := &serverEvents{out: out, json: f.json}
	srv, err := tls.CreateServer(cfg.opts, ev.secureConnection)
	if err != nil {
		return printError(out, err)
	}
	for _, e := range cfg.sni {
		if err := srv.AddContext(e.host, e.opts); err != nil {
			return printError(out, err)
		}
	}
	srv.OnConnection(ev.connection)
	srv.OnTLSClientError(ev.tlsClientError)
	if cfg.keylog != nil {
		srv.OnKeylog(func(line []byte, _ *tls.Socket) { cfg.keylog.write(line) })
	}
	if f.sessionCache {
		cache := &sessionCache{m: map[string][]byte{}}
		srv.OnNewSession(func(id, data []byte) {
			cache.put(id, data)
			ev.newSession(id)
		})
		srv.OnResumeSession(func(id []byte) []byte {
			data := cache.get(id)
			ev.resumeSession(id, data != nil)
			return data
		})
	}

	// Signals are caught before the port is bound, so a test (or script)
	// that sees the listening line can stop the server cleanly.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)

	if err := srv.Listen(net.JoinHostPort(f.host, strconv.Itoa(f.port))); err != nil {
		return printError(out, err)
	}
	ev.listening(srv.Address())
	<-sig
	srv.Close()
	ev.shutdown()
	return 0
}

// maxCachedSessions bounds --session-cache; a full cache forgets an
// arbitrary session for each new one.
const maxCachedSessions = 10000

// sessionCache is the in-memory store behind --session-cache.
type sessionCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *sessionCache) put(id, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedSessions {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[string(id)] = data
}

func (c *sessionCache) get(id []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(id)]
}

// serverEvents prints the server's events and keeps the open connections,
// so that a signal can close them.
type serverEvents struct {
	out  *lineWriter
	json bool

	mu       sync.Mutex
	closing  bool
	raw      map[string]net.Conn  // accepted, handshake not done; by remote address
	secure   map[*tls.Socket]bool // secure and echoing
	handlers sync.WaitGroup
}

func (e *serverEvents) listening(addr net.Addr) {
	port := 0
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	if e.json {
		e.out.json(nodeshape.NewObject().Set("event", "listening").Set("port", port))
		return
	}
	e.out.println("server listening on " + addr.String())
}

func (e *serverEvents) connection(raw net.Conn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		raw.Close()
		return
	}
	if e.raw == nil {
		e.raw = map[string]net.Conn{}
	}
	e.raw[raw.RemoteAddr().String()] = raw
}

// handshakeOver forgets the raw connection of a socket whose handshake ended.
func (e *serverEvents) handshakeOver(s *tls.Socket) {
	e.mu.Lock()
	delete(e.raw, s.RemoteAddr().String())
	e.mu.Unlock()
}

// secureConnection reports the socket and echoes what the client sends until
// it ends, then ends too (Node's socket.pipe(socket)).
func (e *serverEvents) secureConnection(s *tls.Socket) {
	e.mu.Lock()
	delete(e.raw, s.RemoteAddr().String())
	if e.closing {
		e.mu.Unlock()
		s.Close()
		return
	}
	if e.secure == nil {
		e.secure = map[*tls.Socket]bool{}
	}
	e.secure[s] = true
	e.handlers.Add(1)
	e.mu.Unlock()
	defer e.handlers.Done()

	if e.json {
		e.out.json(nodeshape.SecureConnection(s))
	} else {
		e.out.println(describeSocket("secureConnection from "+s.RemoteAddr().String(), s))
	}
	_, err := io.Copy(s, s)
	if err != nil && !isQuietEnd(err) {
		if e.json {
			e.out.json(nodeshape.ErrorFields(nodeshape.NewObject().Set("event", "socketError"), err))
		} else {
			e.out.println("socket error from " + s.RemoteAddr().String() + ": " + errorText(err))
		}
	}
	s.Close()
	e.mu.Lock()
	delete(e.secure, s)
	e.mu.Unlock()
}

// tlsClientError reports a failed handshake and destroys the socket, as Node
// applications do.
func (e *serverEvents) tlsClientError(err error, s *tls.Socket) {
	e.mu.Lock()
	closing := e.closing
	e.mu.Unlock()
	if closing {
		// The shutdown itself ended this handshake: no client error to report.
		if s != nil {
			s.Destroy()
			e.handshakeOver(s)
		}
		return
	}
	if e.json {
		e.out.json(nodeshape.TLSClientError(err))
	} else {
		from := ""
		if s != nil {
			from = " from " + s.RemoteAddr().String()
		}
		e.out.println("tlsClientError" + from + ": " + errorText(err))
	}
	if s != nil {
		s.Destroy()
		e.handshakeOver(s)
	}
}

func (e *serverEvents) newSession(id []byte) {
	if e.json {
		e.out.json(nodeshape.NewObject().Set("event", "newSession").Set("id", hex.EncodeToString(id)))
		return
	}
	e.out.println("newSession " + hex.EncodeToString(id))
}

func (e *serverEvents) resumeSession(id []byte, found bool) {
	if e.json {
		e.out.json(nodeshape.NewObject().Set("event", "resumeSession").Set("id", hex.EncodeToString(id)).Set("found", found))
		return
	}
	state := "not found"
	if found {
		state = "found"
	}
	e.out.println("resumeSession " + hex.EncodeToString(id) + " " + state)
}

// shutdown closes the open sockets (close_notify on secure ones), waits a
// little for their handlers and reports the server's close.
func (e *serverEvents) shutdown() {
	e.mu.Lock()
	e.closing = true
	secure := make([]*tls.Socket, 0, len(e.secure))
	for s := range e.secure {
		secure = append(secure, s)
	}
	raw := make([]net.Conn, 0, len(e.raw))
	for _, c := range e.raw {
		raw = append(raw, c)
	}
	e.mu.Unlock()
	for _, s := range secure {
		s.Close()
	}
	// Connections still in their handshake get no close_notify; closing
	// the transport of a secure one after its Close does nothing.
	for _, c := range raw {
		c.Close()
	}
	done := make(chan struct{})
	go func() {
		e.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	if e.json {
		e.out.json(nodeshape.NewObject().Set("event", "close"))
		return
	}
	e.out.println("server closed")
}

// isQuietEnd reports how a connection ends without an error worth printing:
// the peer's EOF, or our own close.
func isQuietEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// errorText is "CODE: message" of a Node error (just the message without a code).
func errorText(err error) string {
	var te *tls.Error
	if errors.As(err, &te) {
		msg := strings.TrimRight(te.Message, "\n")
		if te.Code != "" {
			return te.Code + ": " + msg
		}
		return msg
	}
	return err.Error()
}

// describeSocket is the human line of a secure socket.
func describeSocket(prefix string, s *tls.Socket) string {
	var b strings.Builder
	b.WriteString(prefix)
	c := s.GetCipher()
	fmt.Fprintf(&b, ": %s %s", s.GetProtocol(), c.StandardName)
	if s.Authorized() {
		b.WriteString(", authorized")
	} else if err := s.AuthorizationError(); err != nil {
		b.WriteString(", unauthorized (" + errorText(err) + ")")
	} else {
		b.WriteString(", unauthorized")
	}
	if n := s.Servername(); n != "" {
		b.WriteString(", servername " + n)
	}
	if p := s.ALPNProtocol(); p != "" {
		b.WriteString(", alpn " + p)
	}
	if s.IsSessionReused() {
		b.WriteString(", session reused")
	}
	if pc := s.GetPeerCertificate(false); pc != nil {
		b.WriteString(", peer " + pc.Subject.Get("CN"))
	}
	return b.String()
}

package tls

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// ServerOptions are the options of Node's tls.createServer: every
// createSecureContext option plus the server's own. Zero values mean Node's
// defaults.
type ServerOptions struct {
	SecureContextOptions
	// SecureContext is used instead of the embedded options when set.
	SecureContext *SecureContext
	// RequestCert asks clients for a certificate; RejectUnauthorized (nil =
	// true) then refuses clients whose certificate does not verify.
	RequestCert        bool
	RejectUnauthorized *bool
	// ALPNProtocols are the server's protocols in preference order; the
	// server picks its first one the client also offers, and ends the
	// handshake when there is none.
	ALPNProtocols []string
	// ALPNCallback picks the protocol itself (Node's ALPNCallback({servername,
	// protocols})): return one of protocols, or false to refuse the
	// handshake. It cannot be combined with ALPNProtocols (not even an
	// empty, non-nil list: Node's [] counts).
	ALPNCallback func(servername string, protocols []string) (string, bool)
	// ALPNSocketCallback is ALPNCallback with the socket being negotiated
	// (Node's `this` in ALPNCallback), e.g. to call SetKeyCert on it. Set at
	// most one of the two.
	ALPNSocketCallback func(s *Socket, servername string, protocols []string) (string, bool)
	// SNICallback picks the context for the name a client asks for (nil keeps
	// the default); an error ends the handshake. Without it, AddContext
	// entries are used.
	SNICallback func(servername string) (*SecureContext, error)
	// PSKCallback returns the pre-shared key for an identity; nil means the
	// identity is unknown. PSK cipher suites must be enabled in Ciphers.
	PSKCallback func(s *Socket, identity string) []byte
	// PSKIdentityHint is sent to clients (TLS 1.2), up to a NUL byte (Node
	// passes it to OpenSSL as a C string).
	PSKIdentityHint string
	// HandshakeTimeout (0 = 120 s) reports a handshake not done that long
	// after the connection came (bytes that arrive meanwhile do not restart
	// it) through OnTLSClientError with ERR_TLS_HANDSHAKE_TIMEOUT; as in
	// Node, the socket is not closed by it (close it in the handler).
	HandshakeTimeout time.Duration
	// EnableTrace writes OpenSSL's protocol trace of every connection to stderr.
	EnableTrace bool
	// ClientCipherOrder prefers the client's cipher order (Node's
	// honorCipherOrder: false); servers honor their own order by default.
	ClientCipherOrder bool
}

type sniEntry struct {
	re  *regexp.Regexp
	ctx *SecureContext
}

// sniIndex finds the newest addContext entry that matches a server name
// without trying every pattern: host names without a wildcard or a group
// match only themselves, so they are looked up in a map, and only the other
// entries newer than that match are tried, newest first (Node's order).
type sniIndex struct {
	entries  []sniEntry
	exact    map[string]int // literal host name -> index of its newest entry
	patterns []int          // indexes of the other entries, oldest first
}

// isLiteralHost reports whether an addContext host name matches only itself:
// ASCII, no "*", and none of the '(', ')', '|' that Node leaves to the
// pattern.
func isLiteralHost(hostname string) bool {
	for i := 0; i < len(hostname); i++ {
		switch c := hostname[i]; {
		case c >= 0x80, c == '*', c == '(', c == ')', c == '|':
			return false
		}
	}
	return true
}

func (x *sniIndex) add(hostname string, e sniEntry) {
	i := len(x.entries)
	x.entries = append(x.entries, e)
	if isLiteralHost(hostname) {
		if x.exact == nil {
			x.exact = map[string]int{}
		}
		x.exact[hostname] = i
		return
	}
	x.patterns = append(x.patterns, i)
}

func (x *sniIndex) match(name string) *SecureContext {
	best := -1
	if i, ok := x.exact[name]; ok {
		best = i
	}
	for k := len(x.patterns) - 1; k >= 0; k-- {
		i := x.patterns[k]
		if i < best {
			break
		}
		if x.entries[i].re.MatchString(name) {
			best = i
			break
		}
	}
	if best < 0 {
		return nil
	}
	return x.entries[best].ctx
}

// Server is Node's tls.Server: it accepts TCP connections (or any
// net.Listener's), runs each handshake on its own goroutine and reports the
// connection through its handlers. Node's server events are its On...
// methods ('secureConnection' is OnSecureConnection, 'tlsClientError' is
// OnTLSClientError, ...); several handlers may be registered for one event
// and run in registration order.
type Server struct {
	opts ServerOptions

	mu         sync.Mutex
	secure     *SecureContext
	ownSecure  bool
	contexts   sniIndex
	ticketKeys []byte
	listener   net.Listener
	closed     bool
	ready      chan struct{}

	onSecure    []func(*Socket)
	onConn      []func(net.Conn)
	onNewSess   []func(id, data []byte)
	onResume    []func(id []byte) []byte
	onClientErr []func(error, *Socket)
	onKeylog    []func([]byte, *Socket)
	onOCSP      []func(cert, issuer []byte) ([]byte, error)
}

// CreateServer is Node's tls.createServer(options, secureConnectionListener).
// The listener, when not nil, is the first OnSecureConnection handler.
func CreateServer(opts ServerOptions, onSecureConnection func(*Socket)) (*Server, error) {
	if opts.ALPNCallback != nil && opts.ALPNSocketCallback != nil {
		return nil, errInvalidArgValue("options.ALPNSocketCallback", "function", "cannot be combined with ALPNCallback")
	}
	// Node's test is truthiness: an empty list ([]) counts, a missing one not.
	if (opts.ALPNCallback != nil || opts.ALPNSocketCallback != nil) && opts.ALPNProtocols != nil {
		return nil, newError("ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS", "The ALPNCallback and ALPNProtocols TLS options are mutually exclusive")
	}
	if opts.HandshakeTimeout < 0 {
		return nil, errOutOfRange("options.handshakeTimeout", ">= 0", int64(opts.HandshakeTimeout/time.Millisecond))
	}
	for i, p := range opts.ALPNProtocols {
		if len(p) > 255 {
			return nil, errorf("ERR_OUT_OF_RANGE", "The byte length of the protocol at index %d exceeds the maximum length. It must be <= 255. Received %d", i, len(p))
		}
	}
	s := &Server{opts: opts, ticketKeys: opts.TicketKeys, ready: make(chan struct{})}
	if err := s.setSecureContext(opts.SecureContextOptions, opts.SecureContext); err != nil {
		return nil, err
	}
	if onSecureConnection != nil {
		s.onSecure = append(s.onSecure, onSecureConnection)
	}
	return s, nil
}

// defaultSessionIDContext is Node's: a hash of the program's command line, so
// that another program's session ids do not resume here.
func defaultSessionIDContext() string {
	sum := sha1.Sum([]byte(strings.Join(os.Args, " ")))
	return hex.EncodeToString(sum[:])[:32]
}

func (s *Server) setSecureContext(o SecureContextOptions, given *SecureContext) error {
	var sc *SecureContext
	own := false
	if given != nil {
		sc = given
	} else {
		o.HonorCipherOrder = !s.opts.ClientCipherOrder
		if o.SessionIDContext == "" {
			o.SessionIDContext = defaultSessionIDContext()
		}
		if o.TicketKeys == nil {
			o.TicketKeys = s.ticketKeys
		} else {
			s.ticketKeys = append([]byte(nil), o.TicketKeys...)
		}
		var err error
		if sc, err = createSecureContext(o, "options"); err != nil {
			return err
		}
		own = true
	}
	s.mu.Lock()
	old, oldOwn := s.secure, s.ownSecure
	s.secure, s.ownSecure = sc, own
	s.mu.Unlock()
	if old != nil && oldOwn {
		old.Close() // running sockets keep their own reference
	}
	return nil
}

// SetSecureContext is Node's server.setSecureContext(options): new
// connections use a context built from opts; open ones keep theirs.
func (s *Server) SetSecureContext(opts SecureContextOptions) error {
	return s.setSecureContext(opts, nil)
}

// AddContext is Node's server.addContext(hostname, context): connections
// whose SNI name matches hostname ("*.example.com" matches one label) use a
// context built from opts. The newest matching entry wins.
func (s *Server) AddContext(hostname string, opts SecureContextOptions) error {
	if hostname == "" {
		return newError("ERR_TLS_REQUIRED_SERVER_NAME", `"servername" is required parameter for Server.addContext`)
	}
	sc, err := CreateSecureContext(opts)
	if err != nil {
		return err
	}
	return s.AddSecureContext(hostname, sc)
}

// AddSecureContext is AddContext with a context made by CreateSecureContext
// (Node's addContext also takes a SecureContext).
func (s *Server) AddSecureContext(hostname string, sc *SecureContext) error {
	if hostname == "" {
		return newError("ERR_TLS_REQUIRED_SERVER_NAME", `"servername" is required parameter for Server.addContext`)
	}
	if sc == nil {
		return newError("ERR_TLS_INVALID_CONTEXT", "context must be a SecureContext")
	}
	pattern := sniPattern(hostname)
	re, err := regexp.Compile(pattern)
	if err != nil {
		return sniPatternError(pattern, err)
	}
	s.mu.Lock()
	s.contexts.add(hostname, sniEntry{re: re, ctx: sc})
	s.mu.Unlock()
	return nil
}

// sniPattern turns an addContext host name into Node's anchored pattern:
// the characters Node escapes (. ^ $ + ? - \\ [ ] { }) escaped, "*" matching
// one label or part of it. Like Node, it leaves '(', ')' and '|' alone:
// they group and alternate ("a(b|c).com").
func sniPattern(hostname string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range hostname {
		switch r {
		case '.', '^', '$', '+', '?', '-', '\\', '[', ']', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '*':
			b.WriteString("[^.]*")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString("$")
	return b.String()
}

// sniPatternError is the SyntaxError V8 throws for a pattern that does not
// compile (only parentheses can be unbalanced; Node's error has no code).
func sniPatternError(pattern string, err error) *Error {
	reason := err.Error()
	var re *syntax.Error
	if errors.As(err, &re) {
		switch re.Code {
		case syntax.ErrMissingParen:
			reason = "Unterminated group"
		case syntax.ErrUnexpectedParen:
			reason = "Unmatched ')'"
		}
	}
	return &Error{Message: fmt.Sprintf("Invalid regular expression: /%s/: %s", pattern, reason), Err: err}
}

func (s *Server) matchContext(name string) *SecureContext {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contexts.match(name)
}

// GetTicketKeys is Node's server.getTicketKeys(): a copy of the 48 bytes of
// session ticket keys in use.
func (s *Server) GetTicketKeys() []byte {
	s.mu.Lock()
	sc := s.secure
	s.mu.Unlock()
	return sc.GetTicketKeys()
}

// SetTicketKeys is Node's server.setTicketKeys(keys): tickets made or checked
// from now on use keys (exactly 48 bytes).
func (s *Server) SetTicketKeys(keys []byte) error {
	s.mu.Lock()
	sc := s.secure
	s.mu.Unlock()
	return sc.SetTicketKeys(keys)
}

// Listen is Node's server.listen(): it binds addr ("127.0.0.1:8000", ":0"),
// serves in the background and returns once bound.
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fromSocketError(err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return net.ErrClosed
	}
	s.listener = l
	s.mu.Unlock()
	go s.Serve(l) //nolint:errcheck // Serve's error after Close is net.ErrClosed
	return nil
}

// Serve accepts connections on l until Close, each handled on its own
// goroutine, like Node's server.listen(handle) on a listener made elsewhere
// (a Unix socket, an activation socket); it returns net.ErrClosed after
// Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listener = l
	s.mu.Unlock()
	var tempDelay time.Duration
	for {
		raw, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// A transient accept failure (e.g. out of file descriptors):
				// back off instead of spinning.
				if tempDelay == 0 {
					tempDelay = 5 * time.Millisecond
				} else if tempDelay *= 2; tempDelay > time.Second {
					tempDelay = time.Second
				}
				time.Sleep(tempDelay)
				continue
			}
			return fromSocketError(err)
		}
		tempDelay = 0
		go s.handle(raw)
	}
}

// Address is Node's server.address(): the address it listens on.
func (s *Server) Address() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Close is Node's server.close(): it stops accepting; open sockets stay
// until they are closed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	l := s.listener
	s.mu.Unlock()
	if l != nil {
		return l.Close()
	}
	return nil
}

// Emit feeds an already accepted connection to the server, as Node's
// server.emit('connection', socket) does.
func (s *Server) Emit(conn net.Conn) { go s.handle(conn) }

func (s *Server) handle(raw net.Conn) {
	s.mu.Lock()
	onConn := append([]func(net.Conn){}, s.onConn...)
	s.mu.Unlock()
	for _, f := range onConn {
		f(raw)
	}
	debugf("net.Server.on(connection): new TLSSocket")
	sock, err := s.newSocket(raw, nil)
	if err != nil {
		s.emitTLSClientError(err, nil)
		raw.Close()
		return
	}
	if err := sock.Handshake(context.Background()); err != nil {
		sock.emitClientError(err)
		sock.Destroy()
		return
	}
	debugf("server emit secureConnection")
	s.mu.Lock()
	handlers := append([]func(*Socket){}, s.onSecure...)
	s.mu.Unlock()
	for _, f := range handlers {
		f(sock)
	}
	sock.closeAtPeerEnd()
}

// newSocket makes the server side of a connection (used by Serve and by
// NewTLSSocket with a Server).
func (s *Server) newSocket(raw net.Conn, tlsOpts *TLSSocketOptions) (*Socket, error) {
	s.mu.Lock()
	sc := s.secure
	sessionHandlers := len(s.onNewSess) > 0 || len(s.onResume) > 0
	s.mu.Unlock()
	hsTimeout := s.opts.HandshakeTimeout
	if hsTimeout == 0 {
		hsTimeout = 120 * time.Second
	}
	debugf("server _init handle? true")
	sock := &Socket{
		transport:        raw,
		isServer:         true,
		server:           s,
		secure:           sc,
		requestCert:      s.opts.RequestCert,
		serverReject:     s.opts.RejectUnauthorized == nil || *s.opts.RejectUnauthorized,
		handshakeTimeout: hsTimeout,
		sniCallback:      s.opts.SNICallback,
		alpnProtocols:    s.opts.ALPNProtocols,
		alpnCallback:     s.opts.ALPNSocketCallback,
		pskServer:        s.opts.PSKCallback,
		sessionHandlers:  sessionHandlers,
	}
	if cb := s.opts.ALPNCallback; cb != nil {
		sock.alpnCallback = func(_ *Socket, servername string, protocols []string) (string, bool) {
			return cb(servername, protocols)
		}
	}
	trace := s.opts.EnableTrace
	if tlsOpts != nil {
		if tlsOpts.SecureContext != nil {
			sock.secure = tlsOpts.SecureContext
		}
		sock.requestCert = tlsOpts.RequestCert
		sock.serverReject = tlsOpts.RejectUnauthorized != nil && *tlsOpts.RejectUnauthorized
		if tlsOpts.SNICallback != nil {
			sock.sniCallback = tlsOpts.SNICallback
		}
		if len(tlsOpts.ALPNProtocols) > 0 {
			sock.alpnProtocols = tlsOpts.ALPNProtocols
		}
		trace = trace || tlsOpts.EnableTrace
	}
	cfg, err := sock.connConfig("", nil, nil, false, trace, nil)
	if err != nil {
		return nil, err
	}
	conn, err := openssl.Server(raw, sock.secure.ctx, cfg)
	if err != nil {
		var oe *openssl.Error
		if errors.As(err, &oe) && oe.Op == "SSL_use_psk_identity_hint" {
			// Node 20's code, misspelling included.
			return nil, &Error{Code: "ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED", Message: "Failed to set PSK identity hint", Err: err}
		}
		return nil, fromConfigError(err)
	}
	sock.conn = conn
	if cfg.EnableTrace {
		sock.EnableTrace() // says so when this OpenSSL cannot trace
	}
	debugf("server initRead handle? true buffered? 0")
	return sock, nil
}

func (s *Server) hasOCSPHandlers() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.onOCSP) > 0
}

// OnSecureConnection is Node's 'secureConnection' event: handler runs after
// each successful handshake, on the connection's goroutine; the socket is
// the handlers' to read, write and close. A socket the handlers ended (End)
// and left open when they returned closes itself when the client ends its
// side with nothing unread, as Node's does: socket.end(reply) and return
// leaves nothing behind.
func (s *Server) OnSecureConnection(fn func(*Socket)) {
	s.mu.Lock()
	s.onSecure = append(s.onSecure, fn)
	s.mu.Unlock()
}

// OnConnection is Node's 'connection' event: the raw connection, before TLS.
func (s *Server) OnConnection(fn func(net.Conn)) {
	s.mu.Lock()
	s.onConn = append(s.onConn, fn)
	s.mu.Unlock()
}

// OnNewSession is Node's 'newSession' event: a new TLS session (id and DER
// data) for an external session cache. Registering it (or OnResumeSession)
// turns on session-ID resumption for connections accepted afterwards; as in
// Node, there is no internal cache. A TLS 1.3 connection's sessions (one per
// ticket) are reported before its OnSecureConnection handlers run (Node:
// just after its secureConnection listeners).
func (s *Server) OnNewSession(fn func(id, data []byte)) {
	s.mu.Lock()
	s.onNewSess = append(s.onNewSess, fn)
	s.mu.Unlock()
}

// OnResumeSession is Node's 'resumeSession' event: a connection's first
// ClientHello with a session id and no session ticket asks for the DER data
// of that session; return nil when unknown (a full handshake follows). As in
// Node, TLS 1.3 clients' random legacy session ids are asked for too, and a
// TLS 1.3 session resumes only from a ticket.
func (s *Server) OnResumeSession(fn func(id []byte) (data []byte)) {
	s.mu.Lock()
	s.onResume = append(s.onResume, fn)
	s.mu.Unlock()
}

// OnTLSClientError is Node's 'tlsClientError' event: an error before a
// connection became secure (a failed handshake, ERR_TLS_HANDSHAKE_TIMEOUT,
// ECONNRESET "socket hang up"), at most once per connection.
func (s *Server) OnTLSClientError(fn func(err error, s *Socket)) {
	s.mu.Lock()
	s.onClientErr = append(s.onClientErr, fn)
	s.mu.Unlock()
}

// OnKeylog is Node's server 'keylog' event: NSS key log lines (ending in
// "\n") of every connection, for Wireshark.
func (s *Server) OnKeylog(fn func(line []byte, s *Socket)) {
	s.mu.Lock()
	s.onKeylog = append(s.onKeylog, fn)
	s.mu.Unlock()
}

// OnOCSPRequest is Node's 'OCSPRequest' event: when a client asks for OCSP
// stapling, fn gets the server certificate and its issuer (DER; issuer nil
// when unknown) and returns a DER OCSP response to staple, nil for none, or
// an error that ends the handshake.
func (s *Server) OnOCSPRequest(fn func(cert, issuer []byte) (response []byte, err error)) {
	s.mu.Lock()
	s.onOCSP = append(s.onOCSP, fn)
	s.mu.Unlock()
}

func (s *Server) hasKeylogHandlers() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.onKeylog) > 0
}

func (s *Server) emitTLSClientError(err error, sock *Socket) {
	s.mu.Lock()
	fns := append([]func(error, *Socket){}, s.onClientErr...)
	s.mu.Unlock()
	for _, f := range fns {
		f(err, sock)
	}
}

func (s *Server) emitKeylog(line []byte, sock *Socket) {
	s.mu.Lock()
	fns := append([]func([]byte, *Socket){}, s.onKeylog...)
	s.mu.Unlock()
	for _, f := range fns {
		f(line, sock)
	}
}

func (s *Server) emitNewSession(id, data []byte) {
	s.mu.Lock()
	fns := append([]func(id, data []byte){}, s.onNewSess...)
	s.mu.Unlock()
	for _, f := range fns {
		f(id, data)
	}
}

func (s *Server) emitResumeSession(id []byte) []byte {
	s.mu.Lock()
	fns := append([]func(id []byte) []byte{}, s.onResume...)
	s.mu.Unlock()
	for _, f := range fns {
		if d := f(id); d != nil {
			return d
		}
	}
	return nil
}

func (s *Server) emitOCSPRequest(cert, issuer []byte) ([]byte, error) {
	s.mu.Lock()
	fns := append([]func(cert, issuer []byte) ([]byte, error){}, s.onOCSP...)
	s.mu.Unlock()
	for _, f := range fns {
		resp, err := f(cert, issuer)
		if err != nil || resp != nil {
			return resp, err
		}
	}
	return nil, nil
}

package tls

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nodetls/nodetls/internal/jsstring"
	"github.com/nodetls/nodetls/openssl"
)

// Socket is Node's tls.TLSSocket: a TLS connection, client or server side. It
// implements net.Conn (Read, Write, Close, deadlines) and has Node's methods
// and properties as Go methods (socket.authorized is Authorized(),
// getPeerCertificate() is GetPeerCertificate). Node's stream events become Go
// calls: 'data' is Read, 'end' is Read's io.EOF, 'secureConnect' is Connect
// returning; the others are On... registrations. Read and Write may be used
// from different goroutines at the same time; the first of them runs the
// handshake when Handshake was not called.
type Socket struct {
	conn      *openssl.Conn
	transport net.Conn
	isServer  bool
	server    *Server // the server whose events this socket reports, if any
	secure    *SecureContext
	ownCtx    bool // secure was made for this socket alone (closed with it)

	// Client side: what Connect was asked, for verification.
	hostForIdentity     string
	rejectUnauthorized  bool
	checkServerIdentity func(string, *Certificate) error
	customIdentityCheck bool // checkServerIdentity is the caller's, not CheckServerIdentity
	minDHSize           int
	verifyIdentity      bool
	connectHost         string // Connect's Host and Port as given, for errors
	connectPort         int

	// Server side.
	requestCert      bool
	serverReject     bool
	handshakeTimeout time.Duration
	sniCallback      func(string) (*SecureContext, error)
	alpnProtocols    []string
	alpnCallback     func(s *Socket, servername string, protocols []string) (string, bool)
	inCallback       atomic.Bool // a handshake callback of this socket is running
	pskServer        func(s *Socket, identity string) []byte
	sessionHandlers  bool

	hsOnce sync.Once
	hsErr  error

	mu             sync.Mutex
	authorized     bool
	authErr        *Error
	secured        bool
	closed         bool
	rejected       bool   // a server refused its client's certificate, or a client its server's
	dhErr          *Error // a client's ERR_TLS_DH_PARAM_SIZE
	errorEmitted   bool   // tlsClientError or the client's error was reported
	hookErr        error
	sessionFns     []func([]byte)
	pendingSession [][]byte
	sessionReady   bool // secureConnect happened: sessions may be delivered
	keylog         replayEvent
	ocsp           replayEvent
	errorFns       []func(error)
	pendingErrs    []error
	secureFns      []func()
	handshakes     int
	lastHandshake  time.Time
	noReneg        bool
	sni            string         // the name the client asked for (server side)
	sniContext     *SecureContext // the context chosen for it, if any
	sniCertErr     error          // the SNI context had no certificate to use
	helloSeen      bool           // the first ClientHello was seen
	nextSession    *openssl.Session

	// lastALPN and lastName are the ALPN protocol and (on a client) the
	// server name of the last handshake, for ALPNProtocol and Servername
	// once the connection is gone (Node's properties outlive it). Under mu.
	lastALPN, lastName string

	// readMu serialises reads, so Renegotiate can read for itself while no
	// Read runs; what it reads waits in pending. So does closeAtPeerEnd;
	// peerEnded is set when it saw the end of the stream and closed the
	// socket, for the Reads after that.
	readMu    sync.Mutex
	pending   []byte
	peerEnded bool
	ended     bool // End sent close_notify (under mu)
}

var _ net.Conn = (*Socket)(nil)

// connConfig builds the engine's callbacks for this socket.
func (s *Socket) connConfig(servername string, alpn []string, session []byte, requestOCSP, trace bool,
	pskClient func(hint string) ([]byte, string, bool)) (openssl.ConnConfig, error) {
	cfg := openssl.ConnConfig{
		EnableTrace: trace || traceAll(),
		Keylog: func(line string) {
			s.deliverKeylog([]byte(line + "\n"))
		},
		OnHandshakeStart: s.onHandshakeStart,
		OnHandshakeDone:  s.onHandshakeDone,
	}
	if s.isServer {
		cfg.RequestClientCert = s.requestCert
		cfg.RequireClientCert = s.requestCert && s.serverReject
		cfg.ServerNameCallback = s.recordSNI
		cfg.OnCertificate = s.selectSNI
		if s.alpnCallback != nil || len(s.alpnProtocols) > 0 {
			cfg.SelectALPN = s.selectALPN
		}
		if s.pskServer != nil {
			cfg.PSKServer = func(identity string) ([]byte, error) {
				if !utf8.ValidString(identity) {
					return nil, nil // Node does not ask: the identity is unknown
				}
				key := s.pskServer(s, identity)
				if len(key) > openssl.PSKMaxKeyLen {
					return nil, errPSKTooLong("psk", key)
				}
				return key, nil
			}
		}
		if srv := s.server; srv != nil {
			if hint := srv.opts.PSKIdentityHint; hint != "" {
				// Node hands OpenSSL the hint as a C string: it ends at a NUL.
				if i := strings.IndexByte(hint, 0); i >= 0 {
					hint = hint[:i]
				}
				cfg.PSKIdentityHint = hint
			}
			if s.sessionHandlers {
				cfg.OnNewSession = s.serverNewSession
				cfg.GetSession = s.serverGetSession
				cfg.OnClientHello = s.serverClientHello
			}
			if srv.hasOCSPHandlers() {
				cfg.OCSPRequest = s.serverOCSPRequest
			}
		}
	} else {
		cfg.ServerName = servername
		cfg.ALPNProtocols = alpn
		cfg.OnNewSession = func(sess *openssl.Session) {
			der := sess.DER()
			sess.Free()
			s.deliverSession(der)
		}
		if len(session) > 0 {
			sess, err := openssl.ParseSession(session)
			if err == nil {
				cfg.Session = sess // a bad session is ignored, as in Node
			}
		}
		cfg.RequestOCSP = requestOCSP
		if requestOCSP {
			cfg.OnOCSPResponse = func(resp []byte) { s.deliverOCSP(resp) }
		}
		if pskClient != nil {
			cfg.PSKClient = func(hint string, hasHint bool) (string, []byte, error) {
				psk, identity, ok := pskClient(jsstring.UTF8(hint))
				if !ok || psk == nil {
					return "", nil, nil
				}
				// Node's order: the key's length, then the identity's.
				if len(psk) > openssl.PSKMaxKeyLen {
					return "", nil, errPSKTooLong("psk", psk)
				}
				if len(identity) > openssl.PSKMaxIdentityLen {
					return "", nil, errPSKTooLong("identity", identity)
				}
				// OpenSSL takes the identity as a C string: it ends at a NUL.
				if i := strings.IndexByte(identity, 0); i >= 0 {
					identity = identity[:i]
				}
				return identity, psk, nil
			}
		}
	}
	return cfg, nil
}

// Handshake runs the TLS handshake and Node's checks after it (verification
// of the peer, the host name check on clients), once; later calls return the
// first result. Connect and servers run it before handing a socket over; on
// a socket from NewTLSSocket the first Read or Write runs it, or call it to
// handshake before any data, with a context that can cancel it.
func (s *Socket) Handshake(ctx context.Context) error {
	s.hsOnce.Do(func() { s.hsErr = s.handshake(ctx) })
	return s.hsErr
}

func (s *Socket) handshake(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var stop func()
	if s.isServer && s.handshakeTimeout > 0 {
		stop = s.armHandshakeTimer()
	}
	err := s.conn.Handshake(ctx)
	if stop != nil {
		stop()
	}
	s.dropNextSession()
	if err != nil {
		return s.handshakeError(err)
	}
	debugf("%s onhandshakedone", s.side())
	s.debugFinishInit()
	if s.isServer {
		return s.serverSecure()
	}
	return s.clientSecure()
}

// debugFinishInit is Node's "_finishInit" debug line: the handshake is done.
func (s *Socket) debugFinishInit() {
	if !debugOn() {
		return
	}
	alpn, name := s.ALPNProtocol(), s.Servername()
	if alpn == "" {
		alpn = "false"
	}
	if name == "" {
		name = "false"
	}
	debugf("%s _finishInit handle? true alpn %s servername %s", s.side(), alpn, name)
}

func (s *Socket) side() string {
	if s.isServer {
		return "server"
	}
	return "client"
}

// handshakeError gives the error Node reports for a failed handshake.
func (s *Socket) handshakeError(err error) error {
	s.mu.Lock()
	hook := s.hookErr
	stale := s.sniCertErr
	s.mu.Unlock()
	if hook != nil {
		return hook
	}
	if stale != nil {
		return fromSocketError(stale)
	}
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Message: err.Error(), Err: err}
	}
	if isTransportEOF(err) && !isStreamErrno(err) {
		if s.isServer {
			e := errSocketHangUp()
			e.Err = err
			return e
		}
		e := errClientDisconnected(s.connectHost, s.connectPort)
		e.Err = err
		return e
	}
	err = fromSocketError(err)
	debugf("%s onerror %v had? false", s.side(), err)
	return err
}

// armHandshakeTimer starts the server's handshake timer; the returned
// function stops it. As Node's, it runs from the start of the handshake: the
// handshake's own reads and writes do not restart it (in Node they move
// ciphertext below the TLS socket, whose timer only its own reads and writes
// refresh), so a client that sends its hello a byte at a time is still cut
// off.
func (s *Socket) armHandshakeTimer() func() {
	t := time.AfterFunc(s.handshakeTimeout, func() { s.emitClientError(errHandshakeTimeout()) })
	return func() { t.Stop() }
}

// emitClientError reports err once, through the server's tlsClientError
// handlers (server sockets before secureConnection).
func (s *Socket) emitClientError(err error) {
	s.mu.Lock()
	if s.errorEmitted || s.secured {
		s.mu.Unlock()
		return
	}
	s.errorEmitted = true
	s.mu.Unlock()
	var te *Error
	if !errors.As(err, &te) || te.Message != errSocketHangUp().Message {
		// Node reports a hang-up without a debug line (onSocketClose).
		debugf("server emit tlsClientError: %v", err)
	}
	if s.server != nil {
		s.server.emitTLSClientError(err, s)
	}
}

// clientSecure is the end of Node's onConnectSecure, once the handshake has
// returned: it reports judgeServer's verdict (and Node's debug lines), and
// on success lets the session events through.
func (s *Socket) clientSecure() error {
	s.mu.Lock()
	dhErr, verifyErr, rejected := s.dhErr, s.authErr, s.rejected
	s.mu.Unlock()
	if dhErr != nil {
		debugf("client emit: %v", dhErr)
		return dhErr
	}
	if rejected {
		return verifyErr
	}
	if verifyErr != nil {
		debugf("client emit secureConnect. rejectUnauthorized: false, authorizationError: %s", verifyErr.Code)
	} else {
		debugf("client emit secureConnect. authorized: true")
	}
	s.mu.Lock()
	s.secured = true
	s.sessionReady = true
	s.mu.Unlock()
	s.flushSessions()
	return nil
}

// judgeServer is the verification of Node's onConnectSecure: the DH size
// check, the verify result, then the host name check unless the session was
// resumed. It runs as the first handshake ends, before the handshake's last
// flight is sent: Node judges the server before it writes that flight, so a
// TLS 1.3 server that a client rejects never gets the client's Finished
// (it reports a hang-up, not a connection). clientSecure reports the verdict.
func (s *Socket) judgeServer() {
	if ek := s.GetEphemeralKeyInfo(); ek.Type == "DH" && ek.Size < s.minDHSize {
		err := errorf("ERR_TLS_DH_PARAM_SIZE", "DH parameter size %d is less than %d", ek.Size, s.minDHSize)
		s.mu.Lock()
		s.dhErr = err
		s.mu.Unlock()
		s.Destroy()
		return
	}
	verifyErr := s.verifyError()
	if verifyErr == nil && s.verifyIdentity && !s.IsSessionReused() {
		if err := s.checkIdentity(); err != nil {
			var te *Error
			if !errors.As(err, &te) {
				te = &Error{Message: err.Error(), Err: err}
			}
			verifyErr = te
		}
	}
	s.mu.Lock()
	s.authorized = verifyErr == nil
	s.authErr = verifyErr
	s.rejected = verifyErr != nil && s.rejectUnauthorized
	rejected := s.rejected
	s.mu.Unlock()
	if rejected {
		s.Destroy()
	}
}

// checkIdentity runs checkServerIdentity on the detailed peer certificate,
// as Node's onConnectSecure does. CheckServerIdentity reads only the leaf's
// subject and subjectaltname: when it is the check, it gets a certificate
// with those alone first, and the whole object (the error carries it) only
// when that fails.
func (s *Socket) checkIdentity() error {
	if !s.customIdentityCheck && !s.Destroyed() {
		if leaf := s.conn.PeerCertificate(); leaf != nil {
			ci, err := leaf.IdentityInfo()
			leaf.Free()
			if err == nil && CheckServerIdentity(s.hostForIdentity,
				&Certificate{Subject: Name(ci.Subject.Map()), SubjectAltName: ci.SubjectAltName}) == nil {
				return nil
			}
		}
	}
	return s.checkServerIdentity(s.hostForIdentity, s.GetPeerCertificate(true))
}

// judgeClient is the verification of Node's onServerSocketSecure. It runs as
// each handshake ends, before the handshake's last flight is sent: Node
// judges the client before it writes that flight, so a rejected TLS 1.2
// client never gets the server's Finished (nor a TLS 1.3 client its tickets).
// As in Node, a later success sets authorized but leaves an earlier
// authorizationError, and a failure does not clear authorized.
func (s *Socket) judgeClient() {
	s.mu.Lock()
	request := s.requestCert
	s.mu.Unlock()
	if !request {
		return
	}
	verr := s.verifyError()
	s.mu.Lock()
	if verr == nil {
		s.authorized = true
		s.mu.Unlock()
		return
	}
	s.authErr = verr
	s.rejected = s.serverReject
	s.mu.Unlock()
	if s.rejected {
		// Node destroys the socket quietly; its close then reports "socket
		// hang up" through tlsClientError.
		s.Destroy()
	}
}

// serverSecure is Node's onServerSocketSecure, after judgeClient.
func (s *Socket) serverSecure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejected {
		return errSocketHangUp()
	}
	s.secured = true
	return nil
}

// verifyError is Node's VerifyPeerCertificate: the verify result when the
// peer sent a certificate; none is fine for PSK (and TLS 1.3 resumption);
// otherwise UNABLE_TO_GET_ISSUER_CERT.
func (s *Socket) verifyError() *Error {
	peer := s.conn.PeerCertificate()
	var code int64
	if peer != nil {
		peer.Free()
		code = s.conn.VerifyResult()
	} else {
		ci, _ := s.conn.Cipher()
		if ci.AuthPSK || (s.conn.ProtocolVersion() == openssl.TLS1_3 && s.conn.SessionReused()) {
			code = 0
		} else {
			code = openssl.VerifyErrUnableToGetIssuerCert
		}
	}
	if code == 0 {
		return nil
	}
	return &Error{Code: openssl.VerifyCodeName(code), Message: openssl.VerifyErrorString(code)}
}

// onHandshakeStart applies Node's renegotiation limit on server sockets.
func (s *Socket) onHandshakeStart(n int) {
	if !s.isServer {
		return
	}
	debugf("server onhandshakestart")
	now := time.Now()
	s.mu.Lock()
	last := s.lastHandshake
	s.lastHandshake = now
	if last.IsZero() {
		s.mu.Unlock()
		return
	}
	if now.Sub(last) >= ClientRenegWindow {
		s.handshakes = 1
	} else {
		s.handshakes++
	}
	over := s.handshakes > ClientRenegLimit
	disabled := s.noReneg
	s.mu.Unlock()
	switch {
	case over:
		s.emitError(errSessionAttack())
	case disabled:
		s.emitError(errRenegotiationDisabled())
	}
}

func (s *Socket) onHandshakeDone(n int) {
	alpn, name := s.conn.ALPNProtocol(), s.conn.ServerName()
	s.mu.Lock()
	s.lastALPN, s.lastName = alpn, name
	s.mu.Unlock()
	if s.isServer {
		// Node's onServerSocketSecure listens to every 'secure': a
		// renegotiation judges the client again.
		s.judgeClient()
	} else if n == 1 {
		// Node's onConnectSecure, once.
		s.judgeServer()
	}
	if n > 1 {
		// A renegotiation; the first handshake is reported by handshake.
		debugf("%s onhandshakedone", s.side())
		s.debugFinishInit()
	}
	s.mu.Lock()
	fns := append([]func(){}, s.secureFns...)
	s.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// emitError is Node's socket 'error' event: handlers registered with OnError
// get it; without one, the next Read returns it.
func (s *Socket) emitError(err error) {
	s.mu.Lock()
	fns := append([]func(error){}, s.errorFns...)
	if len(fns) == 0 {
		s.pendingErrs = append(s.pendingErrs, err)
	}
	s.mu.Unlock()
	for _, f := range fns {
		f(err)
	}
}

// OnError registers a handler for the errors Node emits on a connected socket
// outside of a read or write (its 'error' event), such as
// ERR_TLS_SESSION_ATTACK. Without a handler, such an error is returned by the
// next Read.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.errorFns = append(s.errorFns, fn)
	pend := s.pendingErrs
	s.pendingErrs = nil
	s.mu.Unlock()
	for _, e := range pend {
		fn(e)
	}
}

// OnSecure registers a handler for every completed handshake, renegotiations
// included (Node's 'secure' event).
func (s *Socket) OnSecure(fn func()) {
	s.mu.Lock()
	s.secureFns = append(s.secureFns, fn)
	s.mu.Unlock()
}

// Read reads data (net.Conn; Node's 'data' events). It returns io.EOF after
// the peer's close_notify (Node's 'end').
func (s *Socket) Read(p []byte) (int, error) {
	if err := s.Handshake(context.Background()); err != nil {
		return 0, err
	}
	s.mu.Lock()
	if len(s.pendingErrs) > 0 {
		err := s.pendingErrs[0]
		s.pendingErrs = s.pendingErrs[1:]
		s.mu.Unlock()
		return 0, err
	}
	s.mu.Unlock()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	if s.peerEnded {
		return 0, io.EOF
	}
	n, err := s.conn.Read(p)
	if err != nil && errors.Is(err, io.ErrUnexpectedEOF) && s.isSecure() {
		// As Node: once the handshake is done, a transport that ends
		// without close_notify is the end of the stream ('end'), not an error.
		return n, io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if n == 0 {
			s.mu.Lock()
			if len(s.pendingErrs) > 0 {
				e := s.pendingErrs[0]
				s.pendingErrs = s.pendingErrs[1:]
				s.mu.Unlock()
				return 0, e
			}
			s.mu.Unlock()
		}
		return n, s.ioError(err)
	}
	return n, err
}

// Write writes data (net.Conn; Node's socket.write()).
func (s *Socket) Write(p []byte) (int, error) {
	if err := s.Handshake(context.Background()); err != nil {
		return 0, err
	}
	n, err := s.conn.Write(p)
	if err != nil {
		return n, s.ioError(err)
	}
	return n, nil
}

// ioError keeps net.Conn's sentinel errors recognisable and turns TLS
// failures into Node's errors.
func (s *Socket) ioError(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || isTimeout(err) {
		return err
	}
	return fromSocketError(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Close sends close_notify (after a completed handshake) and closes the
// connection (net.Conn; Node's socket.end() followed by destroy()). A second
// Close returns net.ErrClosed.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	err := s.conn.Close()
	if s.ownCtx {
		s.secure.Close()
	}
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Destroy closes the connection at once, as Node's destroy(): no
// close_notify, and TLS output not yet written (say, the reply to a
// renegotiation that started) is dropped.
func (s *Socket) Destroy() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	_ = s.conn.Abort()
	if s.ownCtx {
		s.secure.Close()
	}
}

// Destroyed is Node's socket.destroyed: whether Destroy or Close has run,
// by the caller or by nodetls (a server destroys a client it rejects). As in
// Node, whose getters answer null once the socket is destroyed, GetProtocol,
// GetCipher, GetCertificate, GetPeerCertificate (and their X509 forms),
// GetSession, GetTLSTicket, IsSessionReused, GetFinished, GetPeerFinished,
// GetEphemeralKeyInfo and GetSharedSigalgs then return their zero values:
// read what you need before closing, or keep sessions from OnSession.
func (s *Socket) Destroyed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// End sends close_notify and half-closes the connection, like Node's end();
// reading goes on until the peer closes. A server socket that its
// secureConnection handlers ended and left open when they returned closes
// itself at the peer's end of the stream, as Node's does (see
// OnSecureConnection).
func (s *Socket) End() error {
	if err := s.Handshake(context.Background()); err != nil {
		return err
	}
	if err := s.conn.CloseWrite(); err != nil {
		return err
	}
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	return nil
}

// closeAtPeerEnd runs when a server's handlers have returned: a socket they
// ended and left open waits for the peer's end of the stream and closes, as
// Node's sockets (not half-open by default) close themselves when the peer
// ends with nothing unread. It reads under readMu, as a Read does (the
// socket may have been handed to another goroutine): at the peer's end it
// closes the socket (later Reads return io.EOF); data that comes first
// waits in pending for a Read, and the socket stays open until its owner
// reads and closes it, as Node's stays until its data is read; a deadline,
// an error or a Close leave the socket to its owner.
func (s *Socket) closeAtPeerEnd() {
	s.mu.Lock()
	ended := s.ended
	s.mu.Unlock()
	if !ended {
		return
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if len(s.pending) > 0 || s.peerEnded || s.Destroyed() {
		return
	}
	buf := make([]byte, 4096)
	n, err := s.conn.Read(buf)
	if n > 0 {
		s.pending = append(s.pending, buf[:n]...)
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) && s.isSecure() {
		s.peerEnded = true
		_ = s.Close()
	}
}

// LocalAddr is the local address (net.Conn; Node's socket.localAddress and
// socket.localPort).
func (s *Socket) LocalAddr() net.Addr { return s.transport.LocalAddr() }

// RemoteAddr is the remote address (net.Conn; Node's socket.remoteAddress,
// remotePort and remoteFamily).
func (s *Socket) RemoteAddr() net.Addr { return s.transport.RemoteAddr() }

// SetDeadline sets the read and write deadlines (net.Conn). It is Go's
// counterpart of Node's socket.setTimeout(): I/O past the deadline fails
// with os.ErrDeadlineExceeded instead of a 'timeout' event.
func (s *Socket) SetDeadline(t time.Time) error { return s.conn.SetDeadline(t) }

// SetReadDeadline sets the read deadline (net.Conn); see SetDeadline.
func (s *Socket) SetReadDeadline(t time.Time) error { return s.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline (net.Conn); see SetDeadline.
func (s *Socket) SetWriteDeadline(t time.Time) error { return s.conn.SetWriteDeadline(t) }

// Authorized is Node's socket.authorized: the peer's certificate was verified
// (and, on clients, matched the host name). Server sockets without
// RequestCert are never authorized.
func (s *Socket) Authorized() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorized
}

// AuthorizationError is Node's socket.authorizationError: why the peer is not
// authorized (Code is a verify code such as "DEPTH_ZERO_SELF_SIGNED_CERT", or
// "ERR_TLS_CERT_ALTNAME_INVALID"); nil when authorized or never checked.
func (s *Socket) AuthorizationError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authErr == nil {
		return nil
	}
	return s.authErr
}

// Encrypted is Node's socket.encrypted: always true.
func (s *Socket) Encrypted() bool { return true }

// ALPNProtocol is Node's socket.alpnProtocol: the negotiated protocol (its
// bytes read as Latin-1, as Node reads them), "" when none was (Node: false).
func (s *Socket) ALPNProtocol() string {
	if s.Destroyed() {
		// Node's alpnProtocol is a property: it outlives the connection.
		s.mu.Lock()
		defer s.mu.Unlock()
		return jsstring.Latin1(s.lastALPN)
	}
	return jsstring.Latin1(s.conn.ALPNProtocol())
}

// Servername is Node's socket.servername: on a client the name it asked for,
// on a server the name the client sent ("" when none; Node: false).
//
// The name is OpenSSL's bytes read as Latin-1, as Node reads it: a client
// sends a Servername as UTF-8, so "é.example" comes back "Ã©.example".
func (s *Socket) Servername() string {
	if !s.isServer && s.Destroyed() {
		s.mu.Lock()
		defer s.mu.Unlock()
		return jsstring.Latin1(s.lastName) // a property in Node, kept once closed
	}
	if name := s.conn.ServerName(); name != "" || !s.isServer {
		return jsstring.Latin1(name)
	}
	return s.sniName() // the name the ClientHello asked for, also once closed
}

// Cipher is the negotiated cipher as Node's getCipher() gives it.
type Cipher struct {
	Name         string // OpenSSL's name: "ECDHE-RSA-AES128-GCM-SHA256"
	StandardName string // the IETF name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	Version      string // the lowest protocol version of the suite: "TLSv1.2"
}

// GetCipher is Node's getCipher(); zero before the handshake.
func (s *Socket) GetCipher() Cipher {
	ci, ok := s.conn.Cipher()
	if !ok || s.Destroyed() {
		return Cipher{}
	}
	return Cipher{Name: ci.Name, StandardName: ci.StandardName, Version: ci.Version}
}

// GetProtocol is Node's getProtocol(): "TLSv1.3", "TLSv1.2", "TLSv1.1",
// "TLSv1"; "" once the socket is closed (Node: null).
func (s *Socket) GetProtocol() string {
	if s.Destroyed() {
		return ""
	}
	return s.conn.Version()
}

// GetPeerCertificate is Node's getPeerCertificate(detailed): the peer's
// certificate, nil when it sent none (Node: {}). With detailed, the chain is
// filled in through IssuerCertificate, a self-signed root pointing to itself.
// As in Node, a client reads the certificate from the chain the server sent,
// so a client whose session was resumed from GetSession data (which keeps no
// chain) gets nil.
func (s *Socket) GetPeerCertificate(detailed bool) *Certificate {
	if s.Destroyed() || !s.isServer && !s.peerSentChain() {
		return nil
	}
	if !detailed {
		c := s.conn.PeerCertificate()
		if c == nil {
			return nil
		}
		defer c.Free()
		return certificateFrom(c)
	}
	chain := s.conn.PeerCertificateChain()
	defer func() {
		for _, c := range chain {
			c.Free()
		}
	}()
	return certificateChainFrom(chain)
}

// peerSentChain reports whether the connection holds the chain the peer sent.
func (s *Socket) peerSentChain() bool {
	chain := s.conn.PeerSentChain()
	for _, c := range chain {
		c.Free()
	}
	return len(chain) > 0
}

// GetCertificate is Node's getCertificate(): the local certificate, nil when
// none (Node: {}).
func (s *Socket) GetCertificate() *Certificate {
	if s.Destroyed() {
		return nil
	}
	c := s.conn.LocalCertificate()
	if c == nil {
		return nil
	}
	defer c.Free()
	return certificateFrom(c)
}

// GetX509Certificate is Node's getX509Certificate(), for Go code that
// expects crypto/x509; nil when there is no local certificate.
func (s *Socket) GetX509Certificate() *x509.Certificate {
	c := s.GetCertificate()
	if c == nil {
		return nil
	}
	x, err := c.X509()
	if err != nil {
		return nil
	}
	return x
}

// GetPeerX509Certificate is Node's getPeerX509Certificate(); nil when the
// peer sent no certificate.
func (s *Socket) GetPeerX509Certificate() *x509.Certificate {
	c := s.GetPeerCertificate(false)
	if c == nil {
		return nil
	}
	x, err := c.X509()
	if err != nil {
		return nil
	}
	return x
}

// GetSession is Node's getSession(): the session as DER, reusable as
// ConnectOptions.Session; nil when there is none. On TLS 1.3 the resumable
// sessions arrive after the handshake: use OnSession.
func (s *Socket) GetSession() []byte {
	if s.Destroyed() {
		return nil
	}
	sess := s.conn.Session()
	if sess == nil {
		return nil
	}
	defer sess.Free()
	return sess.DER()
}

// GetTLSTicket is Node's getTLSTicket(): the ticket a client received; nil
// on servers and without a ticket.
func (s *Socket) GetTLSTicket() []byte {
	if s.isServer || s.Destroyed() {
		return nil
	}
	return s.conn.Ticket()
}

// IsSessionReused is Node's isSessionReused(). A TLS 1.3 PSK handshake
// counts as reused, as in Node.
func (s *Socket) IsSessionReused() bool { return !s.Destroyed() && s.conn.SessionReused() }

// RenegotiateOptions are the options of Node's renegotiate().
// Each field left unset keeps the server socket's setting (from
// ServerOptions or an earlier Renegotiate), as an option Node's renegotiate
// is not given; a client socket ignores them, as Node's does.
type RenegotiateOptions struct {
	// RejectUnauthorized, when set, says whether the server refuses (and
	// destroys) a client whose certificate does not verify in this and
	// later handshakes.
	RejectUnauthorized *bool
	// RequestCert makes a server ask the client for a certificate in the new
	// handshake (how a server asks for one after the connection is up). A
	// renegotiation that resumes the session exchanges no certificates.
	RequestCert bool
}

// Renegotiate is Node's renegotiate(options, callback): it starts a TLS 1.2
// renegotiation and returns when it has completed. On TLS 1.3 it fails with
// ERR_SSL_WRONG_SSL_VERSION.
func (s *Socket) Renegotiate(opts RenegotiateOptions) error {
	if err := s.Handshake(context.Background()); err != nil {
		return err
	}
	if s.isServer && (opts.RequestCert || opts.RejectUnauthorized != nil) {
		// As Node's options, each field left unset keeps the socket's
		// setting.
		s.mu.Lock()
		s.requestCert = s.requestCert || opts.RequestCert
		if opts.RejectUnauthorized != nil {
			s.serverReject = *opts.RejectUnauthorized
		}
		request, reject := s.requestCert, s.serverReject
		s.mu.Unlock()
		s.conn.SetVerifyMode(request, request && reject)
	}
	debugf("%s renegotiate()", s.side())
	before := s.conn.HandshakeCount()
	if err := s.conn.Renegotiate(); err != nil {
		// Node's renegotiate() passes SSL_renegotiate's error to its
		// callback as a thrown crypto error ("error:0A00010A:SSL
		// routines::wrong ssl version" on TLS 1.3).
		return fromConfigError(err)
	}
	// The handshake completes as records are read. Read for ourselves while
	// no Read is running, keeping application data for the next Read.
	buf := make([]byte, 16*1024)
	for s.conn.HandshakeCount() == before {
		if !s.readMu.TryLock() {
			time.Sleep(time.Millisecond)
			continue
		}
		if s.conn.HandshakeCount() != before {
			s.readMu.Unlock()
			break
		}
		n, err := s.conn.ReadUntilHandshake(buf, before)
		s.pending = append(s.pending, buf[:n]...)
		s.readMu.Unlock()
		if err != nil {
			return s.ioError(err)
		}
	}
	return nil
}

// DisableRenegotiation is Node's disableRenegotiation(): a later
// renegotiation by the peer is an ERR_TLS_RENEGOTIATION_DISABLED error on
// this socket.
func (s *Socket) DisableRenegotiation() {
	s.mu.Lock()
	s.noReneg = true
	s.mu.Unlock()
}

// ExportKeyingMaterial is Node's exportKeyingMaterial(length, label[,
// context]); a nil context means none (Node: undefined), an empty one is used.
func (s *Socket) ExportKeyingMaterial(length int, label string, context []byte) ([]byte, error) {
	if length < 1 || length > 4294967295 {
		return nil, errOutOfRange("length", ">= 1 && <= 4294967295", length)
	}
	if !s.isSecure() {
		return nil, newError("ERR_TLS_INVALID_STATE", "TLS socket connection must be securely established")
	}
	out, err := s.conn.ExportKeyingMaterial(length, label, context, context != nil)
	if err != nil {
		return nil, fromConfigError(err)
	}
	return out, nil
}

func (s *Socket) isSecure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secured && !s.closed
}

// EphemeralKeyInfo is Node's getEphemeralKeyInfo() result.
type EphemeralKeyInfo struct {
	Type string // "DH" or "ECDH"; "" when the key exchange was not ephemeral
	Name string // ECDH curve: "prime256v1", "X25519", ...
	Size int    // bits
}

// GetEphemeralKeyInfo is Node's getEphemeralKeyInfo(): the server's
// ephemeral key on a client socket; zero on a server socket (Node: null) and
// without ephemeral key exchange (Node: {}).
func (s *Socket) GetEphemeralKeyInfo() EphemeralKeyInfo {
	if s.isServer || s.Destroyed() {
		return EphemeralKeyInfo{}
	}
	k := s.conn.PeerEphemeralKey()
	return EphemeralKeyInfo{Type: k.Kind, Name: k.Name, Size: k.Bits}
}

// GetFinished is Node's getFinished(): the Finished message this side sent;
// nil before the handshake.
func (s *Socket) GetFinished() []byte {
	if s.Destroyed() {
		return nil
	}
	return s.conn.Finished()
}

// GetPeerFinished is Node's getPeerFinished(); nil before the handshake.
func (s *Socket) GetPeerFinished() []byte {
	if s.Destroyed() {
		return nil
	}
	return s.conn.PeerFinished()
}

// GetSharedSigalgs is Node's getSharedSigalgs(): "RSA-PSS+SHA256",
// "ECDSA+SHA256", "Ed25519+UNDEF", ...
func (s *Socket) GetSharedSigalgs() []string {
	if s.Destroyed() {
		return nil
	}
	return s.conn.SharedSigalgNames()
}

// SetMaxSendFragment is Node's setMaxSendFragment(size): records carry at
// most size bytes of plaintext (512 to 16384). A size outside the int32 range
// is ERR_OUT_OF_RANGE, as Node throws; a size OpenSSL refuses (Node returns
// false) is an *Error without a code.
func (s *Socket) SetMaxSendFragment(size int) error {
	if size < math.MinInt32 || size > math.MaxInt32 {
		return errOutOfRange("size", ">= -2147483648 && <= 2147483647", int64(size))
	}
	if !s.conn.SetMaxSendFragment(size) {
		return errorf("", "setMaxSendFragment(%d) returned false: the size must be >= 512 && <= 16384", size)
	}
	return nil
}

// SetSession is Node's setSession(session): the client session to resume;
// call it before the handshake.
func (s *Socket) SetSession(session []byte) error {
	sess, err := openssl.ParseSession(session)
	if err != nil {
		return fromConfigError(err)
	}
	defer sess.Free()
	return fromConfigError(s.conn.SetSession(sess))
}

// SetKeyCert is Node's setKeyCert(context): the certificate and key this
// socket presents from now on (useful inside ALPNCallback or SNICallback).
func (s *Socket) SetKeyCert(opts SecureContextOptions) error {
	sc, err := CreateSecureContext(opts)
	if err != nil {
		return err
	}
	defer sc.Close()
	if s.inCallback.Load() {
		// Called from ALPNSocketCallback: the handshake step that runs the
		// callback holds the connection.
		return fromConfigError(s.conn.UseContextCertificateFromCallback(sc.ctx))
	}
	return fromConfigError(s.conn.UseContextCertificate(sc.ctx))
}

// EnableTrace is Node's enableTrace(): OpenSSL's protocol trace (the format
// of openssl s_client -trace) on stderr from now on. Where the linked OpenSSL
// was built without SSL_trace, it says so once on stderr instead (Node stays
// silent). ServerOptions, ConnectOptions and TLSSocketOptions have
// EnableTrace to trace a handshake from its start.
func (s *Socket) EnableTrace() {
	if !s.conn.EnableTrace() {
		warnNoTrace(os.Stderr)
	}
}

// OnSession registers a handler for new sessions (Node's 'session' event,
// client sockets): each arrives as DER, reusable as ConnectOptions.Session.
// Sessions that arrived before the handler was registered are delivered to
// it at once. On TLS 1.3 they arrive after the handshake, while reading.
func (s *Socket) OnSession(fn func(session []byte)) {
	s.mu.Lock()
	s.sessionFns = append(s.sessionFns, fn)
	s.mu.Unlock()
	s.flushSessions()
}

func (s *Socket) deliverSession(der []byte) {
	s.mu.Lock()
	if len(s.sessionFns) > 0 {
		// Node's client takes sessions only once someone listens for 'session'.
		debugf("client emit session")
	}
	s.pendingSession = append(s.pendingSession, der)
	s.mu.Unlock()
	s.flushSessions()
}

func (s *Socket) flushSessions() {
	s.mu.Lock()
	if !s.sessionReady || len(s.sessionFns) == 0 || len(s.pendingSession) == 0 {
		s.mu.Unlock()
		return
	}
	pend := s.pendingSession
	s.pendingSession = nil
	fns := append([]func([]byte){}, s.sessionFns...)
	s.mu.Unlock()
	for _, der := range pend {
		for _, f := range fns {
			f(der)
		}
	}
}

// OnKeylog registers a handler for key log lines (Node's 'keylog' event):
// NSS key log format, each ending in "\n". Lines from before the handler was
// registered (the handshake's) are delivered to it at once.
func (s *Socket) OnKeylog(fn func(line []byte)) {
	s.mu.Lock()
	pend := s.keylog.on(fn)
	s.mu.Unlock()
	for _, l := range pend {
		fn(l)
	}
}

func (s *Socket) deliverKeylog(line []byte) {
	s.mu.Lock()
	listened := len(s.keylog.fns) > 0
	s.mu.Unlock()
	if listened || (s.server != nil && s.server.hasKeylogHandlers()) {
		// Node calls onkeylog only while someone listens for 'keylog'.
		debugf("onkeylog")
	}
	if s.server != nil {
		s.server.emitKeylog(line, s)
	}
	s.mu.Lock()
	fns := s.keylog.emit(line)
	s.mu.Unlock()
	for _, f := range fns {
		f(line)
	}
}

// OnOCSPResponse registers a handler for the server's stapled OCSP response
// (Node's 'OCSPResponse' event; ConnectOptions.RequestOCSP); it gets nil when
// the server stapled none.
func (s *Socket) OnOCSPResponse(fn func(response []byte)) {
	s.mu.Lock()
	pend := s.ocsp.on(fn)
	s.mu.Unlock()
	for _, r := range pend {
		fn(r)
	}
}

func (s *Socket) deliverOCSP(resp []byte) {
	debugf("client onocspresponse")
	s.mu.Lock()
	fns := s.ocsp.emit(resp)
	s.mu.Unlock()
	for _, f := range fns {
		f(resp)
	}
}

// replayEvent is a Socket event carrying bytes whose values, when no handler
// is registered yet, wait for the first one (the keylog lines and the OCSP
// response of a handshake that ran before the user's On... call). Its
// methods run under the Socket's mu; the caller calls the handlers after
// releasing it.
type replayEvent struct {
	fns     []func([]byte)
	pending [][]byte
}

// on registers fn and returns the values that waited for a handler.
func (e *replayEvent) on(fn func([]byte)) [][]byte {
	e.fns = append(e.fns, fn)
	pend := e.pending
	e.pending = nil
	return pend
}

// emit returns the handlers to call with v, or keeps v for the first handler.
func (e *replayEvent) emit(v []byte) []func([]byte) {
	if len(e.fns) == 0 {
		e.pending = append(e.pending, v)
		return nil
	}
	return append([]func([]byte){}, e.fns...)
}

// recordSNI is the server's servername callback: it keeps the name the
// client asked for (Node's socket.servername, also readable in
// tlsClientError).
//
// As in Node, the name is the client's bytes read as Latin-1, and that is
// what SNICallback, ALPNCallback and AddContext's patterns see.
func (s *Socket) recordSNI(name string) (*openssl.Context, error) {
	s.mu.Lock()
	s.sni = jsstring.Latin1(name)
	s.mu.Unlock()
	return nil, nil
}

// selectSNI runs from OpenSSL's certificate callback, as Node's SNICallback:
// after the ClientHello's extensions (so after ALPNCallback on TLS 1.3), not
// on a resumed handshake. It asks the custom SNICallback, or the contexts of
// AddContext, newest first.
func (s *Socket) selectSNI() error {
	name := s.sniName()
	if name == "" {
		return nil
	}
	var sc *SecureContext
	var err error
	switch {
	case s.sniCallback != nil:
		sc, err = s.sniCallback(name)
	case s.server != nil:
		sc = s.server.matchContext(name)
	}
	if err != nil {
		s.setHookErr(err)
		// Node destroys the socket: the client gets no alert.
		return &openssl.SilentAbort{Err: err}
	}
	if sc == nil {
		return nil
	}
	// As Node's UseSNIContext and SetCACerts: the connection keeps its
	// context (ciphers, sigalgs, session id context, tickets) and takes the
	// chosen one's certificate, key and chain, then its trust store and
	// client CA names. When the certificate cannot be taken (a context
	// without one) the default stays and OpenSSL's error is reported if the
	// handshake then fails.
	if err := s.conn.UseContextCertificateFromCallback(sc.ctx); err != nil {
		s.mu.Lock()
		s.sniCertErr = err
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	s.sniContext = sc
	s.mu.Unlock()
	if err := s.conn.UseContextCAsFromCallback(sc.ctx); err != nil {
		err = fromConfigError(err)
		s.setHookErr(err)
		return &openssl.SilentAbort{Err: err}
	}
	return nil
}

func (s *Socket) sniName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sni
}

// contextInUse is the SNI-chosen context, else the socket's own.
func (s *Socket) contextInUse() *SecureContext {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sniContext != nil {
		return s.sniContext
	}
	return s.secure
}

func (s *Socket) setHookErr(err error) {
	s.mu.Lock()
	if s.hookErr == nil {
		s.hookErr = err
	}
	s.mu.Unlock()
}

// selectALPN is Node's ALPN choice: ALPNCallback, or the server's first
// preference the client also offered; no overlap ends the handshake.
func (s *Socket) selectALPN(offered []string) (string, error) {
	if s.alpnCallback != nil {
		// Node hands the callback the names as 'ascii' text and selects
		// the offered bytes of the first name equal to its answer.
		names := make([]string, len(offered))
		for i, o := range offered {
			names[i] = jsstring.ASCII(o)
		}
		s.inCallback.Store(true)
		proto, ok := s.alpnCallback(s, s.sniName(), names)
		s.inCallback.Store(false)
		if !ok {
			return "", openssl.ErrNoApplicationProtocol
		}
		for i, n := range names {
			if n == proto {
				return offered[i], nil
			}
		}
		err := errorf("ERR_TLS_ALPN_CALLBACK_INVALID_RESULT",
			"ALPN callback returned a value (%s) that did not match any of the client's offered protocols (%s)",
			proto, strings.Join(names, ", "))
		s.setHookErr(err)
		// Node destroys the socket: the client gets no alert.
		return "", &openssl.SilentAbort{Err: err}
	}
	for _, p := range s.alpnProtocols {
		for _, o := range offered {
			if p == o {
				return p, nil
			}
		}
	}
	return "", openssl.ErrNoApplicationProtocol
}

func (s *Socket) serverNewSession(sess *openssl.Session) {
	defer sess.Free()
	debugf("onnewsession")
	s.server.emitNewSession(sess.ID(), sess.DER())
	debugf("onnewsession done")
}

// serverClientHello is Node's ClientHello parser: a first ClientHello with a
// session id and no session ticket asks the resumeSession handlers for that
// session, which OpenSSL's session lookup then gets. TLS 1.3 clients send a
// random legacy session id, so the handlers see those ids too, as in Node.
func (s *Socket) serverClientHello(id []byte, hasTicket bool) {
	s.mu.Lock()
	seen := s.helloSeen
	s.helloSeen = true
	s.mu.Unlock()
	if seen {
		return
	}
	debugf("server onclienthello sessionid.len %d ticket? %v", len(id), hasTicket)
	if len(id) == 0 || hasTicket {
		return
	}
	der := s.server.emitResumeSession(id)
	debugf("server resumeSession callback(err null, sess? %v)", der != nil)
	if der == nil {
		return
	}
	sess, err := openssl.ParseSession(der)
	if err != nil {
		return // invalid data: a fresh handshake, as in Node
	}
	s.mu.Lock()
	s.nextSession = sess
	s.mu.Unlock()
}

// serverGetSession answers OpenSSL's session lookup with what resumeSession
// gave for this ClientHello, whatever id OpenSSL asks for (Node's
// GetSessionCallback): a TLS 1.3 stateful ticket is not looked up.
func (s *Socket) serverGetSession([]byte) *openssl.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.nextSession
	s.nextSession = nil
	return sess
}

// dropNextSession frees a session resumeSession gave that OpenSSL did not ask for.
func (s *Socket) dropNextSession() {
	s.mu.Lock()
	sess := s.nextSession
	s.nextSession = nil
	s.mu.Unlock()
	if sess != nil {
		sess.Free()
	}
}

func (s *Socket) serverOCSPRequest() ([]byte, error) {
	if s.conn.ResumingFromCallback() {
		return nil, nil // Node asks from the certificate callback, which a resumption skips
	}
	debugf("server oncertcb emit OCSPRequest")
	sc := s.contextInUse()
	resp, err := s.server.emitOCSPRequest(sc.leafDER, sc.issuerDER)
	if err != nil {
		s.setHookErr(err)
		// Node destroys the socket: the client gets no alert.
		return nil, &openssl.SilentAbort{Err: err}
	}
	return resp, nil
}

// errPSKTooLong is Node's error for a PSK identity or key longer than
// OpenSSL takes, which ends the handshake without an alert (Node destroys
// the socket).
func errPSKTooLong[T string | []byte](name string, value T) error {
	reason := fmt.Sprintf("Pre-shared key exceeds %d bytes", openssl.PSKMaxKeyLen)
	if name == "identity" {
		reason = fmt.Sprintf("PSK identity exceeds %d bytes", openssl.PSKMaxIdentityLen)
	}
	return &openssl.SilentAbort{Err: errInvalidArgValue(name, any(value), reason)}
}

package tls

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// ConnectOptions are the options of Node's tls.connect: every
// createSecureContext option plus the client's own. Zero values mean Node's
// defaults.
type ConnectOptions struct {
	SecureContextOptions
	// SecureContext is used instead of the embedded options when set.
	SecureContext *SecureContext
	// Host ("" = "localhost") and Port to dial, unless Socket is set.
	Host string
	Port int
	// Socket runs TLS over this connection instead of dialing (Node's socket
	// option: a proxy tunnel, a Unix socket, net.Pipe).
	Socket net.Conn
	// Servername is the SNI name; "" means Host, unless Host is an IP address.
	Servername string
	// ALPNProtocols are offered to the server, in preference order.
	ALPNProtocols []string
	// RejectUnauthorized (nil = true, or false when the environment has
	// NODE_TLS_REJECT_UNAUTHORIZED=0) makes a failed verification or host
	// name check the error Connect returns; with false the socket connects
	// and reports Authorized() == false and AuthorizationError().
	RejectUnauthorized *bool
	// CheckServerIdentity replaces tls.CheckServerIdentity (return nil to
	// accept). It is not called when the session was resumed.
	CheckServerIdentity func(hostname string, cert *Certificate) error
	// Session resumes a session from Socket.GetSession or OnSession.
	Session []byte
	// MinDHSize (0 = 1024) is the smallest DH key exchange accepted
	// (ERR_TLS_DH_PARAM_SIZE below it).
	MinDHSize int
	// PSKCallback returns the key and identity for the server's hint ("" when
	// none, as on TLS 1.3); ok false means no PSK. As in Node, the identity
	// is sent up to its first NUL byte (OpenSSL takes a C string).
	PSKCallback func(hint string) (psk []byte, identity string, ok bool)
	// Timeout bounds the dial and the handshake; 0 means none.
	Timeout time.Duration
	// RequestOCSP asks the server to staple an OCSP response (OnOCSPResponse).
	RequestOCSP bool
	// EnableTrace writes OpenSSL's protocol trace to stderr.
	EnableTrace bool
}

// Connect is Node's tls.connect(options): it dials (or takes Socket), runs
// the handshake and Node's checks, and returns the socket once it is secure
// (Node's 'secureConnect'), or the error Node would emit.
func Connect(opts ConnectOptions) (*Socket, error) {
	return ConnectContext(context.Background(), opts)
}

var ipServernameWarning sync.Once

// ConnectContext is Connect (Node's tls.connect) with a context that can
// cancel the dial and the handshake, where a Node program would destroy the
// socket.
func ConnectContext(ctx context.Context, opts ConnectOptions) (*Socket, error) {
	if opts.MinDHSize < 0 {
		return nil, errInternalAssertion(fmt.Sprintf("options.minDHSize is not a positive number: %d", opts.MinDHSize))
	}
	if opts.Timeout < 0 {
		return nil, errOutOfRange("options.timeout", ">= 0", int64(opts.Timeout/time.Millisecond))
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, errorf("ERR_SOCKET_BAD_PORT", "Port should be >= 0 and < 65536. Received %s.", inspect(opts.Port))
	}
	for i, p := range opts.ALPNProtocols {
		if len(p) > 255 {
			return nil, errorf("ERR_OUT_OF_RANGE", "The byte length of the protocol at index %d exceeds the maximum length. It must be <= 255. Received %d", i, len(p))
		}
		if len(p) == 0 {
			// Node 20 aborts the process here (OpenSSL refuses the list).
			return nil, errorf("ERR_OUT_OF_RANGE", "The byte length of the protocol at index %d is 0. It must be >= 1 and <= 255", i)
		}
	}
	reject := true
	if os.Getenv("NODE_TLS_REJECT_UNAUTHORIZED") == "0" {
		reject = false
	}
	if opts.RejectUnauthorized != nil {
		reject = *opts.RejectUnauthorized
	}
	minDH := opts.MinDHSize
	if minDH == 0 {
		minDH = 1024
	}
	host := opts.Host
	if host == "" {
		host = "localhost"
	}
	servername := opts.Servername
	if servername == "" && !isIP(host) {
		servername = host
	}
	if opts.Servername != "" && isIP(opts.Servername) {
		ipServernameWarning.Do(func() {
			emitWarning("Setting the TLS ServerName to an IP address is not permitted by RFC 6066. This will be ignored in a future version.", "[DEP0123] DeprecationWarning")
		})
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}

	sc := opts.SecureContext
	own := false
	if sc == nil {
		var err error
		if sc, err = CreateSecureContext(opts.SecureContextOptions); err != nil {
			return nil, err
		}
		own = true
	}
	closeCtx := func() {
		if own {
			sc.Close()
		}
	}

	raw := opts.Socket
	if raw == nil {
		var d net.Dialer
		addr := net.JoinHostPort(host, strconv.Itoa(opts.Port))
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			closeCtx()
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, &Error{Code: "ETIMEDOUT", Message: "connect ETIMEDOUT " + addr, Err: err}
			}
			return nil, fromSocketError(err)
		}
		raw = c
	}
	check := opts.CheckServerIdentity
	if check == nil {
		check = CheckServerIdentity
	}
	identityHost := opts.Servername
	if identityHost == "" {
		identityHost = host
	}
	sock := &Socket{
		transport:           raw,
		secure:              sc,
		ownCtx:              own,
		hostForIdentity:     identityHost,
		rejectUnauthorized:  reject,
		checkServerIdentity: check,
		customIdentityCheck: opts.CheckServerIdentity != nil,
		minDHSize:           minDH,
		verifyIdentity:      true,
		connectHost:         opts.Host,
		connectPort:         opts.Port,
	}
	if err := sock.startClient(servername, opts.ALPNProtocols, opts.Session, opts.RequestOCSP, opts.EnableTrace, opts.PSKCallback); err != nil {
		raw.Close()
		closeCtx()
		return nil, err
	}
	debugf("client _start handle? true connecting? false requestOCSP? %v", opts.RequestOCSP)
	if err := sock.Handshake(ctx); err != nil {
		sock.Destroy()
		if errors.Is(err, context.DeadlineExceeded) && opts.Timeout > 0 {
			return nil, &Error{Code: "ETIMEDOUT", Message: fmt.Sprintf("TLS handshake with %s timed out after %v", host, opts.Timeout), Err: err}
		}
		return nil, err
	}
	return sock, nil
}

// startClient makes the client side of the connection.
func (s *Socket) startClient(servername string, alpn []string, session []byte, requestOCSP, trace bool,
	psk func(hint string) ([]byte, string, bool)) error {
	debugf("client _init handle? true")
	cfg, err := s.connConfig(servername, alpn, session, requestOCSP, trace, psk)
	if err != nil {
		return err
	}
	conn, err := openssl.Client(s.transport, s.secure.ctx, cfg)
	if err != nil {
		return fromConfigError(err)
	}
	s.conn = conn
	if cfg.EnableTrace {
		s.EnableTrace() // says so when this OpenSSL cannot trace
	}
	debugf("client initRead handle? true buffered? false")
	return nil
}

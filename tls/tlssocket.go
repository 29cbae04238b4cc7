package tls

import "net"

// TLSSocketOptions are the options of Node's new tls.TLSSocket(socket,
// options). Zero values mean Node's defaults for a TLSSocket, which differ
// from tls.connect's: RejectUnauthorized is false unless set, and the server
// name is checked only when Servername is set.
type TLSSocketOptions struct {
	SecureContextOptions
	// SecureContext is used instead of the embedded options when set.
	SecureContext *SecureContext
	// IsServer makes this the server side.
	IsServer bool
	// Server supplies the server-side events and callbacks (session cache,
	// keylog, OCSP, tlsClientError, SNI contexts), as Node's server option.
	Server *Server
	// RequestCert asks the client for a certificate (server side; clients
	// always verify the server's).
	RequestCert bool
	// RejectUnauthorized: nil means false here, as in Node's TLSSocket.
	RejectUnauthorized *bool
	// ALPNProtocols: a client's offer, or a server's preference, as in
	// ConnectOptions and ServerOptions.
	ALPNProtocols []string
	// SNICallback picks a server socket's context by name, as in ServerOptions.
	SNICallback func(servername string) (*SecureContext, error)
	// Session resumes a client session (Socket.GetSession or OnSession data).
	Session []byte
	// RequestOCSP asks the server to staple an OCSP response (OnOCSPResponse).
	RequestOCSP bool
	// Servername is the SNI name a client sends (Node's setServername); it is
	// also the name the server certificate is checked against, when set.
	Servername string
	// EnableTrace writes OpenSSL's protocol trace to stderr.
	EnableTrace bool
}

// NewTLSSocket is Node's new tls.TLSSocket(socket, options): TLS over an
// existing connection (a STARTTLS-style upgrade of an accepted or dialed
// connection). The handshake runs on Handshake or the first Read or Write.
func NewTLSSocket(conn net.Conn, opts TLSSocketOptions) (*Socket, error) {
	if conn == nil {
		return nil, newError("ERR_INVALID_ARG_TYPE", `The "socket" argument must be an instance of net.Conn. Received nil`)
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
	if opts.IsServer {
		srv := opts.Server
		if srv == nil {
			// A server socket without a server: its own, with Node's defaults.
			srv = &Server{opts: ServerOptions{}, secure: sc, ready: make(chan struct{})}
		}
		o := opts
		o.SecureContext = sc
		sock, err := srv.newSocket(conn, &o)
		if err != nil {
			if own {
				sc.Close()
			}
			return nil, err
		}
		sock.ownCtx = own
		return sock, nil
	}
	reject := opts.RejectUnauthorized != nil && *opts.RejectUnauthorized
	sock := &Socket{
		transport:           conn,
		secure:              sc,
		ownCtx:              own,
		hostForIdentity:     opts.Servername,
		rejectUnauthorized:  reject,
		checkServerIdentity: CheckServerIdentity,
		minDHSize:           1024,
		verifyIdentity:      opts.Servername != "",
	}
	if err := sock.startClient(opts.Servername, opts.ALPNProtocols, opts.Session, opts.RequestOCSP, opts.EnableTrace, nil); err != nil {
		if own {
			sc.Close()
		}
		return nil, err
	}
	return sock, nil
}

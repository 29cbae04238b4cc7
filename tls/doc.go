// Package tls is Node.js's node:tls API in Go, on the system OpenSSL.
//
// It mirrors Node's tls module name for name: tls.createServer is
// CreateServer, tls.connect is Connect, tls.createSecureContext is
// CreateSecureContext, new tls.TLSSocket is NewTLSSocket, a TLSSocket is a
// *Socket (a net.Conn), and Node's events are registration methods
// (server.on('newSession', fn) is server.OnNewSession(fn)). Options keep
// Node's names, PascalCased (rejectUnauthorized is RejectUnauthorized); zero
// values mean Node's defaults, and options whose Node default is true are
// *bool (nil = true; set them with tls.Bool(false)). Times are
// time.Durations.
//
// The echo server of Node's documentation:
//
//	server, err := tls.CreateServer(tls.ServerOptions{
//		SecureContextOptions: tls.SecureContextOptions{Key: keyPEM, Cert: certPEM},
//	}, func(s *tls.Socket) {
//		defer s.Close()
//		s.Write([]byte("welcome!\n"))
//		io.Copy(s, s)
//	})
//	if err != nil { ... }
//	err = server.Listen("127.0.0.1:8000")
//
// and a client for it:
//
//	socket, err := tls.Connect(tls.ConnectOptions{
//		Port:                 8000,
//		SecureContextOptions: tls.SecureContextOptions{CA: certPEM},
//	})
//
// Connect returns when Node would emit 'secureConnect': the handshake is
// done and the server's certificate verified (and matched to the host name
// by CheckServerIdentity), or it returns the error Node would emit. The
// examples directory of the module has a program for each sample of Node's
// documentation (mTLS, PSK, SNI contexts, a session store, ticket key
// rotation, certificate pinning, security levels, key logs).
//
// # Errors
//
// Every error is, or wraps, an *Error with Node's code and message:
// ERR_TLS_* codes for Node's own checks, ERR_SSL_<REASON> for OpenSSL
// failures of a connection, Node's validation and OpenSSL codes for bad
// options (ERR_INVALID_ARG_VALUE, ERR_OSSL_PEM_NO_START_LINE, ...), verify
// codes such as CERT_HAS_EXPIRED for certificates, errno codes such as
// ECONNRESET for the network. Bad input fails the call that took it.
//
// # OpenSSL
//
// Underneath, OpenSSL does the TLS: its cipher strings, security levels, DHE
// parameters, PSK, tickets and key logs behave as in Node on OpenSSL 3.0.
// Two differences are deliberate: the default security level is the linked
// OpenSSL's (2 on Debian), where Node's bundled OpenSSL uses 1 (put
// "@SECLEVEL=1" in Ciphers to get Node's), and the trusted roots are the
// system's (RootCertificates), where Node bundles Mozilla's.
//
// # Debugging
//
// NODE_DEBUG=tls in the environment prints Node's debug lines ("TLS <pid>:
// client _init handle? true", "server onhandshakestart", ...) on stderr at
// the same points of a socket's life as Node. EnableTrace (ServerOptions,
// ConnectOptions, TLSSocketOptions, Socket.EnableTrace) prints OpenSSL's
// protocol trace, as Node's enableTrace does; an OpenSSL built without
// SSL_trace says so once instead. Key logs for Wireshark come from OnKeylog
// (Server and Socket), as Node's 'keylog' event.
package tls

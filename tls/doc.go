// Package tls is Node.js's node:tls API in Go, on the system OpenSSL.
//
// It mirrors Node's tls module name for name: tls.createServer is
// CreateServer, tls.connect is Connect, tls.createSecureContext is
// CreateSecureContext, a TLSSocket is a *Socket (a net.Conn), and Node's
// events are registration methods (server.on('newSession', fn) is
// server.OnNewSession(fn)). Options keep Node's names, PascalCased
// (rejectUnauthorized is RejectUnauthorized); zero values mean Node's
// defaults, and options whose Node default is true are *bool (nil = true; set
// them with tls.Bool(false)). Errors are *Error values carrying Node's code
// and message.
//
// Underneath, OpenSSL does the TLS: its cipher strings, security levels, DHE
// parameters, PSK, tickets and key logs behave exactly as in Node on OpenSSL
// 3.0. One difference is deliberate: the default security level is the
// linked OpenSSL's (2 on Debian), where Node's bundled OpenSSL uses 1; put
// "@SECLEVEL=1" in Ciphers to get Node's.
//
// The echo server of Node's documentation:
//
//	server, err := tls.CreateServer(tls.ServerOptions{
//		SecureContextOptions: tls.SecureContextOptions{Key: keyPEM, Cert: certPEM},
//	}, func(s *tls.Socket) {
//		s.Write([]byte("welcome!\n"))
//		io.Copy(s, s)
//	})
//	server.Listen("127.0.0.1:8000")
package tls

// Package examples holds runnable Go programs, one per directory, for the
// code samples of Node's tls documentation, written against nodetls's tls
// package:
//
//   - echoserver: the echo server of tls.createServer()
//   - mtlsserver: the same with client certificates (requestCert, ca)
//   - client: the client of tls.connect()
//   - pskserver: a TLS-PSK server (pskCallback, ciphers)
//   - sni: several host names on one address (server.addContext)
//   - sessionstore: a session cache through the newSession and resumeSession events
//   - ticketkeys: ticket keys rotated on a timer (server.setTicketKeys)
//   - pinning: a checkServerIdentity that pins the server's public key
//   - seclevel: OpenSSL security levels through "@SECLEVEL=N" in ciphers
//   - keylog: the 'keylog' event written to a key log file for Wireshark
//
// Servers take -addr (port 0 picks a free one) and print "server bound ADDR"
// once they listen; certificates come from flags or are made at start.
// examples_test.go runs each program against real peers (openssl s_client
// and s_server, node, nodetls's own client).
package examples

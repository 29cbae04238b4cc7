// Package openssl is OpenSSL's TLS concepts in Go terms: contexts built from
// options, the connection engine over any net.Conn, certificates, private keys,
// cipher-string resolution, security levels, DH parameters, sessions, verify
// results and errors. It is pure Go over the cbridge package and knows nothing
// of Node; the Node rules live in package tls.
package openssl

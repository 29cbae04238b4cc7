package openssl

import "github.com/nodetls/nodetls/cbridge"

// DefaultCertFile is the CA bundle of OpenSSL's default verify paths
// (SSL_CERT_FILE, else the library's built-in path, e.g. /usr/lib/ssl/cert.pem).
func DefaultCertFile() string { return cbridge.DefaultCertFile() }

// DefaultCertDir is the hashed CA directory of OpenSSL's default verify paths.
func DefaultCertDir() string { return cbridge.DefaultCertDir() }

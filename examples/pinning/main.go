// Command pinning connects with a custom checkServerIdentity that pins the
// server's public key, the idea of the checkServerIdentity example in Node's
// documentation: first the usual host name check (tls.CheckServerIdentity),
// then the SHA-256 of the certificate's public key info (HPKP's pin-sha256)
// must be -pin, and, if -fingerprint is given, the certificate's SHA-256
// fingerprint must be that. It prints each certificate of the chain with its
// fingerprint and pin, which is also how to learn the values to pin:
//
//	go run ./examples/pinning -host example.org -port 443 -pin ''
//
// prints the chain and fails (no pin matches ""); rerun with the pin it
// printed for the first certificate. The check runs after the chain was
// verified against the trusted CAs (-ca, or the system's), as Node's does.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"log"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

// pinSHA256 is the base64 SHA-256 of a certificate's SubjectPublicKeyInfo.
// (Node's example hashes cert.pubkey, which is the SubjectPublicKeyInfo for
// RSA keys but the bare curve point for EC keys; the DER of the whole key
// info is the pin for every key type.)
func pinSHA256(cert *tls.Certificate) string {
	x, err := cert.X509()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(x.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// printChain prints the certificate and its issuers, up to the root (which
// is its own issuer) or as far as the peer's chain goes.
func printChain(cert *tls.Certificate) {
	for c := cert; c != nil; c = c.IssuerCertificate {
		fmt.Println("Subject Common Name:", c.Subject.Get("CN"))
		fmt.Println("  Certificate SHA256 fingerprint:", c.Fingerprint256)
		fmt.Println("  Public key pin-sha256:", pinSHA256(c))
		if c.IssuerCertificate == c {
			break
		}
	}
}

func main() {
	host := flag.String("host", "localhost", "server host")
	port := flag.Int("port", 8000, "server port")
	servername := flag.String("servername", "", "SNI name and name to check (default: -host)")
	caFile := flag.String("ca", "", "PEM file of the CA certificates to trust instead of the system's")
	pin := flag.String("pin", "", "base64 SHA-256 of the server's public key (required)")
	fingerprint := flag.String("fingerprint", "", "the server certificate's SHA-256 fingerprint (AA:BB:...), optional")
	flag.Parse()
	log.SetFlags(0)

	ca, err := excert.ReadOptional(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	socket, err := tls.Connect(tls.ConnectOptions{
		Host:                 *host,
		Port:                 *port,
		Servername:           *servername,
		SecureContextOptions: tls.SecureContextOptions{CA: ca},
		CheckServerIdentity: func(hostname string, cert *tls.Certificate) error {
			// Make sure the certificate is issued to the host we connect to.
			if err := tls.CheckServerIdentity(hostname, cert); err != nil {
				return err
			}
			printChain(cert)
			// Pin the public key, like HPKP's pin-sha256.
			if pinSHA256(cert) != *pin {
				return fmt.Errorf("Certificate verification error: The public key of '%s' does not match our pinned fingerprint",
					cert.Subject.Get("CN"))
			}
			// Pin the exact certificate, rather than the public key.
			if *fingerprint != "" && cert.Fingerprint256 != *fingerprint {
				return fmt.Errorf("Certificate verification error: The certificate of '%s' does not match our pinned fingerprint",
					cert.Subject.Get("CN"))
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer socket.Close()
	fmt.Println("connected to", socket.RemoteAddr(), "with the pinned key, authorized:", socket.Authorized())
}

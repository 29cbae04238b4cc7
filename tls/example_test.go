package tls_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"time"

	"github.com/nodetls/nodetls/tls"
)

// selfSigned makes a key and a self-signed certificate for localhost with Go's
// crypto/x509: nodetls takes PEM from anywhere.
func selfSigned() (keyPEM, certPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		log.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// The echo server of Node's tls.createServer() documentation, and a client
// that trusts its self-signed certificate.
func ExampleCreateServer() {
	keyPEM, certPEM := selfSigned()
	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: keyPEM, Cert: certPEM},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		socket.Write([]byte("welcome!\n"))
		io.Copy(socket, socket) // echo until the client ends
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	socket, err := tls.Connect(tls.ConnectOptions{
		Port:                 server.Address().(*net.TCPAddr).Port,
		SecureContextOptions: tls.SecureContextOptions{CA: certPEM},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer socket.Close()
	fmt.Println("authorized:", socket.Authorized(), socket.GetProtocol())
	r := bufio.NewReader(socket)
	welcome, _ := r.ReadString('\n')
	fmt.Print(welcome)
	socket.Write([]byte("hello\n"))
	echo, _ := r.ReadString('\n')
	fmt.Print(echo)
	// Output:
	// authorized: true TLSv1.3
	// welcome!
	// hello
}

// Connect verifies the server's certificate. Without the CA that issued it,
// the connection fails with the verify code Node reports; with
// RejectUnauthorized false it goes ahead, unauthorized.
func ExampleConnect() {
	keyPEM, certPEM := selfSigned()
	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: keyPEM, Cert: certPEM},
	}, func(socket *tls.Socket) { socket.End() })
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	port := server.Address().(*net.TCPAddr).Port

	_, err = tls.Connect(tls.ConnectOptions{Port: port})
	var tlsErr *tls.Error
	if errors.As(err, &tlsErr) {
		fmt.Println(tlsErr.Code+":", tlsErr.Message)
	}

	socket, err := tls.Connect(tls.ConnectOptions{Port: port, RejectUnauthorized: tls.Bool(false)})
	if err != nil {
		log.Fatal(err)
	}
	defer socket.Close()
	fmt.Println("authorized:", socket.Authorized())
	fmt.Println("authorizationError:", socket.AuthorizationError())
	fmt.Println("peer:", socket.GetPeerCertificate(false).Subject.Get("CN"))
	// Output:
	// DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate
	// authorized: false
	// authorizationError: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate
	// peer: localhost
}

// CheckServerIdentity applies Node's host name rules to a certificate object
// (as GetPeerCertificate returns it). A custom
// ConnectOptions.CheckServerIdentity usually calls it first.
func ExampleCheckServerIdentity() {
	cert := &tls.Certificate{
		Subject:        tls.Name{"CN": {"example.com"}},
		SubjectAltName: "DNS:example.com, DNS:*.example.org, IP Address:192.0.2.1",
	}
	for _, host := range []string{"example.com", "www.example.org", "a.b.example.org", "192.0.2.1", "example.net"} {
		if err := tls.CheckServerIdentity(host, cert); err != nil {
			fmt.Println(host, "->", err)
		} else {
			fmt.Println(host, "-> ok")
		}
	}
	// Output:
	// example.com -> ok
	// www.example.org -> ok
	// a.b.example.org -> ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: a.b.example.org. is not in the cert's altnames: DNS:example.com, DNS:*.example.org, IP Address:192.0.2.1
	// 192.0.2.1 -> ok
	// example.net -> ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: example.net. is not in the cert's altnames: DNS:example.com, DNS:*.example.org, IP Address:192.0.2.1
}

// CreateSecureContext checks every option where it is given, with Node's
// error codes. A context can be shared by servers (ServerOptions.SecureContext,
// Server.AddSecureContext) and clients (ConnectOptions.SecureContext).
func ExampleCreateSecureContext() {
	keyPEM, certPEM := selfSigned()
	sc, err := tls.CreateSecureContext(tls.SecureContextOptions{
		Key:        keyPEM,
		Cert:       certPEM,
		Ciphers:    "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256",
		MinVersion: "TLSv1.2",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sc.Close()
	fmt.Println("ticket keys:", len(sc.GetTicketKeys()), "bytes")

	for _, opts := range []tls.SecureContextOptions{
		{Ciphers: "NO-SUCH-CIPHER"},
		{MinVersion: "TLSv1.4"},
		{TicketKeys: make([]byte, 47)},
	} {
		_, err := tls.CreateSecureContext(opts)
		fmt.Println(err)
	}
	// Output:
	// ticket keys: 48 bytes
	// ERR_SSL_NO_CIPHER_MATCH: error:0A0000B9:SSL routines::no cipher match
	// ERR_TLS_INVALID_PROTOCOL_VERSION: "TLSv1.4" is not a valid minimum TLS protocol version
	// ERR_INVALID_ARG_VALUE: The property 'options.ticketKeys' must be exactly 48 bytes. Received 47
}

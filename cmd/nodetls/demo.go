package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
)

// runDemo is `nodetls demo`: the first example of Node's tls documentation,
// an echo server, on a certificate made in memory unless --key/--cert are given.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 8000, "port to listen on (0 picks one)")
	keyFile := fs.String("key", "", "private key PEM file (default: a key made in memory)")
	certFile := fs.String("cert", "", "certificate PEM file (default: a self-signed certificate for localhost and 127.0.0.1)")
	help := fs.Bool("help", false, "show this help")
	if err := parseFlags(fs, args); err != nil {
		return exitCode(stderr, "demo", err)
	}
	if *help {
		printHelp(stdout, fs, "demo [--host 127.0.0.1] [--port 8000] [--key FILE --cert FILE]")
		return 0
	}
	if *port < 0 || *port > 65535 {
		return exitCode(stderr, "demo", usagef("--port %d is not a port number (0 to 65535)", *port))
	}
	if (*keyFile == "") != (*certFile == "") {
		return exitCode(stderr, "demo", usagef("--key and --cert go together"))
	}
	keyPEM, err := readFileFlag("key", *keyFile)
	if err != nil {
		return exitCode(stderr, "demo", err)
	}
	certPEM, err := readFileFlag("cert", *certFile)
	if err != nil {
		return exitCode(stderr, "demo", err)
	}
	if keyPEM == nil {
		if keyPEM, certPEM, err = selfSigned(); err != nil {
			return exitCode(stderr, "demo", err)
		}
	}

	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: keyPEM, Cert: certPEM},
	}, func(socket *tls.Socket) {
		state := "unauthorized"
		if socket.Authorized() {
			state = "authorized"
		}
		fmt.Fprintln(stdout, "server connected", state)
		defer socket.Close()
		if _, err := socket.Write([]byte("welcome!\n")); err != nil {
			return
		}
		io.Copy(socket, socket) //nolint:errcheck // the client going away ends the echo
	})
	if err != nil {
		return exitCode(stderr, "demo", err)
	}
	if err := server.Listen(net.JoinHostPort(*host, strconv.Itoa(*port))); err != nil {
		return exitCode(stderr, "demo", err)
	}
	fmt.Fprintln(stdout, "server bound")
	if fp := fingerprint(certPEM); fp != "" {
		fmt.Fprintln(stdout, "certificate SHA-256 fingerprint:", fp)
	}
	_, boundPort, _ := net.SplitHostPort(server.Address().String())
	connectHost := *host
	if connectHost == "0.0.0.0" || connectHost == "::" || connectHost == "" {
		connectHost = "127.0.0.1"
	}
	fmt.Fprintf(stdout, "try it: openssl s_client -connect %s -servername localhost\n", net.JoinHostPort(connectHost, boundPort))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	server.Close()
	return 0
}

// selfSigned makes the demo's default: an ECDSA P-256 key and a self-signed
// certificate for localhost and 127.0.0.1, valid for a year.
func selfSigned() (keyPEM, certPEM []byte, err error) {
	key, err := openssl.GenerateECKey("P-256")
	if err != nil {
		return nil, nil, err
	}
	defer key.Free()
	now := time.Now()
	cert, err := openssl.CreateCertificate(&openssl.CertificateTemplate{
		Subject:     openssl.Name{{Type: "CN", Value: "localhost"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(365 * 24 * time.Hour),
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []string{"serverAuth"},
	}, key, nil, key)
	if err != nil {
		return nil, nil, err
	}
	defer cert.Free()
	if keyPEM, err = key.MarshalPKCS8PEM(); err != nil {
		return nil, nil, err
	}
	if certPEM, err = cert.PEM(); err != nil {
		return nil, nil, err
	}
	return keyPEM, certPEM, nil
}

// fingerprint is the SHA-256 fingerprint of the first certificate of a PEM
// text, as openssl x509 -fingerprint -sha256 prints it.
func fingerprint(certPEM []byte) string {
	certs, err := openssl.ParseCertificates(certPEM)
	if err != nil || len(certs) == 0 {
		return ""
	}
	defer func() {
		for _, c := range certs {
			c.Free()
		}
	}()
	der, err := certs[0].DER()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

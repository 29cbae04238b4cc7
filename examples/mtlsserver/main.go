// Command mtlsserver is the echo server of Node's tls.createServer()
// documentation with client certificate authentication turned on (its
// requestCert: true and ca options): only clients with a certificate issued by
// -ca get through. For each one it prints "server connected authorized",
// writes "welcome!\n" and echoes. Handshakes that fail (no certificate, an
// unknown issuer) are printed as "tlsClientError CODE: message".
//
// With -key, -cert and -ca it serves those files. Without them it makes a
// CA, a server certificate for localhost and a client certificate at start,
// writes ca.pem, client-key.pem and client-cert.pem to -dir (a new temporary
// directory by default) and prints a command to connect with:
//
//	go run ./examples/mtlsserver
//	openssl s_client -connect 127.0.0.1:8000 -CAfile DIR/ca.pem -cert DIR/client-cert.pem -key DIR/client-key.pem
//
// examples/client connects too (-ca, -cert, -key). Ctrl-C stops it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	keyFile := flag.String("key", "", "server private key PEM file")
	certFile := flag.String("cert", "", "server certificate chain PEM file")
	caFile := flag.String("ca", "", "PEM file of the CA certificates (or self-signed client certificates) to accept")
	dir := flag.String("dir", "", "where to write the CA and client credentials made at start (default: a new temporary directory)")
	flag.Parse()
	log.SetFlags(0)

	server, clientCA, err := credentials(*keyFile, *certFile, *caFile, *dir)
	if err != nil {
		log.Fatal(err)
	}

	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{
			Key:  server.KeyPEM,
			Cert: server.CertPEM,
			// The certificates client certificates must chain to (for a
			// self-signed client certificate, the certificate itself).
			CA: clientCA,
		},
		// Ask every client for a certificate. RejectUnauthorized stays nil,
		// Node's default true: a client without a valid one is refused.
		RequestCert: true,
	}, func(socket *tls.Socket) {
		defer socket.Close()
		state := "unauthorized"
		if socket.Authorized() {
			state = "authorized"
		}
		fmt.Println("server connected", state)
		if peer := socket.GetPeerCertificate(false); peer != nil {
			fmt.Println("client certificate:", peer.Subject.Get("CN"))
		}
		if _, err := socket.Write([]byte("welcome!\n")); err != nil {
			return
		}
		io.Copy(socket, socket)
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnTLSClientError(func(err error, _ *tls.Socket) {
		fmt.Println("tlsClientError", err)
	})
	if err := srv.Listen(*addr); err != nil {
		log.Fatal(err)
	}
	fmt.Println("server bound", srv.Address())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	srv.Close()
}

// credentials reads the server's key, certificate and client CA from files, or
// makes a CA that issues the server and a client certificate.
func credentials(keyFile, certFile, caFile, dir string) (excert.Pair, []byte, error) {
	server, ok, err := excert.Load(keyFile, certFile)
	if err != nil {
		return excert.Pair{}, nil, err
	}
	if ok {
		if caFile == "" {
			return excert.Pair{}, nil, fmt.Errorf("-ca is needed with -key and -cert")
		}
		ca, err := os.ReadFile(caFile)
		return server, ca, err
	}
	ca, err := excert.NewCA("nodetls example CA")
	if err != nil {
		return excert.Pair{}, nil, err
	}
	defer ca.Free()
	if server, err = ca.Issue("localhost", []string{"localhost", "127.0.0.1"}, false); err != nil {
		return excert.Pair{}, nil, err
	}
	client, err := ca.Issue("nodetls example client", nil, true)
	if err != nil {
		return excert.Pair{}, nil, err
	}
	dir, paths, err := excert.WriteFiles(dir, map[string][]byte{
		"ca.pem":          ca.CertPEM,
		"client-key.pem":  client.KeyPEM,
		"client-cert.pem": client.CertPEM,
	})
	if err != nil {
		return excert.Pair{}, nil, err
	}
	fmt.Println("client credentials in", dir)
	fmt.Printf("try: openssl s_client -connect HOST:PORT -CAfile %s -cert %s -key %s\n",
		paths["ca.pem"], paths["client-cert.pem"], paths["client-key.pem"])
	return server, ca.CertPEM, nil
}

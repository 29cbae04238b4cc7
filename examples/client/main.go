// Command client is the client of Node's tls.connect() documentation, for
// the echo server of examples/echoserver and examples/mtlsserver (or Node's
// own): it connects, prints "client connected authorized" (or
// "unauthorized"), sends what it reads on stdin, prints what the server sends,
// and prints "server ends connection" when the server ends. When stdin ends,
// it ends its side of the connection, as Node's process.stdin.pipe(socket)
// does.
//
//	go run ./examples/echoserver -cert-out /tmp/echo.pem &
//	echo hello | go run ./examples/client -ca /tmp/echo.pem
//
// -key and -cert are needed only if the server asks for a client certificate,
// -ca only if the server's certificate is not from a CA the system trusts, and
// -skip-identity-check only if the certificate is not for -host (Node's
// checkServerIdentity: () => null).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

func main() {
	host := flag.String("host", "localhost", "server host")
	port := flag.Int("port", 8000, "server port")
	keyFile := flag.String("key", "", "client private key PEM file (for servers that ask for a client certificate)")
	certFile := flag.String("cert", "", "client certificate PEM file")
	caFile := flag.String("ca", "", "PEM file of the CA certificates to trust instead of the system's")
	skipIdentity := flag.Bool("skip-identity-check", false, "accept a certificate that is not for -host")
	flag.Parse()
	log.SetFlags(0)

	pair, _, err := excert.Load(*keyFile, *certFile)
	if err != nil {
		log.Fatal(err)
	}
	ca, err := excert.ReadOptional(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	opts := tls.ConnectOptions{
		Host: *host,
		Port: *port,
		SecureContextOptions: tls.SecureContextOptions{
			Key:  pair.KeyPEM,
			Cert: pair.CertPEM,
			CA:   ca,
		},
	}
	if *skipIdentity {
		opts.CheckServerIdentity = func(string, *tls.Certificate) error { return nil }
	}

	// Connect returns once Node's 'secureConnect' would have fired.
	socket, err := tls.Connect(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer socket.Close()
	state := "unauthorized"
	if socket.Authorized() {
		state = "authorized"
	}
	fmt.Println("client connected", state)

	go func() {
		io.Copy(socket, os.Stdin) // process.stdin.pipe(socket)
		socket.End()
	}()
	buf := make([]byte, 16*1024)
	for {
		n, err := socket.Read(buf)
		os.Stdout.Write(buf[:n]) // socket.on('data', ...)
		if errors.Is(err, io.EOF) {
			fmt.Println("server ends connection") // socket.on('end', ...)
			return
		}
		if err != nil {
			log.Fatal(err)
		}
	}
}

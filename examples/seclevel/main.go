// Command seclevel shows OpenSSL's security levels, as the "OpenSSL security
// level" section of Node's documentation does: "@SECLEVEL=N" in a cipher
// string sets the level, and legacy protocols such as TLSv1 need level 0.
// It starts a server with ciphers "DEFAULT@SECLEVEL=N" and minVersion TLSv1,
// connects to it with the same ciphers, minVersion TLSv1 and maxVersion
// -version, prints
// "Client connected with protocol: VERSION" from the server side, and exits.
//
//	go run ./examples/seclevel                          # TLSv1 at level 0: connects
//	go run ./examples/seclevel -level 1                 # TLSv1 at level 1: refused
//	go run ./examples/seclevel -level 2 -version TLSv1.2
//
// A refused handshake prints "client error CODE" and "server error CODE"
// (Node's 'error' and 'tlsClientError') and exits with status 1.
//
// nodetls follows the OpenSSL it links: Debian's default level is 2, where
// Node's bundled OpenSSL 3.0 defaults to 1; with an explicit @SECLEVEL both
// behave the same.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

func code(err error) string {
	var te *tls.Error
	if errors.As(err, &te) && te.Code != "" {
		return te.Code
	}
	return err.Error()
}

func main() {
	level := flag.Int("level", 0, "OpenSSL security level, 0 to 5")
	version := flag.String("version", "TLSv1", `the client's maxVersion ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")`)
	flag.Parse()
	log.SetFlags(0)

	pair, err := excert.SelfSigned("localhost", "127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	ciphers := fmt.Sprintf("DEFAULT@SECLEVEL=%d", *level)

	connected := make(chan struct{}, 1)
	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{
			Key: pair.KeyPEM, Cert: pair.CertPEM,
			Ciphers:    ciphers,
			MinVersion: "TLSv1",
		},
	}, func(socket *tls.Socket) {
		fmt.Println("Client connected with protocol:", socket.GetProtocol())
		socket.End()
		connected <- struct{}{}
	})
	if err != nil {
		log.Fatal(err)
	}
	failed := make(chan struct{}, 1)
	server.OnTLSClientError(func(err error, _ *tls.Socket) {
		fmt.Println("server error", code(err))
		failed <- struct{}{}
	})
	if err := server.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	socket, err := tls.Connect(tls.ConnectOptions{
		Port:       server.Address().(*net.TCPAddr).Port,
		Servername: "localhost",
		SecureContextOptions: tls.SecureContextOptions{
			CA:      pair.CertPEM,
			Ciphers: ciphers,
			// Node's default minVersion is TLSv1.2: a client that wants to
			// speak TLSv1 lowers both ends of its range.
			MinVersion: "TLSv1",
			MaxVersion: *version,
		},
	})
	if err != nil {
		fmt.Println("client error", code(err))
		<-failed
		os.Exit(1)
	}
	defer socket.Close()
	<-connected
}

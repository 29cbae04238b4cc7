// Command echoserver is the echo server of Node's tls.createServer()
// documentation, on nodetls: for each client it prints "server connected
// authorized" or "server connected unauthorized", writes "welcome!\n" and then
// echoes what the client sends until the client ends. It prints "server bound"
// and the address once it listens.
//
// It serves -key/-cert, or a self-signed certificate for localhost made at
// start (written to -cert-out, if given, for clients to trust). Try it with
//
//	go run ./examples/echoserver -cert-out /tmp/echo.pem
//	openssl s_client -connect 127.0.0.1:8000 -CAfile /tmp/echo.pem
//
// or with examples/client. Ctrl-C stops it.
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
	keyFile := flag.String("key", "", "private key PEM file (default: made at start)")
	certFile := flag.String("cert", "", "certificate chain PEM file (default: self-signed for localhost, made at start)")
	certOut := flag.String("cert-out", "", "write the self-signed certificate made at start to this file")
	flag.Parse()
	log.SetFlags(0)

	pair, ok, err := excert.Load(*keyFile, *certFile)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		if pair, err = excert.SelfSigned("localhost", "127.0.0.1"); err != nil {
			log.Fatal(err)
		}
		if *certOut != "" {
			if err := os.WriteFile(*certOut, pair.CertPEM, 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}

	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: pair.KeyPEM, Cert: pair.CertPEM},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		state := "unauthorized"
		if socket.Authorized() {
			state = "authorized"
		}
		fmt.Println("server connected", state)
		if _, err := socket.Write([]byte("welcome!\n")); err != nil {
			return
		}
		io.Copy(socket, socket) // socket.pipe(socket): until the client ends
	})
	if err != nil {
		log.Fatal(err)
	}
	// Node's 'tlsClientError': a handshake that failed.
	server.OnTLSClientError(func(err error, _ *tls.Socket) {
		fmt.Println("tlsClientError", err)
	})
	if err := server.Listen(*addr); err != nil {
		log.Fatal(err)
	}
	fmt.Println("server bound", server.Address())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	server.Close()
}

// Command httpsserver serves HTTPS with Go's net/http on nodetls: a
// tls.Server runs the handshakes (OpenSSL's, with Node's options and events)
// and hands each socket, once it is secure, to a net.Listener that
// http.Server serves. Handlers find their connection's *tls.Socket through
// http.Server.ConnContext.
//
//	GET  /      answers "hello from nodetls: <protocol> <cipher> alpn=<protocol|none>"
//	POST /echo  answers with the request's body
//
// It prints "server bound" and the address once it listens, and serves -key
// and -cert, or a self-signed certificate for localhost made at start
// (written to -cert-out, if given, for clients to trust). Try it with
//
//	go run ./examples/httpsserver -cert-out /tmp/https.pem
//	curl --cacert /tmp/https.pem https://localhost:8443/
//
// Ctrl-C stops it: the listener closes and requests in flight finish.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

// socketListener is a net.Listener of the sockets a tls.Server has made
// secure: Accept returns them in the order their handshakes ended.
type socketListener struct {
	server *tls.Server
	conns  chan *tls.Socket
	done   chan struct{}
	once   sync.Once
}

func newSocketListener(server *tls.Server) *socketListener {
	l := &socketListener{server: server, conns: make(chan *tls.Socket), done: make(chan struct{})}
	server.OnSecureConnection(func(s *tls.Socket) {
		select {
		case l.conns <- s:
		case <-l.done:
			s.Destroy()
		}
	})
	return l
}

func (l *socketListener) Accept() (net.Conn, error) {
	select {
	case s := <-l.conns:
		return s, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the server accepting; sockets already accepted stay open.
func (l *socketListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.done)
		err = l.server.Close()
	})
	return err
}

func (l *socketListener) Addr() net.Addr { return l.server.Address() }

type socketKey struct{}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "address to listen on (port 0 picks a free port)")
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
		ALPNProtocols:        []string{"http/1.1"},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	server.OnTLSClientError(func(err error, s *tls.Socket) {
		fmt.Println("tlsClientError:", err)
		s.Destroy()
	})
	ln := newSocketListener(server)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := r.Context().Value(socketKey{}).(*tls.Socket)
		alpn := s.ALPNProtocol()
		if alpn == "" {
			alpn = "none"
		}
		fmt.Fprintf(w, "hello from nodetls: %s %s alpn=%s\n", s.GetProtocol(), s.GetCipher().Name, alpn)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// The echo writes while it reads: without full duplex, net/http
		// would close the connection after a body of 256 KiB or more.
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			log.Println("echo:", err)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := io.Copy(w, r.Body); err != nil {
			log.Println("echo:", err)
		}
	})
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, socketKey{}, c)
		},
	}

	if err := server.Listen(*addr); err != nil {
		log.Fatal(err)
	}
	fmt.Println("server bound", server.Address())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			log.Fatal(err)
		}
	case err := <-served:
		log.Fatal(err)
	}
}

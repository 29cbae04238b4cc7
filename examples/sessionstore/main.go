// Command sessionstore is the session cache pattern of Node's documentation
// ('resumeSession' event): the server keeps each new session in a store
// keyed by its session id ('newSession') and gives it back when a client asks
// to resume that id ('resumeSession'), so returning clients skip the full
// handshake. Node has no cache of its own; a real deployment would share the
// store between servers (Redis, memcached).
//
// Session tickets are off (SSL_OP_NO_TICKET in secureOptions), so every
// TLS 1.2 resumption goes through the store, by session id. As in Node, the
// store does not resume TLS 1.3: there 'resumeSession' sees the ClientHello's
// random legacy session id, and TLS 1.3 resumes with tickets instead.
//
//	go run ./examples/sessionstore -cert-out /tmp/sess.pem
//	openssl s_client -connect 127.0.0.1:8000 -CAfile /tmp/sess.pem -tls1_2 -reconnect
//
// It prints "newSession ID", "resumeSession ID found" (or "not found") and,
// for each connection, "server connected PROTOCOL reused" (or "new").
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
)

// store is the session store: session id (hex) to session data.
type store struct {
	mu       sync.Mutex
	sessions map[string][]byte
}

func (s *store) put(id, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[hex.EncodeToString(id)] = data
}

func (s *store) get(id []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[hex.EncodeToString(id)]
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	keyFile := flag.String("key", "", "private key PEM file (default: made at start)")
	certFile := flag.String("cert", "", "certificate chain PEM file (default: self-signed for localhost, made at start)")
	certOut := flag.String("cert-out", "", "write the self-signed certificate made at start to this file")
	maxVersion := flag.String("max-version", "", `highest protocol version ("TLSv1.2", "TLSv1.3"; default TLSv1.3)`)
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
		SecureContextOptions: tls.SecureContextOptions{
			Key:           pair.KeyPEM,
			Cert:          pair.CertPEM,
			MaxVersion:    *maxVersion,
			SecureOptions: int64(openssl.OpNoTicket),
		},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		state := "new"
		if socket.IsSessionReused() {
			state = "reused"
		}
		fmt.Println("server connected", socket.GetProtocol(), state)
		socket.Write([]byte("welcome!\n"))
		// Wait for the client to end: TLS 1.3 sessions are sent after the
		// handshake, and the client has to read them.
		socket.Read(make([]byte, 1))
	})
	if err != nil {
		log.Fatal(err)
	}

	tlsSessionStore := &store{sessions: map[string][]byte{}}
	// Node's server.on('newSession', (id, data, cb) => { store[id] = data; cb(); })
	server.OnNewSession(func(id, data []byte) {
		fmt.Println("newSession", hex.EncodeToString(id))
		tlsSessionStore.put(id, data)
	})
	// Node's server.on('resumeSession', (id, cb) => cb(null, store[id] || null))
	server.OnResumeSession(func(id []byte) []byte {
		data := tlsSessionStore.get(id)
		state := "found"
		if data == nil {
			state = "not found"
		}
		fmt.Println("resumeSession", hex.EncodeToString(id), state)
		return data
	})
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

// Command ticketkeys rotates its session ticket keys on a timer, as Node's
// documentation advises ("the keys should be regularly regenerated and
// server's keys can be reset with server.setTicketKeys()"): it starts with 48
// random bytes (the ticketKeys option) and replaces them every -every with
// server.SetTicketKeys. SIGHUP rotates at once.
//
// Tickets issued under the previous keys no longer decrypt: a client holding
// one gets a full handshake and a fresh ticket, as in Node. Servers behind a
// load balancer would share the keys (the same 48 bytes, distributed
// securely); they are never written anywhere here.
//
//	go run ./examples/ticketkeys -every 1m -cert-out /tmp/tk.pem
//	openssl s_client -connect 127.0.0.1:8000 -CAfile /tmp/tk.pem -sess_out /tmp/tk.sess </dev/null
//	openssl s_client -connect 127.0.0.1:8000 -CAfile /tmp/tk.pem -sess_in /tmp/tk.sess </dev/null   # Reused
//
// It prints "ticket keys set, key name HEX" at start and "ticket keys
// rotated, key name HEX" at each rotation (the key name is the first 16
// bytes, which every ticket carries in the clear), and
// "server connected PROTOCOL reused" (or "new") per connection.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

// newTicketKeys is 48 bytes of cryptographically strong random data, the form
// Node's ticketKeys option and setTicketKeys take.
func newTicketKeys() []byte {
	keys := make([]byte, 48)
	if _, err := rand.Read(keys); err != nil {
		log.Fatal(err)
	}
	return keys
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	every := flag.Duration("every", 12*time.Hour, "how often to replace the ticket keys")
	keyFile := flag.String("key", "", "private key PEM file (default: made at start)")
	certFile := flag.String("cert", "", "certificate chain PEM file (default: self-signed for localhost, made at start)")
	certOut := flag.String("cert-out", "", "write the self-signed certificate made at start to this file")
	flag.Parse()
	log.SetFlags(0)
	if *every <= 0 {
		log.Fatal("-every must be positive")
	}

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
			Key:        pair.KeyPEM,
			Cert:       pair.CertPEM,
			TicketKeys: newTicketKeys(),
		},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		state := "new"
		if socket.IsSessionReused() {
			state = "reused"
		}
		fmt.Println("server connected", socket.GetProtocol(), state)
		socket.Write([]byte("welcome!\n"))
		socket.Read(make([]byte, 1)) // until the client ends
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Listen(*addr); err != nil {
		log.Fatal(err)
	}
	fmt.Println("server bound", server.Address())
	keyName := func() string { return hex.EncodeToString(server.GetTicketKeys()[:16]) }
	fmt.Println("ticket keys set, key name", keyName())

	rotate := func() {
		if err := server.SetTicketKeys(newTicketKeys()); err != nil {
			log.Fatal(err)
		}
		fmt.Println("ticket keys rotated, key name", keyName())
	}
	ticker := time.NewTicker(*every)
	defer ticker.Stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	for {
		select {
		case <-ticker.C:
			rotate()
		case <-hup:
			rotate()
		case <-stop:
			server.Close()
			return
		}
	}
}

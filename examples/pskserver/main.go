// Command pskserver is a TLS-PSK server, as Node's documentation describes
// pre-shared keys: no certificates; the server's pskCallback returns the key
// of the identity a client names, and the cipher list enables PSK suites
// (they are off by default). It echoes, like examples/echoserver.
//
//	go run ./examples/pskserver -identity TestUser -psk d731ef57be09e5204f0b205b60627028
//	openssl s_client -connect 127.0.0.1:8000 -psk_identity TestUser -psk d731ef57be09e5204f0b205b60627028
//
// Without -psk it makes a random 32-byte key and prints it. TLS 1.3 clients
// use the key with a SHA-256 TLS 1.3 suite; TLS 1.2 clients with the PSK
// suites -ciphers enables ("PSK+HIGH": PSK-AES256-GCM-SHA384, ...). Each
// connection prints "server connected PROTOCOL CIPHER".
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodetls/nodetls/tls"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	identity := flag.String("identity", "TestUser", "the PSK identity clients use")
	pskHex := flag.String("psk", "", "the pre-shared key, hex (default: 32 random bytes, printed)")
	hint := flag.String("hint", "", "PSK identity hint sent to TLS 1.2 clients")
	ciphers := flag.String("ciphers", "PSK+HIGH", "OpenSSL cipher list (TLS 1.2); PSK suites must be in it")
	flag.Parse()
	log.SetFlags(0)

	var psk []byte
	if *pskHex != "" {
		var err error
		if psk, err = hex.DecodeString(*pskHex); err != nil {
			log.Fatalf("-psk: %v", err)
		}
	} else {
		psk = make([]byte, 32)
		if _, err := rand.Read(psk); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("psk for %s: %s\n", *identity, hex.EncodeToString(psk))
	}

	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Ciphers: *ciphers},
		PSKIdentityHint:      *hint,
		// Node's pskCallback(socket, identity): the key, or null for an
		// unknown identity (the client gets an unknown_psk_identity alert).
		PSKCallback: func(_ *tls.Socket, id string) []byte {
			if id != *identity {
				fmt.Printf("unknown identity %q\n", id)
				return nil
			}
			return psk
		},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		fmt.Printf("server connected %s %s\n", socket.GetProtocol(), socket.GetCipher().Name)
		if _, err := socket.Write([]byte("welcome!\n")); err != nil {
			return
		}
		io.Copy(socket, socket)
	})
	if err != nil {
		log.Fatal(err)
	}
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

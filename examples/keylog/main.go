// Command keylog writes the TLS secrets of its connection to a key log file,
// as Node's documentation does with tlsSocket.on('keylog', line =>
// logFile.write(line)): each line is in NSS SSLKEYLOGFILE format, which
// Wireshark (and tshark -o tls.keylog_file:FILE) uses to decrypt a capture of
// the connection. The key log holds secrets: it is opened for appending with
// mode 0600, like Node's --tls-keylog.
//
//	openssl s_server -accept 127.0.0.1:8443 -key key.pem -cert cert.pem -rev
//	go run ./examples/keylog -port 8443 -ca cert.pem -keylog /tmp/ssl-keys.log
//
// It sends -send, prints the first line the server answers as "received:
// LINE" and the number of key log lines written.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

func main() {
	host := flag.String("host", "localhost", "server host")
	port := flag.Int("port", 8443, "server port")
	caFile := flag.String("ca", "", "PEM file of the CA certificates to trust instead of the system's")
	keylogFile := flag.String("keylog", "ssl-keys.log", "key log file to append to")
	send := flag.String("send", "hello\n", "what to send")
	flag.Parse()
	log.SetFlags(0)

	ca, err := excert.ReadOptional(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	logFile, err := os.OpenFile(*keylogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer logFile.Close()

	socket, err := tls.Connect(tls.ConnectOptions{
		Host:                 *host,
		Port:                 *port,
		SecureContextOptions: tls.SecureContextOptions{CA: ca},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer socket.Close()

	// Node's tlsSocket.on('keylog', (line) => logFile.write(line)). The
	// handshake's lines, logged before Connect returned, arrive at once.
	var mu sync.Mutex
	lines := 0
	socket.OnKeylog(func(line []byte) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := logFile.Write(line); err != nil {
			log.Fatal(err)
		}
		lines++
	})

	if _, err := socket.Write([]byte(*send)); err != nil {
		log.Fatal(err)
	}
	reply, err := bufio.NewReader(socket).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("received: %s", reply)
	mu.Lock()
	fmt.Println("key log lines written:", lines)
	mu.Unlock()
}

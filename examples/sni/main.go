// Command sni serves several host names from one address, each with its own
// certificate, through Node's server.addContext(hostname, context): a client
// that asks for a name (SNI) gets the certificate of the most recently added
// context whose name matches ("*.example.com" matches one label); other
// clients get the default certificate.
//
// Contexts come from -context NAME=KEYFILE,CERTFILE flags (repeatable), the
// default from -key/-cert. Without any, it makes a CA, a default certificate
// for localhost and contexts for "a.example" and "*.b.example", and writes the
// CA to -ca-out (if given) for clients to trust:
//
//	go run ./examples/sni -ca-out /tmp/sni-ca.pem
//	openssl s_client -connect 127.0.0.1:8000 -servername x.b.example -CAfile /tmp/sni-ca.pem
//
// Each connection prints "servername NAME certificate CN" (servername "-" when
// the client sent none).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nodetls/nodetls/examples/internal/excert"
	"github.com/nodetls/nodetls/tls"
)

// contextFlags collects -context NAME=KEYFILE,CERTFILE.
type contextFlags []string

func (c *contextFlags) String() string     { return strings.Join(*c, " ") }
func (c *contextFlags) Set(v string) error { *c = append(*c, v); return nil }

type sniContext struct {
	name string
	pair excert.Pair
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on (port 0 picks a free port)")
	keyFile := flag.String("key", "", "default private key PEM file")
	certFile := flag.String("cert", "", "default certificate chain PEM file")
	caOut := flag.String("ca-out", "", "write the CA made at start to this file")
	var contexts contextFlags
	flag.Var(&contexts, "context", "NAME=KEYFILE,CERTFILE: serve NAME (may start with \"*.\") with this key and certificate; repeatable")
	flag.Parse()
	log.SetFlags(0)

	def, list, err := load(*keyFile, *certFile, contexts, *caOut)
	if err != nil {
		log.Fatal(err)
	}

	server, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: def.KeyPEM, Cert: def.CertPEM},
	}, func(socket *tls.Socket) {
		defer socket.Close()
		name := socket.Servername()
		if name == "" {
			name = "-"
		}
		cn := ""
		if cert := socket.GetCertificate(); cert != nil {
			cn = cert.Subject.Get("CN")
		}
		fmt.Printf("servername %s certificate %s\n", name, cn)
		socket.Write([]byte("hello " + name + "\n"))
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range list {
		// Node's server.addContext(hostname, {key, cert}).
		if err := server.AddContext(c.name, tls.SecureContextOptions{Key: c.pair.KeyPEM, Cert: c.pair.CertPEM}); err != nil {
			log.Fatalf("context %s: %v", c.name, err)
		}
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

// load reads the default pair and the -context flags, or makes the demo set.
func load(keyFile, certFile string, contexts []string, caOut string) (excert.Pair, []sniContext, error) {
	def, ok, err := excert.Load(keyFile, certFile)
	if err != nil {
		return excert.Pair{}, nil, err
	}
	var list []sniContext
	for _, c := range contexts {
		name, files, found := strings.Cut(c, "=")
		key, cert, found2 := strings.Cut(files, ",")
		if !found || !found2 || name == "" {
			return excert.Pair{}, nil, fmt.Errorf("-context %q: want NAME=KEYFILE,CERTFILE", c)
		}
		p, _, err := excert.Load(key, cert)
		if err != nil {
			return excert.Pair{}, nil, fmt.Errorf("-context %s: %w", name, err)
		}
		list = append(list, sniContext{name, p})
	}
	if ok {
		return def, list, nil
	}
	if len(list) > 0 {
		return excert.Pair{}, nil, fmt.Errorf("-context needs -key and -cert for the default certificate")
	}
	ca, err := excert.NewCA("nodetls example CA")
	if err != nil {
		return excert.Pair{}, nil, err
	}
	defer ca.Free()
	if def, err = ca.Issue("localhost", []string{"localhost", "127.0.0.1"}, false); err != nil {
		return excert.Pair{}, nil, err
	}
	for _, name := range []string{"a.example", "*.b.example"} {
		p, err := ca.Issue(name, []string{name}, false)
		if err != nil {
			return excert.Pair{}, nil, err
		}
		list = append(list, sniContext{name, p})
	}
	if caOut != "" {
		if err := os.WriteFile(caOut, ca.CertPEM, 0o644); err != nil {
			return excert.Pair{}, nil, err
		}
	}
	return def, list, nil
}

// Command nodetls is the front door of the nodetls project: Node's tls examples
// and tools, built on the library. Run "nodetls <verb> [arguments]".
package main

import (
	"fmt"
	"io"
	"os"
)

// verb is one sub-command: run gets the arguments after the verb name and
// returns the process exit status.
type verb struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// verbs is the dispatch table of the command, one line per verb.
var verbs = []struct {
	name string
	verb
}{
	{"demo", verb{runDemo, "the echo server of Node's tls documentation, on a certificate made in memory"}},
	{"server", verb{runServer, "a TLS echo server with every option of tls.createServer; --json prints Node's event shapes"}},
	{"client", verb{func(args []string, stdout, stderr io.Writer) int {
		return runClient(args, os.Stdin, stdout, stderr)
	}, "tls.connect: one JSON line when secure, then stdin to the socket and the socket to stdout"}},
	{"ciphers", verb{runCiphers, "list the ciphers a cipher string selects, as `openssl ciphers`"}},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nodetls <verb> [arguments]")
	fmt.Fprintln(w, "verbs:")
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-10s %s\n", v.name, v.summary)
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "nodetls: unknown verb %q\n", args[0])
	usage(stderr)
	return 2
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

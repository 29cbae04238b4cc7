package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/nodetls/nodetls/internal/nodeshape"
	"github.com/nodetls/nodetls/tls"
)

// The flags that `server` and `client` share, and what they turn into:
// Node's option names in kebab-case, files read into the option's bytes.

// listFlag is a repeatable flag; every use adds one value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// contextFlags are the createSecureContext options both verbs take.
type contextFlags struct {
	key, cert, ca       string
	passphrase, ciphers string
	minVersion, maxVer  string
	alpn, keylog        string
	psk                 listFlag
	rejectUnauthorized  bool
}

// addContextFlags defines the flags of contextFlags that both verbs have.
func addContextFlags(fs *flag.FlagSet, c *contextFlags) {
	fs.StringVar(&c.key, "key", "", "private key PEM `FILE`")
	fs.StringVar(&c.cert, "cert", "", "certificate chain PEM `FILE`")
	fs.StringVar(&c.ca, "ca", "", "trusted CA certificates PEM `FILE` (replaces the default roots)")
	fs.StringVar(&c.passphrase, "passphrase", "", "passphrase of the key or PFX")
	fs.StringVar(&c.ciphers, "ciphers", "", "OpenSSL cipher string (TLS_* names set the TLSv1.3 suites)")
	fs.StringVar(&c.minVersion, "min-version", "", "lowest protocol: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3")
	fs.StringVar(&c.maxVer, "max-version", "", "highest protocol: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3")
	fs.StringVar(&c.alpn, "alpn-protocols", "", "ALPN protocols in preference order, comma separated (h2,http/1.1)")
	fs.BoolVar(&c.rejectUnauthorized, "reject-unauthorized", true, "refuse a peer whose certificate does not verify (true|false)")
	fs.StringVar(&c.keylog, "keylog", "", "append NSS key log lines to `FILE` (mode 0600), for Wireshark")
	fs.Var(&c.psk, "psk", "pre-shared key `IDENTITY=HEXKEY`")
}

// pskEntry is one --psk IDENTITY=HEXKEY.
type pskEntry struct {
	identity string
	key      []byte
}

// parsePSK reads IDENTITY=HEXKEY (the key is the part after the last "=").
func parsePSK(v string) (pskEntry, error) {
	i := strings.LastIndexByte(v, '=')
	if i <= 0 || i == len(v)-1 {
		return pskEntry{}, usagef("--psk %q: want IDENTITY=HEXKEY", v)
	}
	key, err := hex.DecodeString(v[i+1:])
	if err != nil {
		return pskEntry{}, usagef("--psk %q: the key %q is not hex", v, v[i+1:])
	}
	return pskEntry{identity: v[:i], key: key}, nil
}

// parseALPN splits a comma separated protocol list; empty entries are an error.
func parseALPN(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	for _, p := range parts {
		if p == "" {
			return nil, usagef("--alpn-protocols %q: empty protocol name", v)
		}
	}
	return parts, nil
}

// checkPort reports a port outside 0..65535.
func checkPort(port int) error {
	if port < 0 || port > 65535 {
		return usagef("--port %d is not a port number (0 to 65535)", port)
	}
	return nil
}

// checkNonNegative reports a negative duration flag.
func checkNonNegative(name string, v int, unit string) error {
	if v < 0 {
		return usagef("--%s %d: want %s >= 0", name, v, unit)
	}
	return nil
}

// openKeylog opens (creating with mode 0600) the key log file for appending,
// as Node's --tls-keylog does.
func openKeylog(path string) (*keylogFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, usagef("--keylog: cannot open %s: %v", path, bareError(err))
	}
	return &keylogFile{f: f}, nil
}

// bareError is the system's reason of a file error ("no such file or
// directory"), without the path the message names anyway.
func bareError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// keylogFile appends whole key log lines from many connections.
type keylogFile struct {
	mu sync.Mutex
	f  *os.File
}

// write appends one line (which ends in "\n").
func (k *keylogFile) write(line []byte) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	_, _ = k.f.Write(line)
}

func (k *keylogFile) close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	_ = k.f.Close()
}

// lineWriter prints whole lines from many goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

// json prints one event as a JSON line.
func (l *lineWriter) json(o *nodeshape.Object) { l.println(o.Line()) }

// printError prints {"event":"error",...} for err and returns exit status 1.
func printError(out *lineWriter, err error) int {
	out.json(nodeshape.Error(err))
	return 1
}

// secureContextOptions reads the files of the flags into Node's
// createSecureContext options; an unreadable file is a usage error.
func (c *contextFlags) secureContextOptions() (tls.SecureContextOptions, error) {
	o := tls.SecureContextOptions{
		Passphrase: c.passphrase,
		Ciphers:    c.ciphers,
		MinVersion: c.minVersion,
		MaxVersion: c.maxVer,
	}
	var err error
	if o.Key, err = readFileFlag("key", c.key); err != nil {
		return o, err
	}
	if o.Cert, err = readFileFlag("cert", c.cert); err != nil {
		return o, err
	}
	if o.CA, err = readFileFlag("ca", c.ca); err != nil {
		return o, err
	}
	return o, nil
}

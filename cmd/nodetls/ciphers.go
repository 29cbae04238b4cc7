package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/openssl"
)

// The ciphers verb reproduces `openssl ciphers` of OpenSSL 3.0: the same
// options, parsed by the same rules as OpenSSL's apps option parser, and the
// same output on stdout, computed by the library (openssl.ResolveCiphers).

const ciphersProg = "ciphers"

// cipherOpt is one entry of the option table: name, whether it takes a value,
// and its help line. A section entry has only a title.
type cipherOpt struct {
	name    string
	value   bool
	help    string
	section string
}

// cipherOpts is `openssl ciphers`'s option table, in its -help order.
var cipherOpts = []cipherOpt{
	{section: "General options:"},
	{name: "help", help: "Display this summary"},
	{section: "Output options:"},
	{name: "v", help: "Verbose listing of the SSL/TLS ciphers"},
	{name: "V", help: "Even more verbose"},
	{name: "stdname", help: "Show standard cipher names"},
	{name: "convert", value: true, help: "Convert standard name into OpenSSL name"},
	{section: "Cipher specification options:"},
	{name: "s", help: "Only supported ciphers"},
	{name: "tls1", help: "Ciphers compatible with TLS1"},
	{name: "tls1_1", help: "Ciphers compatible with TLS1.1"},
	{name: "tls1_2", help: "Ciphers compatible with TLS1.2"},
	{name: "tls1_3", help: "Ciphers compatible with TLS1.3"},
	{name: "psk", help: "Include ciphersuites requiring PSK"},
	{name: "srp", help: "(deprecated) Include ciphersuites requiring SRP"},
	{name: "ciphersuites", value: true, help: "Configure the TLSv1.3 ciphersuites to use"},
	{section: "Provider options:"},
	{name: "provider-path", value: true, help: "Provider load path (must be before 'provider' argument if required)"},
	{name: "provider", value: true, help: "Provider to load (can be specified multiple times)"},
	{name: "propquery", value: true, help: "Property query used when fetching algorithms"},
}

// cipherParams are the positional parameters shown by -help. An option
// spelled like a parameter ("-cipher") ends option parsing, as in OpenSSL.
var cipherParams = []cipherOpt{{name: "cipher", help: "Cipher string to decode (optional)"}}

// ciphersHelp writes the -help text in the layout of OpenSSL's opt_help.
func ciphersHelp(w io.Writer) {
	width := 0
	for _, o := range cipherOpts {
		if o.section != "" {
			continue
		}
		n := 2 + len(o.name)
		if o.value {
			n += len(" val")
		}
		width = max(width, n)
	}
	for _, o := range cipherParams {
		width = max(width, 2+len(o.name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [options] [cipher]\n", ciphersProg)
	for _, o := range cipherOpts {
		if o.section != "" {
			fmt.Fprintf(&b, "\n%s\n", o.section)
			continue
		}
		start := "-" + o.name
		if o.value {
			start += " val"
		}
		fmt.Fprintf(&b, " %-*s %s\n", width, start, o.help)
	}
	b.WriteString("\nParameters:\n")
	for _, o := range cipherParams {
		fmt.Fprintf(&b, " %-*s %s\n", width, o.name, o.help)
	}
	io.WriteString(w, b.String())
}

// ciphersArgs is what the command line asks for.
type ciphersArgs struct {
	verbose, upperV, stdname bool
	convert                  *string
	query                    openssl.CipherQuery
}

// errHelp and errUsage end option parsing: print the help, or the usage hint.
var (
	errHelp  = errors.New("help")
	errUsage = errors.New("usage")
)

// parseCiphersArgs parses the arguments as OpenSSL's opt_next does: options
// start with "-" or "--", "--" ends them, "-name=value" and "-name value" both
// give a value, "-h" is -help, and the first argument that is not an option
// (or the parameter name "-cipher") ends them.
func parseCiphersArgs(args []string, stderr io.Writer) (ciphersArgs, []string, error) {
	var a ciphersArgs
	i := 0
	for i < len(args) {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			break
		}
		i++
		if arg == "--" {
			break
		}
		p := arg[1:]
		if strings.HasPrefix(p, "-") {
			p = p[1:]
		}
		var val *string
		if k := strings.IndexByte(p, '='); k >= 0 {
			v := p[k+1:]
			val, p = &v, p[:k]
		}
		if p == "h" {
			p = "help"
		}
		o, found := lookupCipherOpt(p)
		if !found {
			fmt.Fprintf(stderr, "%s: Unknown option: -%s\n", ciphersProg, p)
			return a, nil, errUsage
		}
		if !o.value {
			if val != nil {
				fmt.Fprintf(stderr, "%s: Option -%s does not take a value\n", ciphersProg, p)
				return a, nil, errUsage
			}
		} else if val == nil {
			if i >= len(args) {
				fmt.Fprintf(stderr, "%s: Option -%s needs a value\n", ciphersProg, o.name)
				return a, nil, errUsage
			}
			val = &args[i]
			i++
		}
		switch o.name {
		case "cipher": // a parameter's name: OpenSSL's parser reports end of options
			return a, args[i:], nil
		case "help":
			return a, nil, errHelp
		case "v":
			a.verbose = true
		case "V":
			a.verbose, a.upperV = true, true
		case "stdname":
			a.verbose, a.stdname = true, true
		case "convert":
			a.convert = val
		case "s":
			a.query.SupportedOnly = true
		case "tls1":
			a.query.MinVersion, a.query.MaxVersion = openssl.TLS1, openssl.TLS1
		case "tls1_1":
			a.query.MinVersion, a.query.MaxVersion = openssl.TLS1_1, openssl.TLS1_1
		case "tls1_2":
			a.query.MinVersion, a.query.MaxVersion = openssl.TLS1_2, openssl.TLS1_2
		case "tls1_3":
			a.query.MinVersion, a.query.MaxVersion = openssl.TLS1_3, openssl.TLS1_3
		case "psk":
			a.query.PSK = true
		case "srp":
			a.query.SRP = true
		case "ciphersuites":
			a.query.Ciphersuites = val
		case "propquery":
			a.query.PropQuery = *val
		case "provider", "provider-path":
			fmt.Fprintf(stderr, "%s: option -%s is not supported by nodetls\n", ciphersProg, o.name)
			return a, nil, errUnsupported
		}
	}
	return a, args[i:], nil
}

var errUnsupported = errors.New("unsupported option")

func lookupCipherOpt(name string) (cipherOpt, bool) {
	for _, o := range cipherOpts {
		if o.section == "" && o.name == name {
			return o, true
		}
	}
	for _, o := range cipherParams {
		if o.name == name {
			return o, true
		}
	}
	return cipherOpt{}, false
}

// runCiphers is `nodetls ciphers`: stdout and exit status as `openssl ciphers`
// with the same arguments.
func runCiphers(args []string, stdout, stderr io.Writer) int {
	a, rest, err := parseCiphersArgs(args, stderr)
	switch {
	case errors.Is(err, errHelp):
		ciphersHelp(stderr)
		return 0
	case errors.Is(err, errUnsupported):
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "%s: Use -help for summary.\n", ciphersProg)
		return 1
	}
	switch len(rest) {
	case 0:
	case 1:
		a.query.CipherList = &rest[0]
	default:
		fmt.Fprintf(stderr, "%s: Use -help for summary.\n", ciphersProg)
		return 1
	}

	if a.convert != nil {
		name, ok := openssl.ConvertStandardName(*a.convert)
		if !ok {
			name = "(NONE)"
		}
		fmt.Fprintf(stdout, "OpenSSL cipher name: %s\n", name)
		return 0
	}

	list, err := openssl.ResolveCiphers(a.query)
	if err != nil {
		var oe *openssl.Error
		if errors.As(err, &oe) {
			switch oe.Op {
			case "SSL_CTX_set_ciphersuites":
				io.WriteString(stderr, "Error setting TLSv1.3 ciphersuites\n")
			case "SSL_CTX_set_cipher_list":
				io.WriteString(stderr, "Error in cipher list\n")
			}
			printErrors(stderr, oe)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", ciphersProg, err)
		}
		return 1
	}

	var out bytes.Buffer
	if !a.verbose {
		for i, c := range list {
			if i > 0 {
				out.WriteByte(':')
			}
			out.WriteString(c.Name)
		}
		out.WriteByte('\n')
	} else {
		for _, c := range list {
			if a.upperV {
				id := c.ID
				if id&0xff000000 == 0x03000000 {
					fmt.Fprintf(&out, "          0x%02X,0x%02X - ", (id>>8)&0xff, id&0xff)
				} else {
					fmt.Fprintf(&out, "0x%02X,0x%02X,0x%02X,0x%02X - ", id>>24, (id>>16)&0xff, (id>>8)&0xff, id&0xff)
				}
			}
			if a.stdname {
				nm := c.StandardName
				if nm == "" {
					nm = "UNKNOWN"
				}
				fmt.Fprintf(&out, "%-45s - ", nm)
			}
			out.WriteString(c.Description)
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return 1
	}
	return 0
}

// printErrors writes the error queue as ERR_print_errors does, one line per
// entry: "TID:error:CODE:library:function:reason:file:line:data". Entries that
// did not come from OpenSSL's queue (no code) are not OpenSSL's to print.
func printErrors(w io.Writer, e *openssl.Error) {
	tid := cbridge.ThreadIDHex()
	for _, q := range e.Queue {
		if q.Code == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:%s\n", tid, q.PrintLine())
	}
}

package tls

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"unicode/utf16"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/jsstring"
	"github.com/nodetls/nodetls/openssl"
)

// Error is every error this package returns, or wraps: Node's error object in
// Go terms. Code is Node's err.code ("ERR_TLS_CERT_ALTNAME_INVALID",
// "ERR_SSL_NO_SHARED_CIPHER", a verify code such as "CERT_HAS_EXPIRED",
// "ECONNRESET"); it is "" where Node's error has no code. Message is Node's
// err.message, to the letter (an OpenSSL error's message is OpenSSL's error
// line, "TID:error:0A0000C1:SSL routines:...:file:line:\n", as Node prints it).
//
// Use errors.As to get it, or errors.Is with &tls.Error{Code: "..."}.
type Error struct {
	Code    string // Node's err.code
	Message string // Node's err.message
	// Library and Reason are OpenSSL's, where the error came from OpenSSL
	// (Node's err.library and err.reason). For ERR_TLS_CERT_ALTNAME_INVALID,
	// Reason is Node's err.reason ("Host: x. is not in the cert's altnames: ...").
	Library, Reason string
	// Host and Cert are set on ERR_TLS_CERT_ALTNAME_INVALID (Node's err.host, err.cert).
	// Host and Port are also set, when Connect was given them, on the client's
	// ECONNRESET for a connection closed before the handshake ended.
	Host string
	Port int
	Cert *Certificate
	// Err is the underlying error, if any (an *openssl.Error, a net error, ...).
	Err error
}

// Error formats the error for Go logs: the code, then Node's message.
func (e *Error) Error() string {
	msg := strings.TrimRight(e.Message, "\n")
	if e.Code == "" {
		return msg
	}
	return e.Code + ": " + msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code (and, when
// target's Message is set, the same Message).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Code == "" {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// newError makes an *Error with a code and message.
func newError(code, message string) *Error { return &Error{Code: code, Message: message} }

// errorf makes an *Error with a formatted message.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Node's validation errors (lib/internal/errors.js), with their messages.

func errInvalidArgValue(name string, value any, reason string) *Error {
	if reason == "" {
		reason = "is invalid"
	}
	kind := "argument"
	if strings.Contains(name, ".") {
		kind = "property"
	}
	inspected := inspect(value)
	if u := utf16.Encode([]rune(inspected)); len(u) > 128 {
		// Node cuts the inspected value at 128 UTF-16 code units.
		inspected = string(utf16.Decode(u[:128])) + "..."
	}
	return errorf("ERR_INVALID_ARG_VALUE", "The %s '%s' %s. Received %s", kind, name, reason, inspected)
}

// errOutOfRange is Node's ERR_OUT_OF_RANGE; like Node, it groups the digits
// of an integer only when its magnitude is above 2^32.
func errOutOfRange(name, rangeText string, value any) *Error {
	received := inspect(value)
	var n int64
	switch x := value.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	}
	if n > 1<<32 || n < -(1<<32) {
		received = addNumericSeparator(fmt.Sprint(n))
	}
	return errorf("ERR_OUT_OF_RANGE", "The value of \"%s\" is out of range. It must be %s. Received %s", name, rangeText, received)
}

// inspect formats a value the way Node's util.inspect shows it in messages.
func inspect(v any) string {
	switch x := v.(type) {
	case string:
		return inspectString(x)
	case []byte:
		return inspectBuffer(x)
	case []string:
		// util.inspect prints a short array on one line; a longer one (from
		// seven entries, or wider than its 80 columns) it lays out in
		// columns over several lines, which nodetls does not reproduce: it
		// keeps such an array on one line too (README: where nodetls differs).
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = inspect(s)
		}
		if len(parts) == 0 {
			return "[]"
		}
		return "[ " + strings.Join(parts, ", ") + " ]"
	}
	return fmt.Sprint(v)
}

// inspectString is util.inspect of a string: in single quotes (double
// quotes when it holds a single quote and no double quote; backquotes when
// it holds both and no backquote or "${"), with control characters,
// U+007F-U+009F and the backslash escaped; a string longer than 76 UTF-16
// units is shown line by line ('a\n' +\n  'b'), and one longer than 10,000
// is cut there ("... n more characters"). Bytes that are not UTF-8 are read
// as V8 reads them.
func inspectString(s string) string {
	const maxLength = 10000
	s = jsstring.UTF8(s)
	units := utf16.Encode([]rune(s))
	trailer := ""
	if n := len(units); n > maxLength {
		more := n - maxLength
		s = string(utf16.Decode(units[:maxLength]))
		trailer = fmt.Sprintf("... %d more character%s", more, plural(more))
	}
	if len(units) > 76 && strings.Contains(s, "\n") {
		var lines []string
		for rest := s; rest != ""; {
			i := strings.IndexByte(rest, '\n')
			if i < 0 || i == len(rest)-1 {
				lines = append(lines, rest)
				break
			}
			lines = append(lines, rest[:i+1])
			rest = rest[i+1:]
		}
		for i, l := range lines {
			lines[i] = quoteJS(l)
		}
		return strings.Join(lines, " +\n  ") + trailer
	}
	return quoteJS(s) + trailer
}

// quoteJS is util.inspect's strEscape of one line.
func quoteJS(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") {
		if !strings.Contains(s, `"`) {
			quote = '"'
		} else if !strings.Contains(s, "`") && !strings.Contains(s, "${") {
			quote = '`'
		}
	}
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\'' && quote == '\'':
			b.WriteString(`\'`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			b.WriteString(`\x`)
			b.WriteByte(hexd[r>>4])
			b.WriteByte(hexd[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// inspectBuffer is util.inspect of a Buffer: its first 50 bytes in hex.
func inspectBuffer(p []byte) string {
	const maxBytes = 50 // buffer.INSPECT_MAX_BYTES
	var b strings.Builder
	b.WriteString("<Buffer")
	for i, c := range p {
		if i == maxBytes {
			more := len(p) - maxBytes
			fmt.Fprintf(&b, " ... %d more byte%s", more, plural(more))
			break
		}
		fmt.Fprintf(&b, " %02x", c)
	}
	if len(p) == 0 {
		b.WriteByte(' ')
	}
	b.WriteByte('>')
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// jsonStringify is JSON.stringify of a string, as Node's %j shows it in a
// message: quoted, with '"', '\\' and control characters escaped and
// everything else as it is.
func jsonStringify(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// addNumericSeparator groups digits in threes as Node's ERR_OUT_OF_RANGE
// message does ("4_294_967_297").
func addNumericSeparator(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) < 4 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(s[:first])
	for i := first; i < len(s); i += 3 {
		b.WriteString("_")
		b.WriteString(s[i : i+3])
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// nodeLibPrefix lists the OpenSSL libraries Node names in ERR_OSSL_<LIB>_
// codes (crypto_util.cc OSSL_ERROR_CODES_MAP); others get no library part.
var nodeLibPrefix = map[string]bool{
	"SYS": true, "BN": true, "RSA": true, "DH": true, "EVP": true, "BUF": true, "OBJ": true, "PEM": true,
	"DSA": true, "X509": true, "ASN1": true, "CONF": true, "CRYPTO": true, "EC": true, "SSL": true, "BIO": true,
	"PKCS7": true, "X509V3": true, "PKCS12": true, "RAND": true, "DSO": true, "ENGINE": true, "OCSP": true,
	"UI": true, "COMP": true, "ECDSA": true, "ECDH": true, "OSSL_STORE": true, "FIPS": true, "CMS": true,
	"TS": true, "HMAC": true, "CT": true, "ASYNC": true, "KDF": true, "SM2": true, "USER": true,
}

func upperReason(reason string) string {
	var b strings.Builder
	for _, r := range reason {
		if r == ' ' {
			b.WriteByte('_')
		} else {
			b.WriteString(strings.ToUpper(string(r)))
		}
	}
	return b.String()
}

// opensslCode is Node's code for an OpenSSL error thrown while configuring
// (ThrowCryptoError): ERR_OSSL_<LIB>_<REASON>, ERR_SSL_<REASON> for libssl,
// ERR_OSSL_<REASON> for libraries Node does not name.
func opensslCode(e openssl.ErrorEntry) string {
	if e.Reason == "" {
		return ""
	}
	lib := cbridge.ErrLibMacroName(e.LibCode)
	switch {
	case lib == "SSL":
		return "ERR_SSL_" + upperReason(e.Reason)
	case nodeLibPrefix[lib]:
		return "ERR_OSSL_" + lib + "_" + upperReason(e.Reason)
	}
	return "ERR_OSSL_" + upperReason(e.Reason)
}

// fromConfigError turns an OpenSSL error raised while building a context
// into Node's thrown error: code from the first queue entry, message
// "error:XXXXXXXX:lib::reason" (ERR_error_string_n), as Node's
// ThrowCryptoError does.
func fromConfigError(err error) error {
	if err == nil {
		return nil
	}
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	var oe *openssl.Error
	if !errors.As(err, &oe) {
		return &Error{Message: err.Error(), Err: err}
	}
	first := openssl.ErrorEntry{Reason: oe.Reason, Library: oe.Library, LibCode: oe.LibCode, Code: oe.Code}
	if len(oe.Queue) > 0 {
		first = oe.Queue[0]
	}
	msg := first.String()
	if first.Code == 0 {
		// A check made on our side of the bridge, in OpenSSL's words.
		msg = first.Reason
	}
	return &Error{Code: opensslCode(first), Message: msg, Library: first.Library, Reason: first.Reason, Err: err}
}

// fromPrintedError is Node's error for an OpenSSL failure it reports as a
// TypeError without a code whose message is ERR_print_errors' text, one
// "TID:error:CODE:library:function:reason:file:line:data" line per queue
// entry (SecureContext::SetSessionIdContext).
func fromPrintedError(err error) error {
	var oe *openssl.Error
	if !errors.As(err, &oe) || len(oe.Queue) == 0 {
		return fromConfigError(err)
	}
	tid := cbridge.ThreadIDHex()
	var b strings.Builder
	for _, e := range oe.Queue {
		b.WriteString(tid + ":" + e.PrintLine() + "\n")
	}
	return &Error{Message: b.String(), Err: err}
}

// fromSocketError turns an error of a TLS connection into Node's socket
// error: OpenSSL errors become ERR_SSL_<REASON> with the last queue line as
// message (TLSWrap::ClearOut); transport errors keep their errno code.
func fromSocketError(err error) error {
	if err == nil {
		return nil
	}
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	var oe *openssl.Error
	if errors.As(err, &oe) && len(oe.Queue) > 0 {
		last := oe.Queue[len(oe.Queue)-1]
		first := oe.Queue[0]
		code := ""
		if first.Reason != "" {
			code = "ERR_SSL_" + upperReason(first.Reason)
		}
		return &Error{
			Code:    code,
			Message: cbridge.ThreadIDHex() + ":" + last.PrintLine() + "\n",
			Library: first.Library,
			Reason:  first.Reason,
			Err:     err,
		}
	}
	if code := errnoCode(err); code != "" {
		return &Error{Code: code, Message: errnoMessage(err, code), Err: err}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &Error{Code: "ETIMEDOUT", Message: err.Error(), Err: err}
	}
	return &Error{Message: err.Error(), Err: err}
}

// errnoCode gives the errno name of a system error ("ECONNREFUSED").
func errnoCode(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case syscall.ECONNREFUSED:
			return "ECONNREFUSED"
		case syscall.ECONNRESET:
			return "ECONNRESET"
		case syscall.EPIPE:
			return "EPIPE"
		case syscall.ETIMEDOUT:
			return "ETIMEDOUT"
		case syscall.EHOSTUNREACH:
			return "EHOSTUNREACH"
		case syscall.ENETUNREACH:
			return "ENETUNREACH"
		case syscall.EADDRINUSE:
			return "EADDRINUSE"
		case syscall.EADDRNOTAVAIL:
			return "EADDRNOTAVAIL"
		case syscall.EACCES:
			return "EACCES"
		case syscall.ENOENT:
			return "ENOENT"
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return "ENOTFOUND"
	}
	return ""
}

// errnoMessage is Node's message for a system error: a failed connect
// ("connect ECONNREFUSED 127.0.0.1:1"), listen, read or write.
func errnoMessage(err error, code string) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" && oe.Addr != nil {
		return "connect " + code + " " + oe.Addr.String()
	}
	if errors.As(err, &oe) && (oe.Op == "read" || oe.Op == "write") {
		// A stream error, as libuv's: "read ECONNRESET", "write EPIPE".
		return oe.Op + " " + code
	}
	if errors.As(err, &oe) && oe.Op == "listen" && oe.Addr != nil {
		// Node's uvExceptionWithHostPort: "listen EADDRINUSE: address already in use 127.0.0.1:8000".
		return "listen " + code + ": " + uvMessage(err, code) + " " + oe.Addr.String()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "getaddrinfo " + code + " " + dnsErr.Name
	}
	return err.Error()
}

// uvMessage is libuv's text for an errno (uv_strerror), where it differs from
// the C library's.
func uvMessage(err error, code string) string {
	switch code {
	case "EADDRINUSE":
		return "address already in use"
	case "EADDRNOTAVAIL":
		return "address not available"
	case "EACCES":
		return "permission denied"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en.Error()
	}
	return err.Error()
}

// errInternalAssertion is Node's internal assert() failure: the message, then
// Node's request to report the bug.
func errInternalAssertion(message string) *Error {
	return newError("ERR_INTERNAL_ASSERTION", message+"\nThis is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n"+
		"Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n")
}

// Node's fixed TLS errors.

func errHandshakeTimeout() *Error {
	return newError("ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout")
}

func errSessionAttack() *Error {
	return newError("ERR_TLS_SESSION_ATTACK", "TLS session renegotiation attack detected")
}

func errRenegotiationDisabled() *Error {
	return newError("ERR_TLS_RENEGOTIATION_DISABLED", "TLS session renegotiation disabled for this socket")
}

// errSocketHangUp is what a server reports when a client goes away before its
// handshake finished.
func errSocketHangUp() *Error { return newError("ECONNRESET", "socket hang up") }

// errClientDisconnected is what a client reports when the server goes away
// before the handshake finished.
func errClientDisconnected(host string, port int) *Error {
	e := newError("ECONNRESET", "Client network socket disconnected before secure TLS connection was established")
	e.Host = host
	e.Port = port
	return e
}

// isStreamErrno reports a system error of the transport's read or write
// (ECONNRESET, EPIPE): Node reports it as is ("read ECONNRESET"), not as the
// peer going away.
func isStreamErrno(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "read" || oe.Op == "write") && errnoCode(err) != ""
}

// isTransportEOF reports an error that means the peer closed or reset the
// transport (rather than a TLS failure).
func isTransportEOF(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe) {
		var te *openssl.TruncatedError
		if errors.As(err, &te) {
			return true
		}
		var oe *openssl.Error
		return !errors.As(err, &oe)
	}
	var te *openssl.TruncatedError
	return errors.As(err, &te)
}

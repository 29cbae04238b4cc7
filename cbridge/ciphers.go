package cbridge

/*
#include "ciphers.h"
*/
import "C"

import (
	"strings"
	"unsafe"
)

// CipherInfo is one cipher of a resolved list, as libssl describes it.
type CipherInfo struct {
	Name         string // SSL_CIPHER_get_name, e.g. "ECDHE-RSA-AES128-GCM-SHA256"
	StandardName string // SSL_CIPHER_standard_name; "" when OpenSSL has none
	Version      string // SSL_CIPHER_get_version, e.g. "TLSv1.2"
	ID           uint32 // SSL_CIPHER_get_id, e.g. 0x0300C02F
	ProtocolID   uint16 // SSL_CIPHER_get_protocol_id, e.g. 0xC02F
	Bits         int    // SSL_CIPHER_get_bits: secret bits
	AlgBits      int    // SSL_CIPHER_get_bits: processed bits of the algorithm
	AEAD         bool   // SSL_CIPHER_is_aead
	Description  string // SSL_CIPHER_description, newline included
	AuthNID      int    // SSL_CIPHER_get_auth_nid (set for a connection's cipher)
}

// CipherParams are the inputs of ResolveCiphers. A nil string pointer leaves
// OpenSSL's default in place; SecLevel < 0 leaves the configured security level.
type CipherParams struct {
	CipherList   *string // SSL_CTX_set_cipher_list
	Ciphersuites *string // SSL_CTX_set_ciphersuites
	PropQuery    string  // property query for SSL_CTX_new_ex; "" = none
	SecLevel     int     // SSL_CTX_set_security_level when >= 0
	MinVersion   int     // SSL_CTX_set_min_proto_version (0 = lowest)
	MaxVersion   int     // SSL_CTX_set_max_proto_version (0 = highest)
	PSK          bool    // install a dummy PSK client callback
	SRP          bool    // install a dummy SRP password callback
	Supported    bool    // SSL_get1_supported_ciphers instead of SSL_get_ciphers
}

var cipherSteps = map[int64]string{
	C.NT_CIPHERS_STEP_CTX_NEW:      "SSL_CTX_new_ex",
	C.NT_CIPHERS_STEP_MIN_VERSION:  "SSL_CTX_set_min_proto_version",
	C.NT_CIPHERS_STEP_MAX_VERSION:  "SSL_CTX_set_max_proto_version",
	C.NT_CIPHERS_STEP_SRP:          "SSL_CTX_set_srp_client_pwd_callback",
	C.NT_CIPHERS_STEP_CIPHERSUITES: "SSL_CTX_set_ciphersuites",
	C.NT_CIPHERS_STEP_CIPHER_LIST:  "SSL_CTX_set_cipher_list",
	C.NT_CIPHERS_STEP_SSL_NEW:      "SSL_new",
	C.NT_CIPHERS_STEP_COPY:         "SSL_get_ciphers",
}

// cString returns s as NUL-terminated bytes for one C call, or an error naming
// op when s holds a NUL byte (OpenSSL would silently stop reading there).
func cString(op, what string, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, NewError(op, "nodetls", what+" contains a NUL byte")
	}
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b, nil
}

// optCString is cString for an optional string: nil stays nil.
func optCString(op, what string, s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return cString(op, what, *s)
}

// ResolveCiphers builds, in one C call, the ordered cipher list OpenSSL would
// use for p: a TLS server SSL_CTX configured as `openssl ciphers` configures
// it, then an SSL made from it. No OpenSSL object outlives the call. A failure
// is an *Error whose Op names the OpenSSL call that refused its input.
func ResolveCiphers(p CipherParams) ([]CipherInfo, error) {
	list, err := optCString("SSL_CTX_set_cipher_list", "cipher list", p.CipherList)
	if err != nil {
		return nil, err
	}
	suites, err := optCString("SSL_CTX_set_ciphersuites", "ciphersuites", p.Ciphersuites)
	if err != nil {
		return nil, err
	}
	var propq []byte
	if p.PropQuery != "" {
		if propq, err = cString("SSL_CTX_new_ex", "property query", p.PropQuery); err != nil {
			return nil, err
		}
	}
	flags := 0
	if p.PSK {
		flags |= C.NT_CIPHERS_PSK
	}
	if p.SRP {
		flags |= C.NT_CIPHERS_SRP
	}
	if p.Supported {
		flags |= C.NT_CIPHERS_SUPPORTED
	}
	r := C.nt_ciphers_resolve(cChars(list), cChars(suites), cChars(propq),
		C.int(p.SecLevel), C.int(p.MinVersion), C.int(p.MaxVersion), C.int(flags))
	if r.err != nil {
		op, ok := cipherSteps[int64(r.ret)]
		if !ok {
			op = "nt_ciphers_resolve"
		}
		return nil, takeErr(op, r.err)
	}
	defer C.nt_ciphers_free(r.ptr)
	n := int(r.ret)
	infos := unsafe.Slice((*C.nt_cipher_info)(r.ptr), n)
	out := make([]CipherInfo, n)
	for i := range infos {
		e := &infos[i]
		out[i] = CipherInfo{
			Name:         C.GoString(e.name),
			StandardName: goStringOrEmpty(e.stdname),
			Version:      C.GoString(e.version),
			ID:           uint32(e.id),
			ProtocolID:   uint16(e.protocol_id),
			Bits:         int(e.bits),
			AlgBits:      int(e.alg_bits),
			AEAD:         e.aead != 0,
			Description:  C.GoString(&e.desc[0]),
		}
	}
	return out, nil
}

func goStringOrEmpty(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// CipherNameFromStandard is OPENSSL_cipher_name: the OpenSSL name of a cipher
// given its standard (RFC) name, or "(NONE)" when OpenSSL knows no such cipher.
func CipherNameFromStandard(stdname string) string {
	b, err := cString("OPENSSL_cipher_name", "name", stdname)
	if err != nil {
		return "(NONE)"
	}
	return C.GoString(C.OPENSSL_cipher_name(cChars(b)))
}

// ThreadIDHex is the calling OS thread's id as ERR_print_errors prints it at
// the start of each line (the bytes of CRYPTO_THREAD_ID, upper-case hex).
func ThreadIDHex() string {
	var buf [64]C.char
	C.nt_thread_id_hex(&buf[0], C.int(len(buf)))
	return C.GoString(&buf[0])
}

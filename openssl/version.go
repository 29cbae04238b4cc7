package openssl

import (
	"fmt"

	"github.com/nodetls/nodetls/cbridge"
)

// VersionInfo describes the linked OpenSSL library.
type VersionInfo struct {
	Text   string // "OpenSSL 3.0.19 27 Jan 2026" (OpenSSL_version(OPENSSL_VERSION))
	Short  string // "3.0.19", as Node's process.versions.openssl
	Number uint64 // OpenSSL_version_num(), e.g. 0x30000130
}

func (v VersionInfo) String() string { return v.Text }

// Version reports the OpenSSL library this program runs with.
func Version() VersionInfo {
	return VersionInfo{Text: cbridge.VersionText(), Short: cbridge.VersionString(), Number: cbridge.VersionNumber()}
}

// HexNumber is the version number as OpenSSL prints it, e.g. "0x30000130".
func (v VersionInfo) HexNumber() string { return fmt.Sprintf("0x%08x", v.Number) }

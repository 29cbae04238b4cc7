package cbridge

/*
#include "bridge.h"
*/
import "C"

// VersionText is OpenSSL_version(OPENSSL_VERSION), e.g. "OpenSSL 3.0.19 27 Jan 2026".
func VersionText() string { return C.GoString(C.OpenSSL_version(C.OPENSSL_VERSION)) }

// VersionNumber is OpenSSL_version_num(), e.g. 0x30000130.
func VersionNumber() uint64 { return uint64(C.OpenSSL_version_num()) }

// VersionString is OPENSSL_VERSION_STRING of the running library, e.g. "3.0.19".
func VersionString() string { return C.GoString(C.OpenSSL_version(C.OPENSSL_VERSION_STRING)) }

// HeaderVersionNumber is OPENSSL_VERSION_NUMBER of the headers cbridge was built against.
func HeaderVersionNumber() uint64 { return uint64(C.OPENSSL_VERSION_NUMBER) }

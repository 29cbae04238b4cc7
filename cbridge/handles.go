package cbridge

/*
#include "bridge.h"
*/
import "C"

import "runtime/cgo"

// ntReleaseHandle is called by the ex_data free hook when OpenSSL frees an SSL or
// SSL_CTX that carried a Go handle, so the Go object can be collected.
//
//export ntReleaseHandle
func ntReleaseHandle(h C.uintptr_t) {
	if h != 0 {
		cgo.Handle(h).Delete()
	}
}

// handleValue returns the Go value behind a handle kept in ex_data, or nil.
func handleValue(h C.uintptr_t) any {
	if h == 0 {
		return nil
	}
	return cgo.Handle(h).Value()
}

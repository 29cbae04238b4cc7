package cbridge

/*
#include "tickets.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// TicketKeyLen is the size of a session ticket key in Node's layout: bytes
// 0-15 key name, 16-31 HMAC-SHA256 secret, 32-47 AES-128-CBC key.
const TicketKeyLen = int(C.NT_TICKET_KEY_LEN)

const opTicketKeys = "SSL_CTX_set_tlsext_ticket_key_evp_cb"

func checkTicketKey(what string, key []byte) error {
	if len(key) != TicketKeyLen {
		return NewError(opTicketKeys, "nodetls", fmt.Sprintf("%s must be exactly %d bytes, got %d", what, TicketKeyLen, len(key)))
	}
	return nil
}

// SetTicketKeys replaces the context's ticket keys: current encrypts new
// tickets, older[i] is still accepted for decryption until the Unix time
// untilUnixNano[i] (an older key already past its time is dropped). The first
// call installs the ticket key callback, after which OpenSSL's own ticket keys
// are no longer used for this context.
func (c *SSLCtx) SetTicketKeys(current []byte, older [][]byte, untilUnixNano []int64) error {
	if err := c.check(opTicketKeys); err != nil {
		return err
	}
	if err := checkTicketKey("ticket key", current); err != nil {
		return err
	}
	if len(older) != len(untilUnixNano) {
		return NewError(opTicketKeys, "nodetls", "older ticket keys and their times differ in number")
	}
	flat := make([]byte, 0, len(older)*TicketKeyLen)
	for i, k := range older {
		if err := checkTicketKey(fmt.Sprintf("older ticket key %d", i), k); err != nil {
			return err
		}
		flat = append(flat, k...)
	}
	var until *C.int64_t
	if len(untilUnixNano) > 0 {
		until = (*C.int64_t)(unsafe.Pointer(&untilUnixNano[0]))
	}
	r := C.nt_ctx_set_ticket_keys(c.p, cBytes(current), cBytes(flat), until, C.int(len(older)))
	runtime.KeepAlive(c)
	clear(flat)
	_, _, err := result(opTicketKeys, r)
	return err
}

// RotateTicketKey makes key the current ticket key; the previous current key
// is still accepted for decryption until the Unix time untilUnixNano (not at
// all when that time has passed). It fails when no keys were set.
func (c *SSLCtx) RotateTicketKey(key []byte, untilUnixNano int64) error {
	if err := c.check(opTicketKeys); err != nil {
		return err
	}
	if err := checkTicketKey("ticket key", key); err != nil {
		return err
	}
	r := C.nt_ctx_rotate_ticket_key(c.p, cBytes(key), C.int64_t(untilUnixNano))
	runtime.KeepAlive(c)
	_, _, err := result(opTicketKeys, r)
	return err
}

// TicketKey returns a copy of the current ticket key, or nil when none was set.
func (c *SSLCtx) TicketKey() []byte {
	if c == nil || c.p == nil {
		return nil
	}
	out := make([]byte, TicketKeyLen)
	ok := C.nt_ctx_get_ticket_key(c.p, cBytes(out))
	runtime.KeepAlive(c)
	if ok != 1 {
		return nil
	}
	return out
}

// TicketKeyCount is how many keys decrypt tickets now: the current key plus
// the older keys still in their grace period (0 when no keys were set).
func (c *SSLCtx) TicketKeyCount() int {
	if c == nil || c.p == nil {
		return 0
	}
	n := int(C.nt_ctx_ticket_key_count(c.p))
	runtime.KeepAlive(c)
	return n
}

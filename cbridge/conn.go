package cbridge

/*
// The step (nt_conn_step) gets neither noescape nor
// nocallback: OpenSSL calls back into Go from inside SSL_read, SSL_write and
// SSL_do_handshake (keylog, new session, SNI, ALPN, PSK, OCSP), and a
// callback may grow the goroutine's stack, which would leave C holding a
// stale pointer to a stack buffer had the buffer not escaped. The helper
// below only copies memory.
#cgo noescape nt_conn_take_overflow
#cgo nocallback nt_conn_take_overflow
#include "conn.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
)

// SSL owns one SSL object (a TLS connection's state) with its window BIO. It
// is not safe for concurrent use: the connection engine calls it under its lock.
type SSL struct {
	p       *C.SSL
	cleanup runtime.Cleanup
}

// Step operations.
const (
	OpHandshake   = int(C.NT_OP_HANDSHAKE)
	OpRead        = int(C.NT_OP_READ)
	OpWrite       = int(C.NT_OP_WRITE)
	OpShutdown    = int(C.NT_OP_SHUTDOWN)
	OpKeyUpdate   = int(C.NT_OP_KEY_UPDATE)
	OpRenegotiate = int(C.NT_OP_RENEGOTIATE)
)

// SSL_get_error values.
const (
	ErrNone        = int(C.SSL_ERROR_NONE)
	ErrSSL         = int(C.SSL_ERROR_SSL)
	ErrWantRead    = int(C.SSL_ERROR_WANT_READ)
	ErrWantWrite   = int(C.SSL_ERROR_WANT_WRITE)
	ErrWantX509    = int(C.SSL_ERROR_WANT_X509_LOOKUP)
	ErrSyscall     = int(C.SSL_ERROR_SYSCALL)
	ErrZeroReturn  = int(C.SSL_ERROR_ZERO_RETURN)
	ErrWantClientH = int(C.SSL_ERROR_WANT_CLIENT_HELLO_CB)
)

// Step flags.
const (
	FlagInitFinished     = int(C.NT_F_INIT_FINISHED)
	FlagReceivedShutdown = int(C.NT_F_RECEIVED_SHUTDOWN)
	FlagSentShutdown     = int(C.NT_F_SENT_SHUTDOWN)
	// FlagStashFull: a write step met a renegotiation with a full stash of
	// unread application data and did nothing; a read step must take it first.
	FlagStashFull = int(C.NT_F_STASH_FULL)
	// FlagMore (read steps): the step filled its buffer and OpenSSL holds
	// more input, plaintext or ciphertext in the window.
	FlagMore = int(C.NT_F_MORE)
	// FlagStarved (read and write steps): OpenSSL holds nothing it could
	// read on and took all the input; a read step needs more input first.
	FlagStarved = int(C.NT_F_STARVED)
)

// NewSSL makes an SSL from ctx with a window BIO, in server (accept) or client
// (connect) state. owner is the Go object callbacks are delivered to; it stays
// reachable until the SSL is freed.
func NewSSL(ctx *SSLCtx, server bool, owner any) (*SSL, error) {
	if ctx == nil || ctx.p == nil {
		return nil, NewError("SSL_new", "nodetls", "no SSL_CTX")
	}
	var h cgo.Handle
	if owner != nil {
		h = cgo.NewHandle(owner)
	}
	srv := C.int(0)
	if server {
		srv = 1
	}
	r := C.nt_conn_new(ctx.p, srv, C.uintptr_t(h))
	runtime.KeepAlive(ctx)
	_, p, err := result("SSL_new", r)
	if err != nil {
		if h != 0 {
			h.Delete()
		}
		return nil, err
	}
	s := &SSL{p: (*C.SSL)(p)}
	s.cleanup = runtime.AddCleanup(s, func(p *C.SSL) { C.nt_conn_free(p) }, s.p)
	return s, nil
}

// Free frees the SSL (and releases the owner handle).
func (s *SSL) Free() {
	if s == nil || s.p == nil {
		return
	}
	s.cleanup.Stop()
	C.nt_conn_free(s.p)
	s.p = nil
}

// StepResult is what one engine step did.
type StepResult struct {
	Ret             int64 // bytes read or written; else the SSL call's return value
	SSLError        int   // SSL_get_error of a failed call (ErrNone if none)
	Flags           int   // Flag* bits
	InUsed          int   // input bytes consumed
	OutLen          int   // bytes written into the output window
	OverflowPending int   // bytes waiting to be taken with TakeOverflow
	HandshakeStarts uint32
	HandshakeDones  uint32
	AlertReceived   int // last alert received (type<<8 | description), 0 if none
	AlertSent       int // last alert sent
	Err             error
}

// Step runs one engine operation. in is the ciphertext received and not yet
// consumed (inEOF: the transport has ended); out is free space for ciphertext
// to send; buf is the plaintext destination (OpRead) or source (OpWrite).
func (s *SSL) Step(op int, in []byte, inEOF bool, out []byte, buf []byte) StepResult {
	if s == nil || s.p == nil {
		return StepResult{Ret: -1, SSLError: ErrSSL, Err: NewError("SSL step", "nodetls", "connection is freed")}
	}
	eof := C.int(0)
	if inEOF {
		eof = 1
	}
	st := C.nt_conn_step(s.p, C.int(op), cBytes(in), C.size_t(len(in)), eof,
		cBytes(out), C.size_t(len(out)), cBytes(buf), C.size_t(len(buf)))
	return stepResult(op, &st)
}

func stepResult(op int, st *C.nt_step) StepResult {
	r := StepResult{
		Ret:             int64(st.ret),
		SSLError:        int(st.ssl_err),
		Flags:           int(st.flags),
		InUsed:          int(st.in_used),
		OutLen:          int(st.out_len),
		OverflowPending: int(st.ovf_pending),
		HandshakeStarts: uint32(st.hs_starts),
		HandshakeDones:  uint32(st.hs_dones),
		AlertReceived:   int(st.alert_recv),
		AlertSent:       int(st.alert_sent),
	}
	if st.err != nil {
		r.Err = takeErr(stepOpName(op), st.err)
	}
	return r
}

func stepOpName(op int) string {
	switch op {
	case OpHandshake:
		return "SSL_do_handshake"
	case OpRead:
		return "SSL_read"
	case OpWrite:
		return "SSL_write"
	case OpShutdown:
		return "SSL_shutdown"
	case OpKeyUpdate:
		return "SSL_key_update"
	case OpRenegotiate:
		return "SSL_renegotiate"
	}
	return "SSL step"
}

// ReleaseBuffers frees OpenSSL's record buffers unless they hold part of a
// record (or a handshake is under way): for a connection about to wait for
// its peer, so that an idle connection holds none.
func (s *SSL) ReleaseBuffers() {
	if s == nil || s.p == nil {
		return
	}
	C.nt_conn_release_buffers(s.p)
}

// TakeOverflow copies ciphertext that did not fit in the output window into dst.
func (s *SSL) TakeOverflow(dst []byte) int {
	if s == nil || s.p == nil || len(dst) == 0 {
		return 0
	}
	return int(C.nt_conn_take_overflow(s.p, cBytes(dst), C.size_t(len(dst))))
}

package cbridge

/*
#include "bridge.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// ErrorEntry is one entry of OpenSSL's error queue.
type ErrorEntry struct {
	Code       uint32 // packed error code, e.g. 0x0A0000B9
	Library    string // "SSL routines"
	Func       string // function name; often empty on OpenSSL 3
	Reason     string // "no cipher match"
	File       string
	Line       int
	Data       string // additional text, when OpenSSL recorded any
	LibCode    int    // ERR_GET_LIB
	ReasonCode int    // ERR_GET_REASON
}

// String formats the entry like ERR_error_string_n of OpenSSL 3, which leaves
// the function field empty: "error:0A0000B9:SSL routines::no cipher match".
func (e ErrorEntry) String() string {
	return fmt.Sprintf("error:%08X:%s::%s", e.Code, e.libText(), e.reasonText())
}

// PrintLine formats the entry like ERR_print_errors, without the thread id
// prefix: "error:CODE:library:function:reason:file:line:data".
func (e ErrorEntry) PrintLine() string {
	return fmt.Sprintf("error:%08X:%s:%s:%s:%s:%d:%s", e.Code, e.libText(), e.Func, e.reasonText(), e.File, e.Line, e.Data)
}

func (e ErrorEntry) libText() string {
	if e.Library != "" || e.Code == 0 {
		return e.Library
	}
	return fmt.Sprintf("lib(%d)", e.LibCode)
}

func (e ErrorEntry) reasonText() string {
	if e.Reason != "" || e.Code == 0 {
		return e.Reason
	}
	return fmt.Sprintf("reason(%d)", e.ReasonCode)
}

// Error is a failed OpenSSL call together with the error queue it left.
// Op names the call ("SSL_CTX_set_cipher_list"). The primary entry is the
// oldest one (what ERR_get_error returns first); Queue holds all of them.
type Error struct {
	Op         string
	Code       uint32 // primary entry's packed code
	Library    string // primary entry's library text, e.g. "SSL routines"
	Reason     string // primary entry's reason text, e.g. "no cipher match"
	ReasonCode int    // primary entry's ERR_GET_REASON
	LibCode    int    // primary entry's ERR_GET_LIB
	Queue      []ErrorEntry
}

// Text is OpenSSL's one-line text of the primary entry (ERR_error_string_n form).
func (e *Error) Text() string {
	if len(e.Queue) == 0 {
		return e.Reason
	}
	return e.Queue[0].String()
}

// Last is the newest entry of the queue (what ERR_peek_last_error names).
func (e *Error) Last() ErrorEntry {
	if len(e.Queue) == 0 {
		return ErrorEntry{Reason: e.Reason}
	}
	return e.Queue[len(e.Queue)-1]
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Text()
	}
	return e.Op + ": " + e.Text()
}

// Is matches another *Error by reason: an *Error target with only Library and
// Reason (or only ReasonCode and LibCode) set matches any error with the same
// reason, so errors.Is(err, &Error{Reason: "bad decrypt"}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	for _, q := range e.entries() {
		if t.Reason != "" && t.Reason != q.Reason {
			continue
		}
		if t.Library != "" && t.Library != q.Library {
			continue
		}
		if t.ReasonCode != 0 && t.ReasonCode != q.ReasonCode {
			continue
		}
		if t.LibCode != 0 && t.LibCode != q.LibCode {
			continue
		}
		if t.Reason == "" && t.ReasonCode == 0 && t.Library == "" && t.LibCode == 0 {
			return false
		}
		return true
	}
	return false
}

func (e *Error) entries() []ErrorEntry {
	if len(e.Queue) > 0 {
		return e.Queue
	}
	return []ErrorEntry{{Reason: e.Reason, Library: e.Library, ReasonCode: e.ReasonCode, LibCode: e.LibCode}}
}

// HasReason reports whether any queue entry carries the reason text.
func (e *Error) HasReason(reason string) bool {
	for _, q := range e.entries() {
		if strings.EqualFold(q.Reason, reason) {
			return true
		}
	}
	return false
}

// NewError builds an Error that did not come from OpenSSL's queue, for checks
// made on the Go side of the bridge (a reason text in OpenSSL's style).
func NewError(op, library, reason string) *Error {
	return &Error{Op: op, Library: library, Reason: reason, Queue: []ErrorEntry{{Library: library, Reason: reason}}}
}

// takeErr converts and frees a captured queue. It returns nil for a nil queue.
func takeErr(op string, q *C.nt_errq) error {
	if q == nil {
		return nil
	}
	defer C.nt_errq_free(q)
	return convertErrq(op, q)
}

func convertErrq(op string, q *C.nt_errq) *Error {
	n := int(q.n)
	err := &Error{Op: op, Queue: make([]ErrorEntry, 0, n)}
	for i := 0; i < n; i++ {
		ce := &q.e[i]
		code := uint32(ce.code)
		err.Queue = append(err.Queue, ErrorEntry{
			Code:       code,
			Library:    C.GoString(&ce.lib[0]),
			Func:       C.GoString(&ce.fn[0]),
			Reason:     C.GoString(&ce.reason[0]),
			File:       C.GoString(&ce.file[0]),
			Line:       int(ce.line),
			Data:       C.GoString(&ce.data[0]),
			LibCode:    int(C.nt_err_lib(C.ulong(code))),
			ReasonCode: int(C.nt_err_reason(C.ulong(code))),
		})
	}
	if len(err.Queue) > 0 {
		p := err.Queue[0]
		err.Code, err.Library, err.Reason, err.ReasonCode, err.LibCode = p.Code, p.Library, p.Reason, p.ReasonCode, p.LibCode
	}
	return err
}

// result converts an nt_result: the error (nil on success) and the raw values.
func result(op string, r C.nt_result) (int64, unsafe.Pointer, error) {
	if r.err != nil {
		return int64(r.ret), r.ptr, takeErr(op, r.err)
	}
	return int64(r.ret), r.ptr, nil
}

// cBytes returns a pointer to b's first byte for a C call, or nil for empty b.
func cBytes(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&b[0]))
}

// cChars is cBytes for char* parameters.
func cChars(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

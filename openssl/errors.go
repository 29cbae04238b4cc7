package openssl

import "github.com/nodetls/nodetls/cbridge"

// Error is a failed OpenSSL call with the error queue it left: the library,
// reason and reason code of the oldest entry, OpenSSL's one-line text, and
// every entry. Use errors.As to get it, or errors.Is with a pattern such as
// &openssl.Error{Reason: "bad decrypt"}.
type Error = cbridge.Error

// ErrorEntry is one entry of OpenSSL's error queue.
type ErrorEntry = cbridge.ErrorEntry

package tls

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

var (
	debugOnce    sync.Once
	debugEnabled bool
	traceEnv     bool
)

func readDebugEnv() {
	debugOnce.Do(func() {
		for _, name := range strings.Split(os.Getenv("NODE_DEBUG"), ",") {
			if strings.EqualFold(strings.TrimSpace(name), "tls") {
				debugEnabled = true
			}
		}
	})
}

// debugf writes a Node-style NODE_DEBUG=tls line ("TLS <pid>: ...") to stderr.
func debugf(format string, args ...any) {
	readDebugEnv()
	if !debugEnabled {
		return
	}
	fmt.Fprintf(os.Stderr, "TLS %d: %s\n", os.Getpid(), fmt.Sprintf(format, args...))
}

// traceAll reports whether every socket should trace (set by SetTraceAll,
// Node's --trace-tls).
func traceAll() bool { return traceEnv }

package openssl_test

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
)

// TestRequestResponseAllocations checks that, once a connection is warm, a
// round trip on a TCP or Unix socket (a Write, the peer's Read that waits
// for it, the peer's reply and the Read that waits for that) allocates
// nothing: windows come from pools and the socket is read without a
// closure per read.
func TestRequestResponseAllocations(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{})
	for _, tt := range []struct {
		name string
		pair socketPair
	}{
		{"tcp", tcpSocketPair},
		{"unix", unixPair},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli, serr, cerr := tt.pair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, serr)
			require.NoError(t, cerr)
			served := make(chan error, 1)
			go func() {
				req := make([]byte, 64)
				reply := make([]byte, 1024)
				for {
					if _, err := io.ReadFull(srv, req); err != nil {
						served <- err
						return
					}
					if _, err := srv.Write(reply); err != nil {
						served <- err
						return
					}
				}
			}()
			req := make([]byte, 64)
			reply := make([]byte, 1024)
			var failed error
			roundTrip := func() {
				if _, err := cli.Write(req); err != nil && failed == nil {
					failed = err
				}
				if _, err := io.ReadFull(cli, reply); err != nil && failed == nil {
					failed = err
				}
			}
			for range 100 {
				roundTrip()
			}
			const rounds = 2000
			// Every allocation is sampled while the round trips run: the ones
			// made in the engine's code, other than windows for its pools,
			// are errors, with or without the race detector.
			defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
			runtime.MemProfileRate = 1
			for range 100 {
				roundTrip()
			}
			engineBefore := engineAllocations()
			var before, after runtime.MemStats
			made := openssl.WindowsMade()
			runtime.ReadMemStats(&before)
			for range rounds {
				roundTrip()
			}
			runtime.ReadMemStats(&after)
			made = openssl.WindowsMade() - made
			require.NoError(t, failed)
			for where, n := range engineAllocations() {
				if n > engineBefore[where] {
					t.Errorf("%d allocations in %d round trips at %s", n-engineBefore[where], rounds, where)
				}
			}
			if !raceEnabled {
				// No allocation at all, the runtime's own aside (a goroutine's
				// stack, the garbage collector's workers): fewer than one per
				// hundred round trips. (Under the race detector sync.Pool drops
				// some of what it is given: windows are made anew, and the
				// pools' own arrays after each collection.)
				assert.Less(t, after.Mallocs-before.Mallocs, uint64(rounds/100),
					"allocations in %d round trips (%d windows made)", rounds, made)
			}
			require.NoError(t, cli.Close())
			assert.Error(t, <-served)
		})
	}
}

// engineAllocations returns, for each place in package openssl (outside its
// tests) that has allocated since the program started, how many objects it
// allocated, leaving out the windows made for its pools and sync.Pool's own
// arrays. It runs a garbage collection first: the profile counts only what
// allocations a finished collection has seen.
func engineAllocations() map[string]int64 {
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	out := map[string]int64{}
	for _, r := range recs {
		where, skip := "", false
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			switch {
			case strings.HasPrefix(f.Function, "sync.(*Pool)"), strings.HasSuffix(f.Function, "openssl.newWindow"):
				skip = true
			case where == "" && strings.HasPrefix(f.Function, "github.com/nodetls/nodetls/openssl.") &&
				!strings.HasSuffix(f.File, "_test.go"):
				where = fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
			}
			if !more {
				break
			}
		}
		if where != "" && !skip {
			out[where] += r.AllocObjects
		}
	}
	return out
}

// Package opsrun runs random sequences of operations on both ends of a
// connection, several goroutines per end, and checks what a user relies on
// whatever the order: no operation panics or hangs, and once the ends are
// gone every goroutine has ended and every OpenSSL object is freed. The
// openssl and tls random-operation tests use it with their own connection
// types.
package opsrun

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/stretchr/testify/assert"
)

// Op is one operation on an end. It must bound itself (a deadline, a
// context), so that one that has not returned after Limit has hung.
type Op[T any] struct {
	Name string
	Run  func(end T, r *rand.Rand) error
}

// Conn is what the common operations need of an end.
type Conn interface {
	net.Conn
	Handshake(ctx context.Context) error
}

// ConnOps are the operations every end has: write and read (the two that
// move data, first), and a handshake bounded by a context. A Write may run
// the handshake, which reads, and a Read may answer the peer (a
// renegotiation, a key update), which writes; as in crypto/tls, the read
// and write deadlines bound those, so both are set before either.
func ConnOps[T Conn]() []Op[T] {
	deadline := func(end T, r *rand.Rand, ms int) {
		_ = end.SetDeadline(time.Now().Add(time.Duration(r.IntN(ms)) * time.Millisecond))
	}
	return []Op[T]{
		{Name: "write", Run: func(end T, r *rand.Rand) error {
			deadline(end, r, 100)
			_, err := end.Write(make([]byte, r.IntN(70000)))
			return err
		}},
		{Name: "read", Run: func(end T, r *rand.Rand) error {
			deadline(end, r, 100)
			_, err := end.Read(make([]byte, 1+r.IntN(40000)))
			return err
		}},
		{Name: "handshake", Run: func(end T, r *rand.Rand) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(200))*time.Millisecond)
			defer cancel()
			return end.Handshake(ctx)
		}},
	}
}

// Limit is how long an operation may take before it counts as hung.
const Limit = 10 * time.Second

// Config describes a run.
type Config[T any] struct {
	// Ops are the operations to pick from; the first Data of them move data
	// and fill the first steps, where Final operations (which end an end) are
	// not run.
	Ops   []Op[T]
	Data  int
	Final map[string]bool
	// Pair makes the two ends of seed's connection and names its case.
	Pair func(t *testing.T, seed uint64) (a, b T, desc string)
	// Abort ends an end at once, unblocking its operations.
	Abort func(end T)
	// Seeds (after a warm-up seed 0) and Steps per goroutine.
	Seeds uint64
	Steps int
}

// Run runs seeds 1..c.Seeds, each as a subtest, with two goroutines per
// end, and then checks that the goroutines and the live OpenSSL objects
// are back where they were after the warm-up. It must not run in parallel
// with other tests (the counts are global).
func Run[T any](t *testing.T, c Config[T]) {
	t.Helper()
	runSeed := func(t *testing.T, seed uint64) {
		a, b, desc := c.Pair(t, seed)
		var wg sync.WaitGroup
		for g, end := range []T{a, a, b, b} {
			wg.Add(1)
			go func(g int, end T) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(g)))
				for step := 0; step < c.Steps; step++ {
					op := c.Ops[r.IntN(len(c.Ops))]
					if step < c.Steps/3 && c.Final[op.Name] {
						op = c.Ops[r.IntN(c.Data)] // data first
					}
					done := make(chan struct{})
					go func() {
						defer close(done)
						_ = op.Run(end, r)
					}()
					select {
					case <-done:
					case <-time.After(Limit):
						t.Errorf("seed %d (%s), goroutine %d: %s did not return within %v", seed, desc, g, op.Name, Limit)
						c.Abort(end)
						<-done
						return
					}
				}
			}(g, end)
		}
		wg.Wait()
		c.Abort(a)
		c.Abort(b)
	}

	runSeed(t, 0) // warm up: contexts, caches
	base := goroutinesDownTo(0)
	before := SettledObjects()
	for seed := uint64(1); seed <= c.Seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runSeed(t, seed) })
	}
	assert.LessOrEqual(t, goroutinesDownTo(base), base, "goroutines after the connections ended")
	after := SettledObjects()
	assert.LessOrEqual(t, after.SSL, before.SSL, "SSL objects")
	assert.LessOrEqual(t, after.Session, before.Session, "SSL_SESSION objects")
	assert.LessOrEqual(t, after.X509, before.X509, "X509 objects")
	assert.LessOrEqual(t, after.PKey, before.PKey, "EVP_PKEY objects")
	assert.LessOrEqual(t, after.BIO, before.BIO, "BIO objects")
	t.Logf("live before %+v after %+v; goroutines %d", before, after, base)
}

// goroutinesDownTo waits (up to 2 s) for the goroutine count to fall to
// limit and returns it.
func goroutinesDownTo(limit int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > limit; i++ {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// SettledObjects waits until the live OpenSSL object counts stop changing.
// It does not run the garbage collector: objects must be freed explicitly,
// not by the finalizer safety net.
func SettledObjects() cbridge.ObjectCounts {
	prev := cbridge.LiveObjects()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		cur := cbridge.LiveObjects()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}

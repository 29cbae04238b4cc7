package tls

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestSNIIndexMatchesNodesOrder checks the addContext index against Node's
// rule, a scan of every entry's pattern from the newest: the same context
// for every name, with literal names, wildcards, groups and repeats mixed.
func TestSNIIndexMatchesNodesOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "ab", "www", "x-y", "*", "a*", "*b", "(a|b)", "é"}
	host := func() string {
		n := 1 + rng.IntN(3)
		h := ""
		for i := 0; i < n; i++ {
			if i > 0 {
				h += "."
			}
			h += labels[rng.IntN(len(labels))]
		}
		return h
	}
	plain := []string{"a", "b", "ab", "www", "x-y", "aab", "abb", "é", "c"}
	name := func() string {
		n := 1 + rng.IntN(3)
		h := ""
		for i := 0; i < n; i++ {
			if i > 0 {
				h += "."
			}
			h += plain[rng.IntN(len(plain))]
		}
		return h
	}
	for round := 0; round < 200; round++ {
		var x sniIndex
		var all []sniEntry
		for i := 0; i < 1+rng.IntN(40); i++ {
			h := host()
			re, err := regexp.Compile(sniPattern(h))
			if err != nil {
				t.Fatalf("pattern of %q: %v", h, err)
			}
			e := sniEntry{re: re, ctx: &SecureContext{}}
			x.add(h, e)
			all = append(all, e)
		}
		for q := 0; q < 200; q++ {
			n := name()
			var want *SecureContext
			for i := len(all) - 1; i >= 0; i-- {
				if all[i].re.MatchString(n) {
					want = all[i].ctx
					break
				}
			}
			if got := x.match(n); got != want {
				t.Fatalf("round %d, %q: got entry %s, want %s", round, n, index(all, got), index(all, want))
			}
		}
	}
}

func index(all []sniEntry, sc *SecureContext) string {
	for i, e := range all {
		if e.ctx == sc {
			return fmt.Sprintf("%d (%s)", i, e.re)
		}
	}
	return "none"
}

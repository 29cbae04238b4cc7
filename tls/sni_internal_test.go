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
	// dotted joins one to three labels drawn from labels.
	dotted := func(labels []string) string {
		h := labels[rng.IntN(len(labels))]
		for n := rng.IntN(3); n > 0; n-- {
			h += "." + labels[rng.IntN(len(labels))]
		}
		return h
	}
	hostLabels := []string{"a", "b", "ab", "www", "x-y", "*", "a*", "*b", "(a|b)", "é"}
	nameLabels := []string{"a", "b", "ab", "www", "x-y", "aab", "abb", "é", "c"}
	for round := 0; round < 200; round++ {
		var x sniIndex
		var all []sniEntry
		for i := 0; i < 1+rng.IntN(40); i++ {
			h := dotted(hostLabels)
			re, err := regexp.Compile(sniPattern(h))
			if err != nil {
				t.Fatalf("pattern of %q: %v", h, err)
			}
			e := sniEntry{re: re, ctx: &SecureContext{}}
			x.add(h, e)
			all = append(all, e)
		}
		for q := 0; q < 200; q++ {
			n := dotted(nameLabels)
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

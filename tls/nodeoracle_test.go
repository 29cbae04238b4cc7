package tls_test

import (
	"strings"
	"testing"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/internal/parity"
)

// nodeOracle is a long-lived node answering JSON requests with parity lines
// (internal/nodeoracle).
type nodeOracle struct{ *nodeoracle.Oracle }

// startNodeOracle runs script, which defines answer(request), in node until
// the test ends.
func startNodeOracle(t testing.TB, script string) nodeOracle {
	t.Helper()
	return nodeOracle{nodeoracle.Start(t, script)}
}

// ask is node's answer to req.
func (o nodeOracle) ask(t testing.TB, req any) parity.Line {
	t.Helper()
	var l parity.Line
	o.Ask(t, req, &l)
	return l
}

// jsText is s as a JavaScript string can hold it: JSON, which carries the
// fuzz inputs to node, would turn bytes that are not UTF-8 into U+FFFD, so
// both sides are given the string with that replacement made.
func jsText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

package tls

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Where the linked OpenSSL has no SSL_trace, asking for a trace says so once,
// naming the library and what to do instead.
func TestNoTraceMessage(t *testing.T) {
	msg := noTraceMessage(4242, "OpenSSL 3.0.19 27 Jan 2026")
	assert.True(t, strings.HasPrefix(msg, "(nodetls:4242) Warning: enableTrace: "), msg)
	assert.Contains(t, msg, "OpenSSL 3.0.19 27 Jan 2026 was built without SSL_trace")
	assert.Contains(t, msg, "no TLS trace is written")
	assert.Contains(t, msg, "enable-ssl-trace")
	assert.NotContains(t, msg, "\n")

	noTraceOnce = sync.Once{} // as in a fresh process
	var b strings.Builder
	warnNoTrace(&b)
	warnNoTrace(&b)
	assert.Equal(t, 1, strings.Count(b.String(), "\n"), "one line per process: %q", b.String())
	assert.Contains(t, b.String(), "without SSL_trace")
}

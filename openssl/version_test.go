package openssl

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionMatchesOpenSSLCLI(t *testing.T) {
	v := Version()
	out, err := exec.Command("openssl", "version").Output()
	require.NoError(t, err, "the openssl CLI is a test prerequisite (.ci/run installs it)")
	// "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)"
	line := strings.TrimSpace(string(out))
	assert.Contains(t, line, "Library: "+v.Text)
	assert.True(t, strings.HasPrefix(v.Text, "OpenSSL "+v.Short+" "), v.Text)
	assert.GreaterOrEqual(t, v.Number, uint64(0x30000000))
}

func TestVersionMatchesNode(t *testing.T) {
	out, err := exec.Command("node", "-p", "process.versions.openssl").Output()
	require.NoError(t, err, "node is a test prerequisite (.ci/run installs it)")
	// Node bundles its own OpenSSL; both are 3.x here. Compare major.minor only.
	nodeV := strings.TrimSpace(string(out))
	assert.Equal(t, strings.Join(strings.Split(nodeV, ".")[:1], "."), strings.Split(Version().Short, ".")[0])
}

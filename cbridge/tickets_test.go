package cbridge

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key store follows its SSL_CTX: set, rotated, read back, and refused
// after Free; inputs the C side trusts are checked first.
func TestTicketKeysStore(t *testing.T) {
	c, err := NewSSLCtx()
	require.NoError(t, err)
	a := bytes.Repeat([]byte{1}, TicketKeyLen)
	b := bytes.Repeat([]byte{2}, TicketKeyLen)
	assert.Nil(t, c.TicketKey())
	assert.Equal(t, 0, c.TicketKeyCount())
	assert.Error(t, c.RotateTicketKey(b, time.Now().Add(time.Hour).UnixNano()), "nothing to rotate")

	var oe *Error
	require.ErrorAs(t, c.SetTicketKeys(a, [][]byte{b}, nil), &oe)
	assert.Equal(t, "older ticket keys and their times differ in number", oe.Reason)

	future := time.Now().Add(time.Hour).UnixNano()
	require.NoError(t, c.SetTicketKeys(a, [][]byte{b, a}, []int64{future, 1}))
	assert.Equal(t, a, c.TicketKey())
	assert.Equal(t, 2, c.TicketKeyCount(), "the key already past its time is dropped")
	require.NoError(t, c.RotateTicketKey(b, future))
	assert.Equal(t, b, c.TicketKey())
	assert.Equal(t, 3, c.TicketKeyCount())
	// No grace: the previous current key (b) goes at once; the older keys stay.
	require.NoError(t, c.RotateTicketKey(a, 0))
	assert.Equal(t, 3, c.TicketKeyCount())

	// A second reference keeps the store alive; the last Free frees it.
	ref := c.Ref()
	c.Free()
	assert.Nil(t, c.TicketKey())
	assert.Equal(t, 0, c.TicketKeyCount())
	require.ErrorAs(t, c.SetTicketKeys(a, nil, nil), &oe)
	assert.Equal(t, "SSL_CTX already freed", oe.Reason)
	assert.Error(t, c.RotateTicketKey(a, future))
	assert.Equal(t, a, ref.TicketKey())
	ref.Free()
}

package openssl

import (
	"errors"
	"fmt"

	"github.com/nodetls/nodetls/cbridge"
)

// connHooks is the Conn seen by OpenSSL's callbacks. They run inside an engine
// step on the goroutine that holds c.mu, so they may touch mu-guarded fields
// but must not lock mu or start another step.
type connHooks Conn

var _ cbridge.ConnHooks = (*connHooks)(nil)

func (h *connHooks) fail(err error) {
	if h.hookErr == nil {
		h.hookErr = err
	}
}

// SelectALPN decodes the client's offer and asks ConnConfig.SelectALPN.
func (h *connHooks) SelectALPN(offered []byte) int {
	var names []string
	var offs []int
	for i := 0; i < len(offered); {
		n := int(offered[i])
		if i+1+n > len(offered) {
			break
		}
		names = append(names, string(offered[i+1:i+1+n]))
		offs = append(offs, i)
		i += 1 + n
	}
	proto, err := h.cfg.SelectALPN(names)
	if errors.Is(err, ErrNoApplicationProtocol) {
		return cbridge.ALPNFatal // OpenSSL reports its own error
	}
	if err != nil {
		h.fail(err)
		return cbridge.ALPNFatal
	}
	if proto == "" {
		return cbridge.ALPNNoAck
	}
	for i, n := range names {
		if n == proto {
			return offs[i]
		}
	}
	h.fail(fmt.Errorf("openssl: ALPN callback chose %q, which the client did not offer", proto))
	return cbridge.ALPNFatal
}

// ErrNoApplicationProtocol, returned by ConnConfig.SelectALPN, refuses the
// client's protocols: the handshake fails with OpenSSL's own
// no_application_protocol alert and error ("no application protocol").
var ErrNoApplicationProtocol = errors.New("openssl: no application protocol")

// ServerName asks ConnConfig.ServerNameCallback which context to use.
func (h *connHooks) ServerName(name string) (*cbridge.SSLCtx, error) {
	ctx, err := h.cfg.ServerNameCallback(name)
	if err != nil {
		h.fail(err)
		return nil, err
	}
	if ctx == nil {
		return nil, nil
	}
	h.curCtx = ctx
	return ctx.Handle(), nil
}

// PSKServer asks ConnConfig.PSKServer for the identity's key.
func (h *connHooks) PSKServer(identity string, maxPSK int) []byte {
	key, err := h.cfg.PSKServer(identity)
	if err != nil {
		h.fail(err)
		return nil
	}
	if len(key) > maxPSK {
		h.fail(&PSKLimitError{What: "key", Len: len(key), Max: maxPSK})
		return nil
	}
	return key
}

// PSKClient asks ConnConfig.PSKClient for an identity and key.
func (h *connHooks) PSKClient(hint string, hasHint bool, maxIdentity, maxPSK int) (string, []byte, bool) {
	id, key, err := h.cfg.PSKClient(hint, hasHint)
	if err != nil {
		h.fail(err)
		return "", nil, false
	}
	if key == nil {
		return "", nil, false
	}
	if len(id) > maxIdentity {
		h.fail(&PSKLimitError{What: "identity", Len: len(id), Max: maxIdentity})
		return "", nil, false
	}
	if len(key) > maxPSK {
		h.fail(&PSKLimitError{What: "key", Len: len(key), Max: maxPSK})
		return "", nil, false
	}
	return id, key, true
}

// PSKLimitError reports a PSK identity or key longer than the linked OpenSSL
// accepts (OpenSSL 3.0: identity 256 bytes, key 512 bytes).
type PSKLimitError struct {
	What     string // "identity" or "key"
	Len, Max int
}

func (e *PSKLimitError) Error() string {
	return fmt.Sprintf("openssl: PSK %s of %d bytes exceeds %d bytes", e.What, e.Len, e.Max)
}

// NewSession hands a new session to ConnConfig.OnNewSession, which owns it.
func (h *connHooks) NewSession(s *cbridge.SessionRef) {
	if ref := s.Ref(); ref != nil {
		h.cfg.OnNewSession(newSessionFrom(ref))
	}
}

// GetSession asks ConnConfig.GetSession for a cached session and hands its
// reference over to OpenSSL.
func (h *connHooks) GetSession(id []byte) *cbridge.Session {
	return h.cfg.GetSession(id).handOver()
}

// Keylog hands a key log line to ConnConfig.Keylog.
func (h *connHooks) Keylog(line string) { h.cfg.Keylog(line) }

// OCSPRequest asks ConnConfig.OCSPRequest for a response to staple.
func (h *connHooks) OCSPRequest() ([]byte, error) {
	resp, err := h.cfg.OCSPRequest()
	if err != nil {
		h.fail(err)
	}
	return resp, err
}

// OCSPResponse hands the stapled response to ConnConfig.OnOCSPResponse.
func (h *connHooks) OCSPResponse(resp []byte) { h.cfg.OnOCSPResponse(resp) }

// ClientHello hands the ClientHello's session id to ConnConfig.OnClientHello.
func (h *connHooks) ClientHello(sessionID []byte, hasTicket bool) {
	h.cfg.OnClientHello(sessionID, hasTicket)
}

// Certificate runs ConnConfig.OnCertificate.
func (h *connHooks) Certificate() bool {
	if err := h.cfg.OnCertificate(); err != nil {
		h.fail(err)
		return false
	}
	return true
}

// HookPanicked turns a panic in a user callback into the step's error.
func (h *connHooks) HookPanicked(hook string, value any) {
	h.fail(fmt.Errorf("openssl: %s callback panicked: %v", hook, value))
}

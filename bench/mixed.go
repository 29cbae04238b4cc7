package main

import "net"

// setupFunc makes the client and server ends of a Go contender.
type setupFunc func(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error)

// mixSetup pairs the client end of one contender with the server end of
// another: in a mixed run each end is one library, so comparing the pairs
// shows which end of a connection costs what.
func mixSetup(cl, sv setupFunc) setupFunc {
	return func(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error) {
		client, _, cdone, err := cl(p, w)
		if err != nil {
			return nil, nil, nil, err
		}
		_, server, sdone, err := sv(p, w)
		if err != nil {
			cdone()
			return nil, nil, nil, err
		}
		return client, server, func() { cdone(); sdone() }, nil
	}
}

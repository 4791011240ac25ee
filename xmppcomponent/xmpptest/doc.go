// Package xmpptest runs real XMPP servers and clients for tests: a Prosody
// child process on free loopback ports whose component configuration comes
// from the operator snippet deploy/prosody/drawbridge.cfg.lua
// (StartProsody), an ejabberd child process configured the same way from
// deploy/ejabberd/drawbridge.yml, optionally federated with another server
// over loopback s2s (StartEjabberd), and a minimal plaintext c2s client
// (DialClient).
//
// Everything listens on and connects to 127.0.0.1 only. The package must not
// import xmppcomponent, whose tests use it.
package xmpptest

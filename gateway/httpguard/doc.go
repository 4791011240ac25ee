// Package httpguard holds the rules that every HTTP listener of the gateway
// applies to browsers and to bearer tokens: the management API
// (gateway/mgmt) and the sandbox platform's web page (adapters/sandbox)
// share them, so that both refuse the same requests with the same
// messages.
//
// A loopback listener can still be reached by a browser running on the
// gateway's host: a web page could send it "simple" cross-site requests
// (CSRF: no preflight for text/plain or form bodies), or point a name it
// controls at 127.0.0.1 and then read the answers (DNS rebinding). Guard
// closes both; Token compares bearer tokens in constant time.
package httpguard

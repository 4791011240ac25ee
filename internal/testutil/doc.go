// Package testutil holds the helpers that tests across the tree share:
// polling a condition with a deadline (Eventually, WaitFor, Poll), picking
// free loopback ports (FreePort, FreePorts, FreeAddr, PickPort, PickPorts),
// running a server as a child process of the test (Start, Process), and
// making a test certificate authority and certificates (NewCA, CA.Issue).
//
// It depends on the standard library only, so that any package's tests,
// and the test harnesses (gateway/store/storetest, xmppcomponent/xmpptest),
// may use it.
package testutil

// Package gatewaytest holds fakes for testing platform adapters without the
// hub: a Host that records what an adapter emits and reports, and
// RunAdapterConformance, a suite every adapter should pass.
//
// It imports only the standard library and gateway packages.
package gatewaytest

// Package report is `drawbridge report`: it runs the interoperability
// feature suite of the EU Digital Markets Act's Article 7 (one-to-one
// text, image, voice message, video and file; group text, media,
// membership, topic and admin; calls) in both directions against a live
// deployment, and writes the evidence as one self-contained HTML file
// and a PDF printed from it by headless Chromium.
//
// The XMPP side is a real XMPP client (xmpptest.Client) logged in on the
// deployment's server; the platform side is driven through the sandbox
// platform's own API. Every row of the report is one check in suite.go,
// run N times: its outcome, latency percentiles, the bytes compared for
// media, and the stanza transcript of its tries (secrets redacted).
//
// The package imports no part of cmd/drawbridge: the command starts the
// deployment (Prosody, the gateway on the sandbox) and hands it over as a
// Deployment.
package report

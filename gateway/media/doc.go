// Package media downloads the files XMPP users send (XEP-0066 out-of-band
// URLs, XEP-0363 upload URLs) so that the hub can hand them to a platform.
//
// A Fetcher is deliberately suspicious of the URLs it is given: they come
// from remote users, so it only speaks http and https, refuses to connect to
// loopback, private, link-local and other non-public addresses (checked on
// the address actually dialled, so DNS rebinding cannot slip past), follows
// few redirects, caps the size and the time of the whole download (and of
// the connect), and works out a content type that can be checked against
// what the platform accepts. Downloads are streamed to temporary files, with
// the size cap enforced while streaming, and a Budget shared by the
// downloads bounds the bytes they hold together.
//
// The package uses only the standard library; the hub imports it.
package media

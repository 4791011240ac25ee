// Package media puts files from the platform where XMPP clients can fetch
// them: through the user's server's XEP-0363 HTTP upload service
// (HTTPUpload, found with Discover) or through Drawbridge's own HTTP file
// host (FileHost). Both implement Uploader; the message flow then sends the
// returned URL with XEP-0066 out-of-band data and in the body.
//
// The package talks to the XMPP connection only through IQSender, so it
// does not import the xmppcomponent package (which imports it).
package media

package media

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"
)

// discoTimeout bounds each disco#info query of Discover, so that one
// unresponsive item (a disconnected component, say) cannot stall it.
const discoTimeout = 10 * time.Second

// Discover finds the XEP-0363 upload service of serverDomain, asking from
// the component domain from: disco#items of the server, then disco#info of
// the server itself and of each item (the component's own domain and
// items with a node are skipped), in that order. It returns the first
// entity with the urn:xmpp:http:upload:0 feature and the max-file-size of
// its XEP-0128 form (0 if it advertises none, or if conn's stanza decoding
// dropped the form: gosrc's disco#info type does, so the maximum is only
// seen when a form-keeping type is registered for disco#info replies). It
// fails with an error wrapping ErrNoService if there is none (entities
// that do not answer count as not offering it), or with ctx's error.
func Discover(ctx context.Context, conn IQSender, from, serverDomain string) (service string, maxSize int64, err error) {
	var items discoItemsXML
	if err := query(ctx, conn, from, serverDomain, &stanza.DiscoItems{XMLName: xml.Name{Space: nsDiscoItems, Local: "query"}}, &items); err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("media: disco#items of %s: %w", serverDomain, err)
		}
		items.Items = nil // still ask the server itself
	}
	candidates := []string{serverDomain}
	seen := map[string]bool{strings.ToLower(serverDomain): true, strings.ToLower(from): true}
	for _, it := range items.Items {
		if it.Node != "" || it.JID == "" || seen[strings.ToLower(it.JID)] {
			continue
		}
		seen[strings.ToLower(it.JID)] = true
		candidates = append(candidates, it.JID)
	}
	for _, jid := range candidates {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		qctx, cancel := context.WithTimeout(ctx, discoTimeout)
		var info discoInfoXML
		err := query(qctx, conn, from, jid, &stanza.DiscoInfo{XMLName: xml.Name{Space: nsDiscoInfo, Local: "query"}}, &info)
		cancel()
		if err != nil || !info.has(NSHTTPUpload) {
			continue
		}
		return jid, info.maxFileSize(), nil
	}
	return "", 0, fmt.Errorf("%w on %s", ErrNoService, serverDomain)
}

// query sends a disco query and decodes the result into dst.
func query(ctx context.Context, conn IQSender, from, to string, payload stanza.IQPayload, dst any) error {
	iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: from, To: to})
	if err != nil {
		return err
	}
	iq.Payload = payload
	reply, err := conn.SendIQ(ctx, iq)
	if err != nil {
		return err
	}
	if reply == nil || reply.Type != stanza.IQTypeResult {
		return fmt.Errorf("unexpected reply from %s", to)
	}
	return decodePayload(reply, dst)
}

func (d *discoInfoXML) has(feature string) bool {
	for _, f := range d.Features {
		if f.Var == feature {
			return true
		}
	}
	return false
}

// maxFileSize reads max-file-size from the XEP-0363 form, 0 if absent.
func (d *discoInfoXML) maxFileSize() int64 {
	for i := range d.Forms {
		f := &d.Forms[i]
		if f.value("FORM_TYPE") != NSHTTPUpload {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(f.value("max-file-size")), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

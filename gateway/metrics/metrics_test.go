package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/metrics"
)

func TestObserverAndCollectors(t *testing.T) {
	link := gateway.LinkStatus{Connected: true, Connects: 2, Disconnects: 1, StanzasIn: 10, StanzasOut: 12, Pings: 6, BytesIn: 700, BytesOut: 900, Queued: 3, InFlight: 4, Dispatching: 5}
	sessions := []gateway.SessionInfo{
		{Owner: "a@x.test", Platform: "sandbox", Account: "+1"},
		{Owner: "b@x.test", Platform: "sandbox", Account: "+2"},
		{Owner: "c@x.test", Platform: "sandbox", Account: "+3"},
	}
	m := metrics.New(metrics.Options{
		Link:     func() gateway.LinkStatus { return link },
		Sessions: func() []gateway.SessionInfo { return sessions },
		Version:  "v9",
	})
	var _ gateway.Observer = m
	m.Relayed("sandbox", gateway.ToPlatform, "message", 3*time.Millisecond)
	m.Relayed("sandbox", gateway.ToPlatform, "message", 20*time.Millisecond)
	m.Relayed("sandbox", gateway.ToXMPP, "receipt", time.Millisecond)
	m.Failed("sandbox", gateway.ToPlatform, "message", "unknown_chat")
	m.StateChanged("sandbox", "+1", event.StateConnecting)
	m.StateChanged("sandbox", "+1", event.StateConnected)
	m.StateChanged("sandbox", "+2", event.StatePhoneOffline)
	m.StateChanged("sandbox", "+9", event.StateConnected) // no session any more

	want := `
# HELP drawbridge_relayed_total Items relayed by the hub, by platform, direction (to_platform, to_xmpp) and kind (message, receipt, chatstate, presence, contact, state, ...).
# TYPE drawbridge_relayed_total counter
drawbridge_relayed_total{direction="to_platform",kind="message",platform="sandbox"} 2
drawbridge_relayed_total{direction="to_xmpp",kind="receipt",platform="sandbox"} 1
# HELP drawbridge_relay_failures_total Items the hub could not relay, by platform, direction, kind and error kind (not_supported, not_linked, unknown_chat, ..., internal).
# TYPE drawbridge_relay_failures_total counter
drawbridge_relay_failures_total{direction="to_platform",error="unknown_chat",kind="message",platform="sandbox"} 1
# HELP drawbridge_account_state_changes_total Connection state changes reported by platform sessions, by platform and new state.
# TYPE drawbridge_account_state_changes_total counter
drawbridge_account_state_changes_total{platform="sandbox",state="connected"} 2
drawbridge_account_state_changes_total{platform="sandbox",state="connecting"} 1
drawbridge_account_state_changes_total{platform="sandbox",state="phone-offline"} 1
# HELP drawbridge_sessions Live platform sessions of this process, by platform and last reported state.
# TYPE drawbridge_sessions gauge
drawbridge_sessions{platform="sandbox",state="connected"} 1
drawbridge_sessions{platform="sandbox",state="phone-offline"} 1
drawbridge_sessions{platform="sandbox",state="unknown"} 1
# HELP drawbridge_xmpp_connected 1 while the XEP-0114 link to the XMPP server is up, else 0.
# TYPE drawbridge_xmpp_connected gauge
drawbridge_xmpp_connected 1
# HELP drawbridge_xmpp_connects_total Successful XEP-0114 handshakes (the first connection and every reconnect).
# TYPE drawbridge_xmpp_connects_total counter
drawbridge_xmpp_connects_total 2
# HELP drawbridge_xmpp_disconnects_total Established XEP-0114 connections that ended.
# TYPE drawbridge_xmpp_disconnects_total counter
drawbridge_xmpp_disconnects_total 1
# HELP drawbridge_xmpp_stanzas_total Stanzas read from (in) and written to (out) the XMPP server.
# TYPE drawbridge_xmpp_stanzas_total counter
drawbridge_xmpp_stanzas_total{direction="in"} 10
drawbridge_xmpp_stanzas_total{direction="out"} 12
# HELP drawbridge_xmpp_pings_total XEP-0199 pings written to the XMPP server: they confirm the stanzas written before them and keep the link alive.
# TYPE drawbridge_xmpp_pings_total counter
drawbridge_xmpp_pings_total 6
# HELP drawbridge_xmpp_bytes_total Bytes read from (in) and written to (out) the XMPP server after the handshakes.
# TYPE drawbridge_xmpp_bytes_total counter
drawbridge_xmpp_bytes_total{direction="in"} 700
drawbridge_xmpp_bytes_total{direction="out"} 900
# HELP drawbridge_xmpp_queue_depth Stanzas waiting: outbound (to be written), in_flight (written, not yet acknowledged), dispatch (inbound, waiting for a handler).
# TYPE drawbridge_xmpp_queue_depth gauge
drawbridge_xmpp_queue_depth{queue="dispatch"} 5
drawbridge_xmpp_queue_depth{queue="in_flight"} 4
drawbridge_xmpp_queue_depth{queue="outbound"} 3
# HELP drawbridge_build_info Always 1; the version label says which build runs.
# TYPE drawbridge_build_info gauge
drawbridge_build_info{version="v9"} 1
`
	names := []string{"drawbridge_relayed_total", "drawbridge_relay_failures_total", "drawbridge_account_state_changes_total",
		"drawbridge_sessions", "drawbridge_xmpp_connected", "drawbridge_xmpp_connects_total", "drawbridge_xmpp_disconnects_total",
		"drawbridge_xmpp_stanzas_total", "drawbridge_xmpp_pings_total", "drawbridge_xmpp_bytes_total", "drawbridge_xmpp_queue_depth", "drawbridge_build_info"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "drawbridge_relay_duration_seconds"); n != 2 {
		t.Errorf("%d latency histograms, want 2", n)
	}

	// The handler speaks the exposition format, Go and process metrics
	// included, and no owner or account appears.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"drawbridge_relay_duration_seconds_bucket", "go_goroutines", "process_"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, private := range []string{"a@x.test", `"+1"`} {
		if strings.Contains(string(body), private) {
			t.Errorf("/metrics shows %s", private)
		}
	}
}

func TestWithoutCollectors(t *testing.T) {
	m := metrics.New(metrics.Options{})
	if n := testutil.CollectAndCount(m.Registry(), "drawbridge_xmpp_connected", "drawbridge_sessions"); n != 0 {
		t.Errorf("%d link or session series without their sources", n)
	}
}

// TestSessionAttachedDuringScrape: a session attached (and reporting its
// state) while a scrape runs is missing from that scrape's session list;
// its state must not be forgotten, or it stays "unknown" for good.
func TestSessionAttachedDuringScrape(t *testing.T) {
	var m *metrics.Metrics
	sessions := []gateway.SessionInfo{}
	m = metrics.New(metrics.Options{Sessions: func() []gateway.SessionInfo {
		snapshot := sessions
		if len(sessions) == 0 { // the first scrape: attach +1 right after the snapshot
			sessions = []gateway.SessionInfo{{Owner: "a@x.test", Platform: "sandbox", Account: "+1"}}
			m.StateChanged("sandbox", "+1", event.StateConnecting)
			m.StateChanged("sandbox", "+1", event.StateConnected)
		}
		return snapshot
	}})
	if n := testutil.CollectAndCount(m.Registry(), "drawbridge_sessions"); n != 0 {
		t.Fatalf("first scrape: %d series, want 0", n)
	}
	want := `
# HELP drawbridge_sessions Live platform sessions of this process, by platform and last reported state.
# TYPE drawbridge_sessions gauge
drawbridge_sessions{platform="sandbox",state="connected"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "drawbridge_sessions"); err != nil {
		t.Error(err)
	}
}

package gateway_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/drawbridge-im/drawbridge"

// importRule is one line of the import direction of ARCHITECTURE.md. It
// covers the package prefix names and every package under it, unless a
// longer prefix has its own rule: the most specific rule wins, so a new
// package is checked by the rule of the folder it is created in.
type importRule struct {
	prefix string
	// only, if set, lists what besides the standard library the package
	// may depend on (each entry with everything under it).
	only []string
	// forbid lists what the package must not depend on, each entry with
	// everything under it.
	forbid []string
	// forbidExact lists packages it must not depend on, without those
	// under them.
	forbidExact []string
}

// The module's layers and the third-party libraries that belong to one
// side of the hub, to compose the rules below.
var (
	modAdapters    = module + "/adapters"
	modXMPP        = module + "/xmppcomponent"
	modCmd         = module + "/cmd"
	modProto       = module + "/proto"
	modMgmt        = module + "/gateway/mgmt"
	modMetrics     = module + "/gateway/metrics"
	modRedisStore  = module + "/gateway/store/redisstore"
	modSQLiteStore = module + "/gateway/store/sqlitestore"

	xmppLibs     = []string{"gosrc.io", "mellium.im"}
	redisLib     = "github.com/redis"
	sqliteLib    = "modernc.org"
	postgresLib  = "github.com/jackc"
	platformLibs = []string{"go.mau.fi"}
	rpcLibs      = []string{"google.golang.org/grpc", "github.com/grpc-ecosystem"}
	metricsLibs  = []string{"github.com/prometheus"}
)

// importRules: gateway/ids, gateway/event → the hub (gateway and its
// sub-packages) → { adapters, xmppcomponent, store backends, mgmt, metrics }
// → cmd. Every package of the module must match one (TestImportRules fails
// otherwise).
var importRules = []importRule{
	// The vocabulary: standard library only.
	{prefix: module + "/gateway/ids", only: []string{}},
	{prefix: module + "/gateway/event", only: []string{module + "/gateway/ids"}},
	// The hub and its helpers (store, config, media, ratelimit,
	// store/sealed, store/storetest, gatewaytest, ...): none of the
	// packages around it, no XMPP, store, platform, RPC or metrics library.
	{prefix: module + "/gateway", forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modProto, modMgmt, modMetrics, modRedisStore, modSQLiteStore, redisLib, sqliteLib, postgresLib},
		xmppLibs, platformLibs, rpcLibs, metricsLibs)},
	// The durable path (journal, retry queue, id map): the vocabulary and
	// the store's role interfaces, never the hub.
	{prefix: module + "/gateway/delivery", only: []string{module + "/gateway/ids", module + "/gateway/event", module + "/gateway/store"}},
	// The coordination of several instances on Redis (leases, fencing,
	// the instance registry): the store's sentinels and go-redis only.
	{prefix: module + "/gateway/cluster", forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modProto, modMgmt, modMetrics, modRedisStore, modSQLiteStore, module + "/gateway/delivery", sqliteLib, postgresLib},
		xmppLibs, platformLibs, rpcLibs, metricsLibs),
		forbidExact: []string{module + "/gateway"}},
	// Store backends: their own database client only.
	{prefix: modRedisStore, forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modProto, modMgmt, modMetrics, modSQLiteStore, sqliteLib, postgresLib},
		xmppLibs, platformLibs, rpcLibs)},
	{prefix: modSQLiteStore, forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modProto, modMgmt, modMetrics, modRedisStore, redisLib, postgresLib},
		xmppLibs, platformLibs, rpcLibs)},
	// The management API (gRPC + REST; it parses JIDs with mellium.im/xmpp/jid).
	{prefix: modMgmt, forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modMetrics, modRedisStore, modSQLiteStore, redisLib, sqliteLib, postgresLib, "gosrc.io"},
		platformLibs)},
	// The metrics endpoint.
	{prefix: modMetrics, forbid: concat(
		[]string{modAdapters, modXMPP, modCmd, modProto, modMgmt, modRedisStore, modSQLiteStore, redisLib, sqliteLib, postgresLib},
		xmppLibs, platformLibs, rpcLibs)},
	// Platform adapters: the hub's contract, their platform's library and
	// its device store (sqlite, PostgreSQL); no XMPP, no hub store backend,
	// no RPC.
	{prefix: modAdapters, forbid: concat(
		[]string{modXMPP, modCmd, modProto, modMgmt, modMetrics, modRedisStore, modSQLiteStore, redisLib},
		xmppLibs, rpcLibs)},
	// The out-of-process adapter host and SDK: the hub's contract, the
	// adapter protocol's generated code and gRPC; no XMPP, no platform, no
	// other adapter, no hub store backend.
	{prefix: modAdapters + "/remote", forbid: concat(
		[]string{modXMPP, modCmd, modMgmt, modMetrics, modRedisStore, modSQLiteStore, redisLib, sqliteLib, postgresLib,
			modAdapters + "/sandbox", modAdapters + "/whatsapp", modProto + "/drawbridge/admin"},
		xmppLibs, platformLibs)},
	// The XMPP side: no platform, no store backend, no RPC.
	{prefix: modXMPP, forbid: concat(
		[]string{modAdapters, modCmd, modProto, modMgmt, modMetrics, modRedisStore, modSQLiteStore, redisLib, sqliteLib, postgresLib},
		platformLibs, rpcLibs)},
	// The XEP-0114 transport knows nothing of the hub nor of the
	// translation above it; it may use xmppcomponent/xep's payload types.
	{prefix: modXMPP + "/stream", forbid: concat(
		[]string{module + "/gateway", modAdapters, modCmd, modProto, redisLib, sqliteLib, postgresLib},
		platformLibs, rpcLibs),
		forbidExact: []string{modXMPP}},
	// Generated management API code: protobuf and gRPC only.
	{prefix: modProto, forbid: concat(
		[]string{module + "/gateway", modAdapters, modXMPP, modCmd, redisLib, sqliteLib, postgresLib},
		xmppLibs, platformLibs)},
	// Helpers shared across the tree (internal/testutil): below every
	// layer, so that any package's tests may use them.
	{prefix: module + "/internal", forbid: concat(
		[]string{module + "/gateway", modAdapters, modXMPP, modCmd, modProto},
		platformLibs, rpcLibs)},
	// The binary wires everything.
	{prefix: modCmd},
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

type listed struct {
	ImportPath string
	Deps       []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Deps", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		r, ok := ruleFor(p.ImportPath)
		if !ok {
			t.Errorf("%s matches no import rule: add one to importRules", p.ImportPath)
			continue
		}
		checked++
		reported := map[string]bool{} // one error per broken entry of the rule
		for _, d := range p.Deps {
			if msg := r.violation(d); msg != "" && !reported[msg] {
				reported[msg] = true
				t.Errorf("%s depends on %s (%s; rule %s)", p.ImportPath, d, msg, strings.TrimPrefix(r.prefix, module+"/"))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d packages checked; go list found less than the tree holds", checked)
	}
}

// ruleFor returns the rule with the longest prefix covering path.
func ruleFor(path string) (importRule, bool) {
	var best importRule
	found := false
	for _, r := range importRules {
		if under(path, r.prefix) && (!found || len(r.prefix) > len(best.prefix)) {
			best, found = r, true
		}
	}
	return best, found
}

// violation says why r forbids depending on dep, or "".
func (r importRule) violation(dep string) string {
	if r.only != nil && !isStd(dep) && !underAny(dep, r.only) {
		if len(r.only) == 0 {
			return "only the standard library is allowed"
		}
		return "only the standard library and " + strings.Join(r.only, ", ") + " are allowed"
	}
	for _, f := range r.forbid {
		if under(dep, f) {
			return "forbidden: " + f
		}
	}
	for _, f := range r.forbidExact {
		if dep == f {
			return "forbidden: " + f
		}
	}
	return ""
}

// under says whether path is prefix or a package under it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if under(path, p) {
			return true
		}
	}
	return false
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// TestImportRulesCatch: the rules reject the imports issue 12 found
// unchecked, and the most specific rule applies.
func TestImportRulesCatch(t *testing.T) {
	for _, tc := range []struct{ pkg, dep string }{
		{module + "/adapters/whatsapp", "github.com/redis/go-redis/v9"},
		{module + "/adapters/sandbox", "google.golang.org/grpc"},
		{module + "/xmppcomponent/media", module + "/adapters/sandbox"},
		{module + "/xmppcomponent/xep", "go.mau.fi/whatsmeow"},
		{module + "/xmppcomponent/xmpptest", "github.com/redis/go-redis/v9"},
		{module + "/xmppcomponent/stream", module + "/gateway"},
		{module + "/xmppcomponent/stream", module + "/gateway/ids"},
		{module + "/xmppcomponent/stream", module + "/xmppcomponent"},
		{module + "/gateway/ratelimit", module + "/xmppcomponent"},
		{module + "/gateway/store/sealed", module + "/gateway/store/sqlitestore"},
		{module + "/gateway/gatewaytest", module + "/adapters/sandbox"},
		{module + "/gateway/ids", "gopkg.in/yaml.v3"},
		{module + "/gateway/event", module + "/gateway/store"},
		{module + "/gateway/store/redisstore", "modernc.org/sqlite"},
	} {
		r, ok := ruleFor(tc.pkg)
		if !ok {
			t.Errorf("%s matches no rule", tc.pkg)
			continue
		}
		if r.violation(tc.dep) == "" {
			t.Errorf("%s may depend on %s (rule %s)", tc.pkg, tc.dep, r.prefix)
		}
	}
	for _, tc := range []struct{ pkg, dep string }{
		{module + "/xmppcomponent/stream", module + "/xmppcomponent/xep"},
		{module + "/xmppcomponent", module + "/xmppcomponent/stream"},
		{module + "/gateway/event", module + "/gateway/ids"},
		{module + "/adapters/whatsapp", "modernc.org/sqlite"},
		{module + "/gateway/ratelimit", "golang.org/x/time/rate"},
	} {
		if r, _ := ruleFor(tc.pkg); r.violation(tc.dep) != "" {
			t.Errorf("%s may not depend on %s: %s", tc.pkg, tc.dep, r.violation(tc.dep))
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// Every configuration file in deploy/ is checked here: parsed, and linted
// for what an operator relies on. docker, compose and helm cannot run on
// the CI machines, so the container files are checked statically.

const deployDir = "../../deploy"

// The ejabberd snippet operators paste must stay valid YAML with one
// ejabberd_service listener naming the placeholder domain, and grant the
// gateway XEP-0356 privileges through mod_privilege. (The ejabberd
// end-to-end tests load this very file: xmpptest.StartEjabberd.)
func TestEjabberdSnippetParses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "ejabberd/drawbridge.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Listen []struct {
			Port    int    `yaml:"port"`
			IP      string `yaml:"ip"`
			Module  string `yaml:"module"`
			Backlog int    `yaml:"backlog"`
			Hosts   map[string]struct {
				Password string `yaml:"password"`
			} `yaml:"hosts"`
		} `yaml:"listen"`
		ACL         map[string]map[string]string `yaml:"acl"`
		AccessRules map[string]map[string]string `yaml:"access_rules"`
		Modules     struct {
			Privilege struct {
				Roster  map[string]string `yaml:"roster"`
				Message map[string]string `yaml:"message"`
			} `yaml:"mod_privilege"`
		} `yaml:"modules"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("deploy/ejabberd/drawbridge.yml: %v", err)
	}
	if len(doc.Listen) != 1 || doc.Listen[0].Module != "ejabberd_service" || doc.Listen[0].Port == 0 {
		t.Fatalf("want one ejabberd_service listener, got %+v", doc.Listen)
	}
	if doc.Listen[0].IP != "127.0.0.1" || doc.Listen[0].Backlog < 128 {
		t.Errorf("the listener should be on loopback with a raised backlog: %+v", doc.Listen[0])
	}
	if h, ok := doc.Listen[0].Hosts["wa.example.org"]; !ok || h.Password == "" {
		t.Fatalf("the listener must name wa.example.org with a password: %+v", doc.Listen[0].Hosts)
	}
	rule := doc.Modules.Privilege.Roster["both"]
	if rule == "" || doc.Modules.Privilege.Message["outgoing"] != rule {
		t.Fatalf("mod_privilege must grant roster both and message outgoing to one access rule: %+v", doc.Modules.Privilege)
	}
	acl := doc.AccessRules[rule]["allow"]
	if acl == "" || doc.ACL[acl]["server"] != "wa.example.org" {
		t.Errorf("ACL %s must name the component's domain: %+v", acl, doc.ACL)
	}
}

// The Prosody snippet keeps the placeholders the test harness substitutes
// and documents the privilege grant; both Lua files compile.
func TestProsodyFilesParse(t *testing.T) {
	snippet := readDeploy(t, "prosody/drawbridge.cfg.lua")
	for _, want := range []string{`Component "wa.example.org"`, `component_secret = "change-me"`, "privileged_entities", `modules_enabled = { "privilege" }`} {
		if !strings.Contains(snippet, want) {
			t.Errorf("deploy/prosody/drawbridge.cfg.lua lacks %s", want)
		}
	}
	compose := readDeploy(t, "docker/prosody.cfg.lua")
	if !strings.Contains(compose, `Include "drawbridge.cfg.lua"`) || !strings.Contains(compose, "component_ports = { 5347 }") {
		t.Error("deploy/docker/prosody.cfg.lua must listen for components and include the snippet")
	}
	t.Run("luac", func(t *testing.T) {
		luac := lookPathAny(luacNames...)
		if luac == "" {
			t.Skipf("none of %v is installed (Debian: apt-get install lua5.4): Lua syntax not checked", luacNames)
		}
		for _, f := range []string{"prosody/drawbridge.cfg.lua", "docker/prosody.cfg.lua"} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, luac, "-p", filepath.Join(deployDir, f)).CombinedOutput()
			cancel()
			if err != nil {
				t.Errorf("%s -p %s: %v\n%s", luac, f, err, out)
			}
		}
	})
}

// luacNames are the names of the Lua compiler: the generic one, then
// Debian's versioned ones (lua5.4 installs luac5.4; luac is an
// alternatives link that may be missing).
var luacNames = []string{"luac", "luac5.4", "luac5.3"}

// lookPathAny returns the path of the first of names found on PATH, or "".
func lookPathAny(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// dockerInstr is one Dockerfile instruction with its continuation lines
// joined.
type dockerInstr struct {
	Cmd, Args string
	Line      int
}

// parseDockerfile splits a Dockerfile into instructions (comments and
// blank lines dropped, backslash continuations joined).
func parseDockerfile(t *testing.T, text string) []dockerInstr {
	t.Helper()
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start})
		cur.Reset()
	}
	if cur.Len() != 0 {
		t.Fatal("Dockerfile ends in a continuation line")
	}
	return out
}

var knownDockerInstr = []string{"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}

// The Dockerfile builds, in a build stage, the static binary `make build`
// builds (same command), and ships it in a final stage that runs as a
// non-root user with a HEALTHCHECK through `drawbridge health`.
func TestDockerfileLint(t *testing.T) {
	instrs := parseDockerfile(t, readDeploy(t, "docker/Dockerfile"))
	var froms []int
	var buildRun, user, health string
	var envNames []string
	for i, in := range instrs {
		if !slices.Contains(knownDockerInstr, in.Cmd) {
			t.Errorf("line %d: unknown instruction %s", in.Line, in.Cmd)
		}
		switch in.Cmd {
		case "FROM":
			froms = append(froms, i)
		case "RUN":
			if strings.Contains(in.Args, "go build") {
				buildRun = in.Args
			}
		case "USER":
			user = in.Args
		case "HEALTHCHECK":
			health = in.Args
		case "ENV":
			for _, f := range strings.Fields(in.Args) {
				if name, _, ok := strings.Cut(f, "="); ok {
					envNames = append(envNames, name)
				}
			}
		case "COPY":
			if !strings.Contains(in.Args, "--from=") {
				for _, src := range strings.Fields(in.Args)[:len(strings.Fields(in.Args))-1] {
					if src == "." {
						continue
					}
					if _, err := os.Stat(filepath.Join("../..", src)); err != nil {
						t.Errorf("line %d: COPY source %s: %v", in.Line, src, err)
					}
				}
			}
		}
	}
	if len(froms) < 2 {
		t.Errorf("want a multi-stage build, have %d FROM", len(froms))
	}
	if buildRun == "" || !strings.Contains(buildRun, "CGO_ENABLED=0") || !strings.Contains(buildRun, "-trimpath") || !strings.Contains(buildRun, "./cmd/drawbridge") {
		t.Errorf("the build stage must run CGO_ENABLED=0 go build -trimpath ... ./cmd/drawbridge: %q", buildRun)
	}
	// The same command as `make build` (the binary CI builds and runs).
	// (Its first command not starting with @: those only say what it does.)
	mk := regexp.MustCompile(`(?m)^build:.*\n(?:\t@.*\n)*\t(.*)$`).FindStringSubmatch(readFile(t, "../../Makefile"))
	if mk == nil {
		t.Fatal("Makefile has no build target")
	}
	want := strings.NewReplacer("$(GO)", "go", "$(BIN)", "/out/drawbridge", "$(VERSION)", "${VERSION}").Replace(mk[1])
	if !strings.Contains(buildRun, want) {
		t.Errorf("the Dockerfile builds with %q, make build with %q", buildRun, want)
	}
	if user == "" || slices.Contains([]string{"root", "0", "0:0", "root:root"}, user) {
		t.Errorf("the final stage must run as a non-root USER, have %q", user)
	}
	if slices.IndexFunc(instrs, func(in dockerInstr) bool { return in.Cmd == "USER" }) < froms[len(froms)-1] {
		t.Error("USER must be set in the final stage")
	}
	if !strings.Contains(health, `"health"`) || !strings.Contains(health, "/healthz") {
		t.Errorf("HEALTHCHECK must run drawbridge health on /healthz: %q", health)
	}
	checkEnvNames(t, "Dockerfile", envNames)
	// The health subcommand the HEALTHCHECK runs exists.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"health", "--url", "http://127.0.0.1:1/healthz", "--timeout", "1s"}, &out, &out); err == nil || strings.Contains(err.Error(), "unknown command") {
		t.Errorf("drawbridge health against a closed port: %v", err)
	}
}

// The compose file parses, each service has an image or a build whose
// Dockerfile exists, and every bind-mounted file exists; the gateway's
// configuration there is valid.
func TestComposeFile(t *testing.T) {
	var doc struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Volumes   []string `yaml:"volumes"`
			Secrets   []string `yaml:"secrets"`
			DependsOn []string `yaml:"depends_on"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dir := filepath.Join(deployDir, "docker")
	if err := yaml.Unmarshal([]byte(readDeploy(t, "docker/compose.yaml")), &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"drawbridge", "redis", "prosody"} {
		if _, ok := doc.Services[name]; !ok {
			t.Errorf("compose.yaml lacks the %s service", name)
		}
	}
	for name, s := range doc.Services {
		if s.Image == "" && s.Build.Context == "" {
			t.Errorf("service %s has neither image nor build", name)
		}
		if s.Build.Context != "" {
			if _, err := os.Stat(filepath.Join(dir, s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
		}
		for _, d := range s.DependsOn {
			if _, ok := doc.Services[d]; !ok {
				t.Errorf("service %s depends on unknown %s", name, d)
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := doc.Secrets[sec]; !ok {
				t.Errorf("service %s uses undeclared secret %s", name, sec)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := doc.Volumes[src]; !ok {
				t.Errorf("service %s uses undeclared volume %s", name, src)
			}
		}
	}
	if !slices.ContainsFunc(doc.Services["prosody"].Volumes, func(v string) bool {
		return strings.HasPrefix(v, "../prosody/drawbridge.cfg.lua:")
	}) {
		t.Error("the prosody service must mount the operator snippet deploy/prosody/drawbridge.cfg.lua")
	}
	// The gateway's configuration, with the compose secret mounted.
	secret := filepath.Join(t.TempDir(), "component_secret")
	if err := os.WriteFile(secret, []byte("a-test-secret-of-24-chars\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := strings.ReplaceAll(readDeploy(t, "docker/drawbridge.yaml"), "/run/secrets/component_secret", secret)
	cfg, err := config.Parse([]byte(data), nil)
	if err != nil {
		t.Fatalf("deploy/docker/drawbridge.yaml: %v", err)
	}
	if cfg.Component.Secret != "a-test-secret-of-24-chars" || cfg.Store.Backend != config.BackendRedis || cfg.Metrics.Listen != "0.0.0.0:9480" {
		t.Errorf("deploy/docker/drawbridge.yaml: secret from the compose secret, redis store, metrics for the healthcheck: %+v", cfg)
	}
}

// The systemd unit has the sandboxing options and passes
// `systemd-analyze verify` (the subtest skips where that is not installed).
func TestSystemdUnit(t *testing.T) {
	text := readDeploy(t, "systemd/drawbridge.service")
	sections := map[string]map[string][]string{}
	var sec string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			sec = strings.Trim(line, "[]")
			sections[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == "" {
				t.Fatalf("bad unit line %q", line)
			}
			sections[sec][k] = append(sections[sec][k], v)
		}
	}
	svc := sections["Service"]
	for k, want := range map[string]string{
		"ExecReload":  "/bin/kill -HUP $MAINPID", // SIGHUP reloads (reload.go)
		"DynamicUser": "yes", "ProtectSystem": "strict", "StateDirectory": "drawbridge", "NoNewPrivileges": "yes",
		"ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "RestrictSUIDSGID": "yes",
		"CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
	} {
		if got := svc[k]; len(got) != 1 || got[0] != want {
			t.Errorf("[Service] %s = %q, want %q", k, got, want)
		}
	}
	if got := svc["ExecStart"]; len(got) != 1 || !strings.Contains(got[0], "drawbridge run --config ") {
		t.Errorf("ExecStart = %q", got)
	}
	if len(sections["Install"]["WantedBy"]) == 0 {
		t.Error("no [Install] WantedBy")
	}
	var envNames []string
	for _, e := range svc["Environment"] {
		name, _, _ := strings.Cut(e, "=")
		envNames = append(envNames, name)
	}
	checkEnvNames(t, "systemd unit", envNames)

	t.Run("systemd-analyze", func(t *testing.T) {
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd): unit not verified")
		}
		// verify wants ExecStart's binary to exist: point it at one that does.
		dir := t.TempDir()
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		unit := filepath.Join(dir, "drawbridge.service")
		if err := os.WriteFile(unit, []byte(strings.ReplaceAll(text, "/usr/local/bin/drawbridge", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, analyze, "verify", "--man=no", unit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}

// k8sObject is the part of a Kubernetes manifest the checks read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Data       map[string]string `yaml:"data"`
	Spec       yaml.Node         `yaml:"spec"`
}

// k8sProbe, k8sContainer, k8sDeploymentSpec: the Deployment fields checked.
type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name string `yaml:"name"`
	Env  []struct {
		Name      string `yaml:"name"`
		ValueFrom struct {
			SecretKeyRef struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe  *k8sProbe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
}

type k8sDeploymentSpec struct {
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			SecurityContext struct {
				RunAsNonRoot bool `yaml:"runAsNonRoot"`
			} `yaml:"securityContext"`
			Containers []k8sContainer `yaml:"containers"`
			Volumes    []struct {
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

// The Kubernetes manifests (kustomize) parse; the Deployment probes
// /healthz and /readyz on the metrics port, runs as non-root, takes the
// component secret from the Secret that is there; the Service and the
// ServiceMonitor reach that port; the configuration is valid. Rendered
// with `kubectl kustomize` too (the subtest skips without kubectl).
func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join(deployDir, "kubernetes")
	var kust struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name  string   `yaml:"name"`
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	if err := yaml.Unmarshal([]byte(readDeploy(t, "kubernetes/kustomization.yaml")), &kust); err != nil {
		t.Fatal(err)
	}
	var objs []k8sObject
	for _, r := range kust.Resources {
		objs = append(objs, parseManifests(t, readFile(t, filepath.Join(dir, r)))...)
	}
	if len(kust.ConfigMapGenerator) != 1 || len(kust.ConfigMapGenerator[0].Files) != 1 {
		t.Fatalf("want one generated ConfigMap with drawbridge.yaml: %+v", kust.ConfigMapGenerator)
	}
	configMap := kust.ConfigMapGenerator[0].Name
	cfgData := readFile(t, filepath.Join(dir, kust.ConfigMapGenerator[0].Files[0]))
	checkKubernetes(t, objs, configMap, cfgData)

	t.Run("kubectl", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed (Debian has no package for it): kustomize output not rendered")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, kubectl, "kustomize", dir).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize: %v", err)
		}
		rendered := parseManifests(t, string(out))
		var cm k8sObject
		for _, o := range rendered {
			if o.Kind == "ConfigMap" && strings.HasPrefix(o.Metadata.Name, configMap) {
				cm = o
			}
		}
		if cm.Data["drawbridge.yaml"] == "" {
			t.Fatalf("the rendered manifests have no ConfigMap %s with drawbridge.yaml", configMap)
		}
		checkKubernetes(t, rendered, cm.Metadata.Name, cm.Data["drawbridge.yaml"])
	})
}

// checkKubernetes checks one set of manifests; configMap names the
// ConfigMap holding drawbridge.yaml (cfgData).
func checkKubernetes(t *testing.T, objs []k8sObject, configMap, cfgData string) {
	t.Helper()
	byKind := map[string][]k8sObject{}
	for _, o := range objs {
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("manifest without apiVersion, kind or name: %+v", o)
		}
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	for _, kind := range []string{"Deployment", "Service", "Secret", "ServiceMonitor", "PersistentVolumeClaim"} {
		if len(byKind[kind]) != 1 {
			t.Fatalf("want one %s, have %d", kind, len(byKind[kind]))
		}
	}
	var dep k8sDeploymentSpec
	if err := byKind["Deployment"][0].Spec.Decode(&dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Template.Spec
	if len(pod.Containers) != 1 || !pod.SecurityContext.RunAsNonRoot {
		t.Fatalf("want one container in a non-root pod: %+v", pod)
	}
	c := pod.Containers[0]
	for sel, v := range dep.Selector.MatchLabels {
		if dep.Template.Metadata.Labels[sel] != v {
			t.Errorf("the selector %s=%s does not match the pod's labels", sel, v)
		}
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe must GET /healthz: %+v", c.LivenessProbe)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe must GET /readyz: %+v", c.ReadinessProbe)
	}
	var metricsPort int
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			metricsPort = p.ContainerPort
		}
	}
	if metricsPort == 0 {
		t.Fatal("the container has no port named metrics")
	}
	for _, p := range []*k8sProbe{c.LivenessProbe, c.ReadinessProbe} {
		if p != nil && p.HTTPGet.Port != "metrics" {
			t.Errorf("probe on port %q, want metrics", p.HTTPGet.Port)
		}
	}
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container security context: %+v", c.SecurityContext)
	}
	secret := byKind["Secret"][0]
	var envNames []string
	secretRef := false
	for _, e := range c.Env {
		envNames = append(envNames, e.Name)
		if ref := e.ValueFrom.SecretKeyRef; ref.Name != "" {
			secretRef = true
			if ref.Name != secret.Metadata.Name || (secret.StringData[ref.Key] == "" && secret.Data[ref.Key] == "") {
				t.Errorf("env %s refers to secret %s key %s, which the manifests do not define", e.Name, ref.Name, ref.Key)
			}
		}
	}
	if !secretRef || !slices.Contains(envNames, "DRAWBRIDGE_COMPONENT_SECRET") {
		t.Error("the component secret must come from a Secret through DRAWBRIDGE_COMPONENT_SECRET")
	}
	checkEnvNames(t, "Deployment", envNames)
	if !slices.ContainsFunc(pod.Volumes, func(v struct {
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	}) bool {
		return v.ConfigMap != nil && v.ConfigMap.Name == configMap
	}) {
		t.Errorf("the pod does not mount the ConfigMap %s", configMap)
	}
	var svc struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	}
	if err := byKind["Service"][0].Spec.Decode(&svc); err != nil {
		t.Fatal(err)
	}
	for k, v := range svc.Selector {
		if dep.Template.Metadata.Labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not match the pod", k, v)
		}
	}
	if len(svc.Ports) != 1 || svc.Ports[0].TargetPort != "metrics" {
		t.Errorf("the Service must expose the metrics port: %+v", svc.Ports)
	}
	var sm struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	}
	if err := byKind["ServiceMonitor"][0].Spec.Decode(&sm); err != nil {
		t.Fatal(err)
	}
	svcLabels := byKind["Service"][0].Metadata.Labels
	for k, v := range sm.Selector.MatchLabels {
		if svcLabels[k] != v {
			t.Errorf("the ServiceMonitor's selector %s=%s does not match the Service", k, v)
		}
	}
	if len(sm.Endpoints) != 1 || sm.Endpoints[0].Port != svc.Ports[0].Name || sm.Endpoints[0].Path != "/metrics" {
		t.Errorf("the ServiceMonitor must scrape /metrics on the Service's port: %+v", sm.Endpoints)
	}
	cfg, err := config.Parse([]byte(cfgData), []string{"DRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars"})
	if err != nil {
		t.Fatalf("the ConfigMap's drawbridge.yaml: %v", err)
	}
	if _, port, _ := strings.Cut(cfg.Metrics.Listen, ":"); port != "9480" || strings.HasPrefix(cfg.Metrics.Listen, "127.") || metricsPort != 9480 {
		t.Errorf("metrics.listen %q must be reachable by the probes on the container port %d", cfg.Metrics.Listen, metricsPort)
	}
}

// parseManifests decodes every document of a multi-document YAML stream.
func parseManifests(t *testing.T, text string) []k8sObject {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(text))
	var objs []k8sObject
	for range 1000 {
		var o k8sObject
		err := dec.Decode(&o)
		if err != nil {
			if err.Error() == "EOF" {
				return objs
			}
			t.Fatalf("manifest: %v", err)
		}
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
	t.Fatal("too many manifests")
	return nil
}

// checkEnvNames fails for a DRAWBRIDGE_ variable that names no setting.
func checkEnvNames(t *testing.T, where string, names []string) {
	t.Helper()
	known := config.EnvNames()
	for _, n := range names {
		if strings.HasPrefix(n, "DRAWBRIDGE_") && !slices.Contains(known, n) {
			t.Errorf("%s sets %s, which names no setting", where, n)
		}
	}
}

// `drawbridge health` succeeds on 200 and fails otherwise.
func TestHealthCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok\nmore"))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"health", "--url", srv.URL + "/healthz"}, &out, &out); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	if !strings.Contains(out.String(), "200 OK: ok") {
		t.Errorf("output %q", out.String())
	}
	status = http.StatusServiceUnavailable
	err := run(context.Background(), []string{"health", "--url", srv.URL + "/readyz"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unhealthy: %v", err)
	}
	if err := run(context.Background(), []string{"health", "extra"}, &out, &out); err == nil {
		t.Error("extra arguments accepted")
	}
}

func readDeploy(t *testing.T, rel string) string {
	t.Helper()
	return readFile(t, filepath.Join(deployDir, rel))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

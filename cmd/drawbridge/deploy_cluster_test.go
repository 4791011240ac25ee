package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// The deploy files of several instances (README, "Running several
// instances"): deploy/docker/compose.cluster.yaml and
// deploy/kubernetes/cluster. Checked statically, as the single-instance
// files are (deploy_test.go): docker and kubectl do not run on the CI
// machines.

// TestComposeClusterFile: three gateway replicas with Redis (append-only
// file), PostgreSQL and Prosody; every bind mount and secret exists; the
// Prosody snippet the compose file mounts sets kick_old; and the
// replicas' configuration passes `drawbridge config check` with a
// cluster on Redis and WhatsApp's device store on the compose PostgreSQL,
// its password file a secret the gateway service mounts.
func TestComposeClusterFile(t *testing.T) {
	type service struct {
		Image string `yaml:"image"`
		Build struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Deploy struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
		Restart     string            `yaml:"restart"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Secrets     []string          `yaml:"secrets"`
		DependsOn   []string          `yaml:"depends_on"`
	}
	var doc struct {
		Services map[string]service `yaml:"services"`
		Secrets  map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dir := filepath.Join(deployDir, "docker")
	if err := yaml.Unmarshal([]byte(readDeploy(t, "docker/compose.cluster.yaml")), &doc); err != nil {
		t.Fatalf("compose.cluster.yaml: %v", err)
	}
	for _, name := range []string{"drawbridge", "redis", "postgres", "prosody"} {
		if _, ok := doc.Services[name]; !ok {
			t.Fatalf("compose.cluster.yaml lacks the %s service", name)
		}
	}
	gw := doc.Services["drawbridge"]
	if gw.Deploy.Replicas != 3 {
		t.Errorf("the drawbridge service runs %d replicas, want 3", gw.Deploy.Replicas)
	}
	// A replica that lost the lease exits with status 3 and must come back.
	if gw.Restart != "unless-stopped" && gw.Restart != "always" && gw.Restart != "on-failure" {
		t.Errorf("the drawbridge service's restart policy %q does not restart a replica that exits with status 3", gw.Restart)
	}
	for _, d := range []string{"redis", "postgres", "prosody"} {
		if !slices.Contains(gw.DependsOn, d) {
			t.Errorf("the drawbridge service does not depend on %s", d)
		}
	}
	if !slices.Contains(doc.Services["redis"].Command, "--appendonly") {
		t.Errorf("redis runs without the append-only file (the lease and journal must survive a restart): %q", doc.Services["redis"].Command)
	}
	if pg := doc.Services["postgres"].Environment; pg["POSTGRES_PASSWORD_FILE"] == "" || pg["POSTGRES_DB"] == "" || pg["POSTGRES_USER"] == "" {
		t.Errorf("postgres: user, database and a password file from a secret: %v", pg)
	}
	var configMount, snippetMount string
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
			src, dst, _ := strings.Cut(v, ":")
			dst, _, _ = strings.Cut(dst, ":")
			switch {
			case strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/"):
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
				if name == "drawbridge" && dst == "/etc/drawbridge/drawbridge.yaml" {
					configMount = src
				}
				if name == "prosody" && strings.HasSuffix(dst, "/drawbridge.cfg.lua") {
					snippetMount = src
				}
			default:
				if _, ok := doc.Volumes[src]; !ok {
					t.Errorf("service %s uses undeclared volume %s", name, src)
				}
			}
		}
	}
	if snippetMount == "" {
		t.Fatal("the prosody service does not mount the Drawbridge snippet")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, snippetMount)), `component_conflict_resolve = "kick_old"`) {
		t.Errorf("%s must set component_conflict_resolve = \"kick_old\"", snippetMount)
	}
	if configMount == "" {
		t.Fatal("the drawbridge service does not mount its configuration at /etc/drawbridge/drawbridge.yaml")
	}

	// `drawbridge config check` on the replicas' configuration, with the
	// compose secret in a temporary file.
	tmp := t.TempDir()
	secret := filepath.Join(tmp, "component_secret")
	if err := os.WriteFile(secret, []byte("a-test-secret-of-24-chars\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(readFile(t, filepath.Join(dir, configMount)), "/run/secrets/component_secret", secret)
	cfgPath := filepath.Join(tmp, "drawbridge.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "check", cfgPath}, &out, &out); err != nil {
		t.Fatalf("drawbridge config check %s: %v\n%s", configMount, err, out.String())
	}
	cfg, err := config.Parse([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Cluster.Enabled || cfg.Store.Backend != config.BackendRedis || cfg.Metrics.Listen != "0.0.0.0:9480" {
		t.Errorf("%s: want cluster.enabled on the redis store with metrics for /readyz: %+v", configMount, cfg)
	}
	if u, err := url.Parse(cfg.Store.Redis.URL); err != nil || u.Hostname() != "redis" {
		t.Errorf("store.redis.url %q must name the compose redis service (%v)", cfg.Store.Redis.URL, err)
	}
	dsn := pgDSN(t, cfg)
	if dsn.Hostname() != "postgres" {
		t.Errorf("platforms.whatsapp.postgres_dsn names host %q, want the compose postgres service", dsn.Hostname())
	}
	passfile := dsn.Query().Get("passfile")
	if sec, ok := strings.CutPrefix(passfile, "/run/secrets/"); !ok || !slices.Contains(gw.Secrets, sec) {
		t.Errorf("the DSN's passfile %q must be a secret the drawbridge service mounts (%v)", passfile, gw.Secrets)
	}
	if _, has := dsn.User.Password(); has {
		t.Error("the DSN holds a password: take it from the passfile secret")
	}
}

// pgDSN is the WhatsApp device store's PostgreSQL DSN of cfg, parsed.
func pgDSN(t *testing.T, cfg config.Config) *url.URL {
	t.Helper()
	raw, _ := cfg.Platforms["whatsapp"][whatsapp.ConfigPostgresDSN].(string)
	if raw == "" {
		t.Fatal("platforms.whatsapp.postgres_dsn is not set: the device store must be shared by the instances")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("platforms.whatsapp.postgres_dsn: %v", err)
	}
	return u
}

// TestKubernetesClusterManifests: deploy/kubernetes/cluster parses; a
// Deployment of several replicas that a rollout can replace (not waiting
// for standbys to be ready), ready on /readyz and alive on /healthz; a
// PodDisruptionBudget on the same pods that lets the unready standbys be
// evicted; a metrics Service that keeps the standbys in its endpoints;
// the secrets the pod takes exist; the configuration is valid, clustered
// on Redis, with the device store's password file where the pod mounts it.
func TestKubernetesClusterManifests(t *testing.T) {
	dir := filepath.Join(deployDir, "kubernetes", "cluster")
	var kust struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name  string   `yaml:"name"`
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(dir, "kustomization.yaml"))), &kust); err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]k8sObject{}
	for _, r := range kust.Resources {
		if strings.Contains(r, "..") {
			t.Errorf("resource %s is outside the kustomization's folder (kustomize refuses it)", r)
		}
		for _, o := range parseManifests(t, readFile(t, filepath.Join(dir, r))) {
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: manifest without apiVersion, kind or name: %+v", r, o)
			}
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	for _, kind := range []string{"Deployment", "PodDisruptionBudget", "Service", "Secret"} {
		if len(byKind[kind]) != 1 {
			t.Fatalf("want one %s, have %d", kind, len(byKind[kind]))
		}
	}
	if len(kust.ConfigMapGenerator) != 1 || len(kust.ConfigMapGenerator[0].Files) != 1 {
		t.Fatalf("want one generated ConfigMap with drawbridge.yaml: %+v", kust.ConfigMapGenerator)
	}

	var dep struct {
		Replicas int `yaml:"replicas"`
		Strategy struct {
			Type          string `yaml:"type"`
			RollingUpdate struct {
				MaxUnavailable string `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"strategy"`
		k8sDeploymentSpec `yaml:",inline"`
	}
	if err := byKind["Deployment"][0].Spec.Decode(&dep); err != nil {
		t.Fatal(err)
	}
	if dep.Replicas < 2 {
		t.Errorf("the Deployment runs %d replicas: no standby", dep.Replicas)
	}
	// Standbys are never ready while the old active pod holds the lease:
	// a rollout that needs new pods ready before it stops old ones stalls.
	if dep.Strategy.Type != "RollingUpdate" || dep.Strategy.RollingUpdate.MaxUnavailable != "100%" {
		t.Errorf("strategy %+v: want RollingUpdate with maxUnavailable 100%%", dep.Strategy)
	}
	pod := dep.Template.Spec
	if len(pod.Containers) != 1 || !pod.SecurityContext.RunAsNonRoot {
		t.Fatalf("want one container in a non-root pod: %+v", pod)
	}
	podLabels := dep.Template.Metadata.Labels
	matches := func(what string, sel map[string]string) {
		t.Helper()
		if len(sel) == 0 {
			t.Errorf("%s selects nothing", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%s, which the pods do not carry", what, k, v)
			}
		}
	}
	matches("the Deployment", dep.Selector.MatchLabels)
	c := pod.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port != "metrics" {
		t.Errorf("readiness probe must GET /readyz on the metrics port: %+v", c.ReadinessProbe)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port != "metrics" {
		t.Errorf("liveness probe must GET /healthz on the metrics port (a standby is alive): %+v", c.LivenessProbe)
	}
	var envNames []string
	for _, e := range c.Env {
		envNames = append(envNames, e.Name)
	}
	checkEnvNames(t, "cluster Deployment", envNames)

	// The pod's secrets: the env's keys and the password file's volume.
	secret := byKind["Secret"][0]
	hasKey := func(k string) bool { return secret.StringData[k] != "" || secret.Data[k] != "" }
	for _, e := range c.Env {
		if ref := e.ValueFrom.SecretKeyRef; ref.Name != "" && (ref.Name != secret.Metadata.Name || !hasKey(ref.Key)) {
			t.Errorf("env %s refers to secret %s key %s, which the manifests do not define", e.Name, ref.Name, ref.Key)
		}
	}
	var podVolumes struct {
		Template struct {
			Spec struct {
				Containers []struct {
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name   string `yaml:"name"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
						Items      []struct {
							Key  string `yaml:"key"`
							Path string `yaml:"path"`
						} `yaml:"items"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	if err := byKind["Deployment"][0].Spec.Decode(&podVolumes); err != nil {
		t.Fatal(err)
	}
	secretFiles := map[string]bool{} // paths in the container
	for _, v := range podVolumes.Template.Spec.Volumes {
		if v.Secret == nil {
			continue
		}
		for _, m := range podVolumes.Template.Spec.Containers[0].VolumeMounts {
			if m.Name != v.Name {
				continue
			}
			for _, it := range v.Secret.Items {
				if v.Secret.SecretName != secret.Metadata.Name || !hasKey(it.Key) {
					t.Errorf("volume %s takes key %s of secret %s, which the manifests do not define", v.Name, it.Key, v.Secret.SecretName)
				}
				secretFiles[path.Join(m.MountPath, it.Path)] = true
			}
		}
	}

	var pdb struct {
		MinAvailable               *int   `yaml:"minAvailable"`
		MaxUnavailable             *int   `yaml:"maxUnavailable"`
		UnhealthyPodEvictionPolicy string `yaml:"unhealthyPodEvictionPolicy"`
		Selector                   struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	}
	if err := byKind["PodDisruptionBudget"][0].Spec.Decode(&pdb); err != nil {
		t.Fatal(err)
	}
	if byKind["PodDisruptionBudget"][0].APIVersion != "policy/v1" {
		t.Errorf("PodDisruptionBudget apiVersion %s, want policy/v1", byKind["PodDisruptionBudget"][0].APIVersion)
	}
	matches("the PodDisruptionBudget", pdb.Selector.MatchLabels)
	if pdb.MinAvailable == nil || *pdb.MinAvailable != 1 || pdb.MaxUnavailable != nil {
		t.Errorf("the PodDisruptionBudget must keep the one ready pod (minAvailable 1): %+v", pdb)
	}
	// Without AlwaysAllow the unready standbys could not be evicted and
	// every node drain would block on them.
	if pdb.UnhealthyPodEvictionPolicy != "AlwaysAllow" {
		t.Errorf("unhealthyPodEvictionPolicy %q, want AlwaysAllow", pdb.UnhealthyPodEvictionPolicy)
	}

	var svc struct {
		PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
		Selector                 map[string]string `yaml:"selector"`
		Ports                    []struct {
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	}
	if err := byKind["Service"][0].Spec.Decode(&svc); err != nil {
		t.Fatal(err)
	}
	matches("the metrics Service", svc.Selector)
	if !svc.PublishNotReadyAddresses || len(svc.Ports) != 1 || svc.Ports[0].TargetPort != "metrics" {
		t.Errorf("the metrics Service must reach every replica's metrics port, standbys too: %+v", svc)
	}

	cfgData := readFile(t, filepath.Join(dir, kust.ConfigMapGenerator[0].Files[0]))
	cfg, err := config.Parse([]byte(cfgData), []string{"DRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars"})
	if err != nil {
		t.Fatalf("the ConfigMap's drawbridge.yaml: %v", err)
	}
	if !cfg.Cluster.Enabled || cfg.Store.Backend != config.BackendRedis || cfg.Cluster.InstanceID != "" {
		t.Errorf("drawbridge.yaml: want cluster.enabled on redis, instance_id left to each pod's hostname: %+v", cfg.Cluster)
	}
	if _, port, _ := strings.Cut(cfg.Metrics.Listen, ":"); port != "9480" || strings.HasPrefix(cfg.Metrics.Listen, "127.") {
		t.Errorf("metrics.listen %q must be reachable by the probes", cfg.Metrics.Listen)
	}
	if passfile := pgDSN(t, cfg).Query().Get("passfile"); !secretFiles[passfile] {
		t.Errorf("the DSN's passfile %q is not a secret file the pod mounts (%v)", passfile, secretFiles)
	}
}

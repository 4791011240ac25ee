package main

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// The ejabberd snippet operators paste must stay valid YAML with one
// ejabberd_service listener naming the placeholder domain.
func TestEjabberdSnippetParses(t *testing.T) {
	data, err := os.ReadFile("../../deploy/ejabberd/drawbridge.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Listen []struct {
			Port   int    `yaml:"port"`
			IP     string `yaml:"ip"`
			Module string `yaml:"module"`
			Hosts  map[string]struct {
				Password string `yaml:"password"`
			} `yaml:"hosts"`
		} `yaml:"listen"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("deploy/ejabberd/drawbridge.yml: %v", err)
	}
	if len(doc.Listen) != 1 || doc.Listen[0].Module != "ejabberd_service" || doc.Listen[0].Port == 0 {
		t.Fatalf("want one ejabberd_service listener, got %+v", doc.Listen)
	}
	if h, ok := doc.Listen[0].Hosts["wa.example.org"]; !ok || h.Password == "" {
		t.Fatalf("the listener must name wa.example.org with a password: %+v", doc.Listen[0].Hosts)
	}
}

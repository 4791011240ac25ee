package config

import _ "embed"

//go:embed example.yaml
var example string

// Example returns a fully commented configuration file showing every key
// with its default value. It parses to a valid configuration once a
// secret is provided (for example through DRAWBRIDGE_COMPONENT_SECRET).
func Example() string { return example }

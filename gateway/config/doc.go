// Package config holds the gateway's configuration: a YAML file laid over
// embedded defaults, then environment overrides (DRAWBRIDGE_<PATH>), then
// secrets read from *_file settings, then validation. Every validation
// problem is reported at once, each prefixed by the key path it concerns
// (for example "component.secret"), and no error message ever contains a
// secret.
//
// Precedence, lowest first: [Default], the YAML file, the environment.
// Unknown YAML keys and unknown DRAWBRIDGE_* environment variables are
// errors, except inside platforms.<id>, which is passed raw to the adapter.
package config

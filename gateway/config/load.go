package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path and returns the configuration built
// from the defaults, the file, and the process environment, with secret
// files read and the result validated. An empty path skips the file, so
// that a deployment may be configured by environment alone.
//
// Each problem names its key and where the value came from: problems
// with the file's values start with path and give the line; problems
// with an environment variable's value name the variable instead.
func Load(path string) (Config, error) {
	cfg, _, err := LoadSources(path)
	return cfg, err
}

// LoadSources is [Load], also returning where each setting that the file
// or the environment set came from, for the checks made outside this
// package (the adapters' sections).
func LoadSources(path string) (Config, Sources, error) {
	var data []byte
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return Config{}, nil, fmt.Errorf("config: %w", err)
		}
	}
	cfg, src, err := parse(data, os.Environ())
	return cfg, src, src.Blame(path, err)
}

// Parse is [Load] without reading a configuration file: data is the YAML
// document (empty means defaults only) and env is an os.Environ-style list
// of KEY=value entries. It still reads the files named by *_file settings.
// On error it returns the zero Config.
func Parse(data []byte, env []string) (Config, error) {
	cfg, _, err := parse(data, env)
	return cfg, err
}

// parse is Parse, also returning the sources of the settings it read.
func parse(data []byte, env []string) (Config, Sources, error) {
	cfg := Default()
	src := Sources{}
	// The Redis URL default applies only when neither url nor addrs is
	// set, so that setting addrs alone does not conflict with it.
	defaultRedisURL := cfg.Store.Redis.URL
	cfg.Store.Redis.URL = ""
	if err := decodeYAML(data, &cfg, src); err != nil {
		return Config{}, src, err
	}
	if err := applyEnv(&cfg, env, src); err != nil {
		return Config{}, src, err
	}
	if cfg.Store.Redis.URL == "" && len(cfg.Store.Redis.Addrs) == 0 {
		cfg.Store.Redis.URL = defaultRedisURL
	}
	if err := errors.Join(resolveSecretFiles(&cfg), cfg.Validate()); err != nil {
		return Config{}, src, src.Annotate("", err)
	}
	return cfg, src, nil
}

// Sources maps the key path of each setting that the configuration file
// or the environment set ("limits.max_body_size",
// "platforms.sandbox.auto_confirm", "registration.allowed_jids[1]") to
// where its value came from: "line 12" of the file, or the name of the
// environment variable. A variable set after the file wins, as its value
// does.
type Sources map[string]string

// Of returns the source of the setting at key path key, or of the list
// it is an item of, or "".
func (s Sources) Of(key string) string {
	for {
		if src, ok := s[key]; ok {
			return src
		}
		i := strings.LastIndexByte(key, '[')
		if i < 0 {
			return ""
		}
		key = key[:i]
	}
}

// Annotate returns err with the source filled in on each *[KeyError] it
// joins that has none, its key first prefixed with prefix (for the
// checks of an adapter's section: prefix "platforms.", key
// "sandbox.auto_confirm"). Other errors are kept as they are.
func (s Sources) Annotate(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range flatten(err) {
		if ke, ok := e.(*KeyError); ok && ke.Source == "" {
			e = &KeyError{Key: prefix + ke.Key, Err: ke.Err, Source: s.Of(prefix + ke.Key)}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// Blame starts each problem in err with path, the configuration file,
// except those that an environment variable is to blame for.
func (s Sources) Blame(path string, err error) error {
	if err == nil || path == "" {
		return err
	}
	var out []error
	for _, e := range flatten(err) {
		var ke *KeyError
		var ee *envError
		if !(errors.As(e, &ke) && ke.fromEnv()) && !errors.As(e, &ee) {
			e = fmt.Errorf("%s: %w", path, e)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// flatten lists the errors that err joins (errors.Join), recursively,
// or err alone.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// decodeYAML lays the YAML document in data over cfg. Unknown keys and
// values of the wrong kind are reported with their key path and line;
// syntax errors keep the line number the YAML parser gives them.
func decodeYAML(data []byte, cfg *Config, src Sources) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if emptyDocument(&root) {
		return nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("config: line %d: the document must be a mapping of sections", doc.Line)
	}
	if err := checkNode(doc, reflect.TypeFor[Config](), "", src); err != nil {
		return err
	}
	if mappingValue(doc, "platforms") != nil {
		cfg.Platforms = nil // the file's sections replace the defaults
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %w", err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil && !emptyDocument(&next) {
		return fmt.Errorf("config: line %d: a second YAML document; the file must hold one", next.Line)
	}
	return nil
}

// emptyDocument reports whether a document node holds nothing or null.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// checkNode checks the shape of a YAML node against the Go type t of the
// setting at key path key: unknown keys and values of the wrong kind are
// reported with their key path and line, before the YAML decoder decodes the
// document. A null value is always accepted (it leaves the default, or
// empties a list). The values inside platform sections are free-form.
func checkNode(node *yaml.Node, t reflect.Type, key string, src Sources) error {
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil
	}
	wrong := func(want string) error {
		return &KeyError{Key: key, Err: fmt.Errorf("must be %s (line %d)", want, node.Line)}
	}
	if u, ok := reflect.New(t).Interface().(yaml.Unmarshaler); ok {
		// ByteSize, Duration: check the value as the decoder will read it.
		if err := u.UnmarshalYAML(node); err != nil {
			return &KeyError{Key: key, Err: fmt.Errorf("%w (line %d)", err, node.Line)}
		}
		return nil
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return wrong("a mapping")
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				errs = append(errs, &KeyError{Key: joinKey(key, k.Value), Err: fmt.Errorf("unknown key (line %d)", k.Line)})
				continue
			}
			src[joinKey(key, k.Value)] = fmt.Sprintf("line %d", k.Line)
			errs = append(errs, checkNode(v, f.Type, joinKey(key, k.Value), src))
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return wrong("a mapping")
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			src[joinKey(key, k.Value)] = fmt.Sprintf("line %d", k.Line)
			errs = append(errs, checkNode(node.Content[i+1], t.Elem(), joinKey(key, k.Value), src))
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return wrong("a list")
		}
		for i, item := range node.Content {
			src[fmt.Sprintf("%s[%d]", key, i)] = fmt.Sprintf("line %d", item.Line)
			errs = append(errs, checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i), src))
		}
	case reflect.String:
		if node.Kind != yaml.ScalarNode {
			return wrong("a string")
		}
	case reflect.Bool:
		if node.Kind != yaml.ScalarNode || node.Decode(new(bool)) != nil {
			return wrong(fmt.Sprintf("true or false, got %s", shownValue(node)))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if node.Kind != yaml.ScalarNode || node.Decode(reflect.New(t).Interface()) != nil {
			return wrong(fmt.Sprintf("a whole number, got %s", shownValue(node)))
		}
	}
	return errors.Join(errs...)
}

// shownValue quotes a scalar for an error message, or names the kind of
// another node. No setting of these types is a secret.
func shownValue(node *yaml.Node) string {
	switch node.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(node.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "something else"
}

// joinKey appends name to the key path prefix.
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// yamlFields maps the yaml key of each exported field of struct type t to
// the field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name := yamlName(f); name != "" {
			fields[name] = f
		}
	}
	return fields
}

// yamlName returns the key a struct field is known by in YAML, or "" if
// the field is not decoded.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(node *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

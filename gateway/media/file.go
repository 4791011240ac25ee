package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes bounds the length of a file name taken from a URL or header.
const maxNameBytes = 255

// File is a downloaded file, spooled to a temporary file. Close removes it
// and gives its bytes back to the Fetcher's Budget.
type File struct {
	// Name is the file name from the Content-Disposition header, else the
	// last segment of the URL's path (unescaped; the original URL's before
	// the final one's), with directory parts and control characters
	// removed. Empty if neither gives one.
	Name string
	// MIMEType is the effective media type, lower case and without
	// parameters: the declared Content-Type, or the sniffed one
	// (http.DetectContentType) when the server declared none or only a
	// generic one such as application/octet-stream.
	MIMEType string
	// DeclaredType is the Content-Type header as the server sent it.
	DeclaredType string
	// Size is the length of the content in bytes.
	Size int64

	path     string
	head     []byte // the first bytes, for sniffing the type
	budget   *Budget
	reserved int64 // bytes taken from budget
	closed   closeOnce
}

// Open returns a reader of the content. It may be called several times,
// but not after Close.
func (f *File) Open(ctx context.Context) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("media: opening the downloaded file: %w", err)
	}
	return r, nil
}

// Close removes the temporary file and gives its bytes back to the
// budget. Readers opened before keep working until they are closed (the
// space is freed then). Close may be called more than once.
func (f *File) Close() error {
	f.closed.once.Do(func() {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.closed.err = fmt.Errorf("media: removing the downloaded file: %w", err)
		}
		if f.budget != nil {
			f.budget.give(f.reserved)
		}
	})
	return f.closed.err
}

// genericTypes are declared types that say nothing about the content.
var genericTypes = map[string]bool{
	"application/octet-stream":   true,
	"binary/octet-stream":        true,
	"application/binary":         true,
	"application/unknown":        true,
	"application/x-unknown":      true,
	"application/download":       true,
	"application/force-download": true,
	"unknown/unknown":            true,
}

func genericType(mt string) bool { return mt == "" || genericTypes[mt] }

// mediaType returns the lower-case media type of a Content-Type value
// without its parameters, or "" if it cannot be parsed.
func mediaType(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") {
		return ""
	}
	return strings.ToLower(mt)
}

// effectiveType is the declared type if specific, else the sniffed one.
func effectiveType(declared string, data []byte) string {
	if mt := mediaType(declared); !genericType(mt) {
		return mt
	}
	if mt := mediaType(http.DetectContentType(data)); mt != "" {
		return mt
	}
	return "application/octet-stream"
}

// MatchType reports whether the media type mt (parameters are ignored)
// matches one of patterns: an exact type, "type/*", or "*/*" (or "*").
// Comparison is case-insensitive.
func MatchType(mt string, patterns []string) bool {
	mt = strings.ToLower(strings.TrimSpace(mt))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	major, _, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "*" || p == "*/*":
			return true
		case strings.HasSuffix(p, "/*"):
			if strings.TrimSuffix(p, "/*") == major {
				return true
			}
		case p == mt:
			return true
		}
	}
	return false
}

// fileName picks the name of a download: Content-Disposition first, then
// the original URL's last path segment, then the final URL's.
func fileName(disposition string, orig, final *url.URL) string {
	if disposition != "" {
		if _, params, err := mime.ParseMediaType(disposition); err == nil {
			if n := SanitizeName(params["filename"]); n != "" {
				return n
			}
		}
	}
	for _, u := range []*url.URL{orig, final} {
		if u == nil || u.Path == "" || strings.HasSuffix(u.Path, "/") {
			continue
		}
		if n := SanitizeName(path.Base(u.Path)); n != "" {
			return n
		}
	}
	return ""
}

// SanitizeName makes a file name safe to pass on: it keeps what follows
// the last slash or backslash, drops control and format characters and
// invalid UTF-8, trims spaces and leading dots, and cuts it to 255 bytes
// (keeping the extension when it can). It returns "" if nothing is left.
// It is the one file-name sanitiser of the gateway: the XMPP side builds
// its URL-safe names on it.
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeftFunc(name, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	name = strings.TrimRightFunc(name, unicode.IsSpace)
	return ShortenName(name, maxNameBytes)
}

// maxExtBytes is the longest extension ShortenName keeps.
const maxExtBytes = 16

// ShortenName cuts a file name to at most n bytes without splitting a
// character, keeping its extension when that is at most 16 bytes and
// shorter than n.
func ShortenName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	if n <= 0 {
		return ""
	}
	ext := path.Ext(name)
	if len(ext) > maxExtBytes || len(ext) > n {
		ext = ""
	}
	return truncateUTF8(strings.TrimSuffix(name, ext), n-len(ext)) + ext
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

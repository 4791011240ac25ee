package media

import (
	"mime"
	"path"
	"strings"
	"unicode"

	gmedia "github.com/drawbridge-im/drawbridge/gateway/media"
)

// maxNameBytes bounds the file names put into URLs.
const maxNameBytes = 128

// extensions maps common media types to the extension clients expect, for
// files that come without a name (as most platform media do). The table is
// fixed rather than taken from the system's mime.types, so that names do
// not depend on the machine.
var extensions = map[string]string{
	"image/jpeg":               ".jpg",
	"image/png":                ".png",
	"image/gif":                ".gif",
	"image/webp":               ".webp",
	"image/heic":               ".heic",
	"image/avif":               ".avif",
	"image/svg+xml":            ".svg",
	"video/mp4":                ".mp4",
	"video/3gpp":               ".3gp",
	"video/webm":               ".webm",
	"video/quicktime":          ".mov",
	"audio/ogg":                ".ogg",
	"audio/opus":               ".opus",
	"audio/mpeg":               ".mp3",
	"audio/mp4":                ".m4a",
	"audio/aac":                ".aac",
	"audio/amr":                ".amr",
	"audio/wav":                ".wav",
	"audio/webm":               ".weba",
	"application/pdf":          ".pdf",
	"application/zip":          ".zip",
	"application/json":         ".json",
	"text/plain":               ".txt",
	"text/csv":                 ".csv",
	"text/vcard":               ".vcf",
	"text/x-vcard":             ".vcf",
	"application/msword":       ".doc",
	"application/vnd.ms-excel": ".xls",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}

// mediaType returns the lower-case media type of a Content-Type value
// without parameters; application/octet-stream if it is empty or invalid.
func mediaType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return strings.ToLower(mt)
}

// safeName turns a file name from the platform into one fit for a URL path
// segment and an XEP-0363 slot request: the name as gateway/media's
// SanitizeName cleans it, then letters, digits and . - _ + ( ) ~ , kept
// and everything else replaced by '_', an extension for mimeType added
// when the name has none, "file" when nothing is left, and at most 128
// bytes.
func safeName(name, mimeType string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".-_+()~,", r) {
			return r
		}
		return '_'
	}, gmedia.SanitizeName(name))
	if ext := path.Ext(name); ext == "" || ext == "." {
		name = strings.TrimSuffix(name, ".")
		if name == "" {
			name = "file"
		}
		name += extensions[mediaType(mimeType)]
	}
	return gmedia.ShortenName(name, maxNameBytes)
}

// inlineType reports whether browsers may show a file of this type inline:
// raster images, audio, video and plain text. Everything else (HTML, SVG,
// PDF, archives, ...) is served as an attachment.
func inlineType(mt string) bool {
	major, _, _ := strings.Cut(mt, "/")
	switch {
	case strings.HasPrefix(mt, "image/svg"):
		// SVG is a document that can carry scripts (image/svg+xml,
		// image/svg, image/svg-xml, ...): never shown in place.
		return false
	case major == "image", major == "audio", major == "video", mt == "text/plain":
		return true
	}
	return false
}

package media

import (
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
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
// segment and an XEP-0363 slot request: the last path element only,
// letters, digits and . - _ + ( ) ~ , kept and everything else replaced by
// '_', no leading dots, at most 128 bytes, an extension for mimeType added
// when the name has none, and "file" when nothing is left.
func safeName(name, mimeType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(name) {
		switch {
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".-_+()~,", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name = strings.TrimLeft(b.String(), ".")
	ext := path.Ext(name)
	if ext == "" || ext == "." {
		name = strings.TrimSuffix(name, ".")
		ext = extensions[mediaType(mimeType)]
		if name == "" {
			name = "file"
		}
		name += ext
	}
	if len(name) > maxNameBytes {
		ext = path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		name = truncateUTF8(strings.TrimSuffix(name, ext), maxNameBytes-len(ext)) + ext
	}
	return name
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

// inlineType reports whether browsers may show a file of this type inline:
// raster images, audio, video and plain text. Everything else (HTML, SVG,
// PDF, archives, ...) is served as an attachment.
func inlineType(mt string) bool {
	major, _, _ := strings.Cut(mt, "/")
	switch {
	case mt == "image/svg+xml":
		return false
	case major == "image", major == "audio", major == "video", mt == "text/plain":
		return true
	}
	return false
}

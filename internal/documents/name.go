package documents

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes is the longest file name accepted, in bytes of UTF-8. It
// keeps names within what every common file system (255 bytes) and the
// database column can hold, with room for a browser's " (1)" suffix.
const MaxNameBytes = 200

// CleanName checks the uploaded file name and returns it trimmed of
// surrounding spaces, or a *RejectError saying what to change.
//
// The name is only ever shown and offered back in Content-Disposition; it is
// never used as a path (objects are stored by ID). It is still refused, not
// silently repaired, when it holds anything that could mislead a reader or
// a tool further down: path separators and ".." (a name like
// "../etc/passwd" is an attack, not a file name), control characters
// (header and log injection, names that print differently from what they
// are), Unicode direction overrides (which make "exe.pdf" display as
// "fdp.exe"), invalid UTF-8 and over-long names. A name must also have an
// extension, since the extension is half of how Check decides the type.
// Letters in any script are kept as they are.
func CleanName(name string) (string, error) {
	if name == "" {
		return "", &RejectError{Message: "The file has no name. Please choose the file again, and if this keeps happening rename it, for example to ‘tender response.pdf’."}
	}
	if !utf8.ValidString(name) {
		return "", &RejectError{Message: "The file name contains characters that cannot be read. Please rename the file using ordinary letters, numbers and spaces, then upload it again."}
	}
	for _, r := range name {
		if nameRuneHidden(r) {
			return "", &RejectError{Message: "The file name contains hidden characters (such as a line break, tab or text-direction mark). Please rename the file using ordinary letters, numbers and spaces, then upload it again."}
		}
	}
	name = strings.TrimFunc(name, func(r rune) bool { return unicode.Is(unicode.Zs, r) })
	if name == "" {
		return "", &RejectError{Message: "The file name is blank. Please rename the file, for example to ‘tender response.pdf’, then upload it again."}
	}
	if len(name) > MaxNameBytes {
		return "", &RejectError{Message: "The file name is too long. Please rename the file with a shorter name (up to 200 characters, fewer if it has accented or non-Latin letters), then upload it again."}
	}
	if strings.ContainsAny(name, `/\`) {
		return "", &RejectError{Message: "The file name ‘" + name + "’ contains / or \\, which are not allowed in file names. Please rename the file without them, then upload it again."}
	}
	if strings.Trim(name, ". ") == "" {
		return "", &RejectError{Message: "The file name ‘" + name + "’ is not a usable name. Please rename the file, for example to ‘tender response.pdf’, then upload it again."}
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || dot == len(name)-1 || strings.Trim(name[:dot], ". ") == "" {
		return "", &RejectError{Message: "The file name ‘" + name + "’ needs a name and a type ending, such as ‘.pdf’ or ‘.docx’. Please rename the file, for example to ‘tender response.pdf’, then upload it again. Allowed types are " + AllowedList() + "."}
	}
	return name, nil
}

// nameRuneHidden reports characters that do not show as themselves: C0/C1
// controls and DEL (unicode.IsControl covers NUL, TAB, CR, LF, DEL), line
// and paragraph separators, and the bidirectional formatting characters
// used to disguise extensions ("report\u202Efdp.exe").
func nameRuneHidden(r rune) bool {
	if unicode.IsControl(r) {
		return true
	}
	switch {
	case r == '\u2028', r == '\u2029': // line and paragraph separators
		return true
	case r == '\u061C', r == '\u200E', r == '\u200F': // Arabic letter mark, LRM, RLM
		return true
	case r >= '\u202A' && r <= '\u202E': // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= '\u2066' && r <= '\u2069': // LRI, RLI, FSI, PDI
		return true
	case r == '\uFEFF': // zero-width no-break space (stray byte order mark)
		return true
	}
	return false
}

// ContentDisposition returns a Content-Disposition header value that makes
// the browser download the file (never display it inline) under name.
//
// It follows RFC 6266 with the RFC 5987 extended parameter:
//
//	attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>
//
// Modern browsers use filename* and so show the exact name, letters in any
// script included; older clients fall back to filename, in which anything
// outside a small set of safe ASCII characters becomes "_". Neither part
// can contain a quote, backslash, CR or LF, so whatever name is passed
// (CleanName's output or not) cannot break out of the header.
func ContentDisposition(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if nameRuneHidden(r) {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		name = "download"
	}

	var fallback strings.Builder
	for _, r := range name {
		if r >= 0 && r < utf8.RuneSelf && dispositionFallbackSafe(byte(r)) {
			fallback.WriteRune(r)
		} else {
			fallback.WriteByte('_')
		}
	}

	var encoded strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if dispositionAttrChar(c) {
			encoded.WriteByte(c)
		} else {
			const hex = "0123456789ABCDEF"
			encoded.WriteByte('%')
			encoded.WriteByte(hex[c>>4])
			encoded.WriteByte(hex[c&0x0F])
		}
	}

	return `attachment; filename="` + fallback.String() + `"; filename*=UTF-8''` + encoded.String()
}

// dispositionFallbackSafe lists the ASCII characters kept in the quoted
// filename fallback. Quote and backslash would end or escape the quoted
// string; % is left out because some browsers percent-decode the fallback;
// ; and , confuse naive header parsers. Everything else printable stays, so
// "Lot 1 (final).pdf" survives unchanged.
func dispositionFallbackSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(" !#$&'()+-.=@[]^_`{}~", c) >= 0
}

// dispositionAttrChar is RFC 5987's attr-char: what may appear unencoded in
// an extended parameter value.
func dispositionAttrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

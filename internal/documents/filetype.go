package documents

import (
	"bytes"
	"encoding/binary"
	"mime"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// FileType is one kind of file the portal accepts.
type FileType struct {
	Ext   string   // ".pdf": lower case, with the dot
	Label string   // "PDF": what people are told
	MIME  []string // acceptable mimetype.Detect results (base type, no parameters)
	Zip   bool     // zip container: inspect against zip bombs (InspectZip)
	Text  bool     // plain text: must be UTF-8, without markup browsers would run
}

// MIME types as mimetype v1.4 reports them, named once.
const (
	mimePDF  = "application/pdf"
	mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeODT  = "application/vnd.oasis.opendocument.text"
	mimeODS  = "application/vnd.oasis.opendocument.spreadsheet"
	mimeZIP  = "application/zip"
	mimeText = "text/plain"
	mimeCSV  = "text/csv"
	mimeTSV  = "text/tab-separated-values"
	mimePNG  = "image/png"
	mimeAPNG = "image/apng"
	mimeJPEG = "image/jpeg"
)

// Allowed is the one list of file types the portal accepts: buyers'
// tender packs and suppliers' applications and bids are documents,
// spreadsheets, scans and archives of those, nothing that runs.
//
// The extension decides which entry applies and the content must then be
// one of that entry's MIME types, so a renamed file is caught. A type may
// accept more than its own MIME type where the detector cannot tell them
// apart or the difference is harmless: a CSV file often looks like plain
// text, a text file full of commas looks like CSV, an animated PNG is a PNG,
// and a ZIP may hold one Office or OpenDocument file that was zipped or
// renamed. JPEG is listed under both of its usual extensions.
var Allowed = []FileType{
	{Ext: ".pdf", Label: "PDF", MIME: []string{mimePDF}},
	{Ext: ".docx", Label: "DOCX", MIME: []string{mimeDOCX}, Zip: true},
	{Ext: ".xlsx", Label: "XLSX", MIME: []string{mimeXLSX}, Zip: true},
	{Ext: ".odt", Label: "ODT", MIME: []string{mimeODT}, Zip: true},
	{Ext: ".ods", Label: "ODS", MIME: []string{mimeODS}, Zip: true},
	{Ext: ".csv", Label: "CSV", MIME: []string{mimeCSV, mimeText, mimeTSV}, Text: true},
	{Ext: ".txt", Label: "TXT", MIME: []string{mimeText, mimeCSV, mimeTSV}, Text: true},
	{Ext: ".zip", Label: "ZIP", MIME: []string{mimeZIP, mimeDOCX, mimeXLSX, mimeODT, mimeODS}, Zip: true},
	{Ext: ".png", Label: "PNG", MIME: []string{mimePNG, mimeAPNG}},
	{Ext: ".jpg", Label: "JPEG", MIME: []string{mimeJPEG}},
	{Ext: ".jpeg", Label: "JPEG", MIME: []string{mimeJPEG}},
}

// AllowedList returns the allowed types for messages, each label once:
// "PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, ZIP, PNG or JPEG".
func AllowedList() string {
	var labels []string
	for _, ft := range Allowed {
		seen := false
		for _, l := range labels {
			seen = seen || l == ft.Label
		}
		if !seen {
			labels = append(labels, ft.Label)
		}
	}
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " or " + labels[len(labels)-1]
}

// SniffLen is how many leading bytes Check needs (fewer is fine when the
// file is shorter). mimetype itself looks at the first 4 KiB; Check uses
// the rest to recognise Word and Excel files whose first ZIP entries are
// not the ones mimetype expects (Word for Mac starts with
// word/numbering.xml, some exports with [trash]/ or large images) and to
// check more of a text file's encoding. 64 KiB per upload is cheap.
const SniffLen = 64 << 10

// Check decides from the file name and its first bytes (up to SniffLen;
// the whole file when shorter) whether the upload is allowed. It returns
// the FileType or a *RejectError naming what is allowed.
//
// The extension picks the type and the content must match it. Content that
// could run, in a browser or on a computer (web pages, SVG, XML, scripts,
// programs), is refused whatever the file is called, because the name is
// the uploader's choice and someone else opens the file.
//
// Check only sees the start of the file: a ZIP-based type (FileType.Zip)
// must also pass InspectZip over the whole stream.
func Check(name string, head []byte) (FileType, error) {
	shown := checkShownName(name)
	if len(head) == 0 {
		return FileType{}, &RejectError{Message: "The file " + shown + " is empty. Please check you chose the right file, then upload it again."}
	}

	ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, `\`, "/")))
	ft, ok := fileTypeByExt(ext)
	if !ok {
		if ext == "" || ext == "." {
			return FileType{}, &RejectError{Message: "The file " + shown + " has no type ending, such as ‘.pdf’. Please upload " + AllowedList() + " files only."}
		}
		hint := ""
		switch ext {
		case ".doc", ".rtf":
			hint = " In Word, use Save As and choose Word Document (.docx) or PDF."
		case ".xls":
			hint = " In Excel, use Save As and choose Excel Workbook (.xlsx)."
		}
		return FileType{}, &RejectError{Message: "Files ending " + checkShownName(ext) + " cannot be uploaded. Please upload " + AllowedList() + " files only." + hint}
	}

	detected := detectType(head)
	if what, ok := runnableContent(detected, head); ok {
		return FileType{}, &RejectError{Message: "The file " + shown + " contains " + what + ", which could run on the reader's computer, so it cannot be accepted whatever its name. Please upload your document as " + AllowedList() + "."}
	}
	if !ft.accepts(detected) {
		return FileType{}, &RejectError{Message: "The file " + shown + " is not a real " + ft.Label + " file: its content is " + describeType(detected) + ". Please upload the " + ft.Label + " file itself, or save your document as " + AllowedList() + " and upload that."}
	}
	if ft.Text {
		if msg := checkText(shown, ft, head); msg != "" {
			return FileType{}, &RejectError{Message: msg}
		}
	}
	return ft, nil
}

// checkShownName quotes a name (or extension) for messages, without hidden
// characters and kept short: Check may be called with a name CleanName has
// not seen.
func checkShownName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if nameRuneHidden(r) {
			return -1
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > 80 {
		name = string([]rune(name)[:77]) + "…"
	}
	return "‘" + name + "’"
}

func fileTypeByExt(ext string) (FileType, bool) {
	for _, ft := range Allowed {
		if ft.Ext == ext {
			return ft, true
		}
	}
	return FileType{}, false
}

func (ft FileType) accepts(mimeType string) bool {
	for _, m := range ft.MIME {
		if m == mimeType {
			return true
		}
	}
	return false
}

// detectType returns the base MIME type of head (no parameters).
//
// mimetype recognises Word and Excel files only when the ZIP's first entry
// is one Office puts first; files from Word for Mac, Google Docs and some
// libraries start differently and come back as plain ZIP. For those we
// look at the entry names in head ourselves: a ZIP with a word/ part is a
// DOCX, with an xl/ part an XLSX, and one whose stored "mimetype" entry
// names an OpenDocument type is that type. A plain ZIP has none of these.
func detectType(head []byte) string {
	m := mimetype.Detect(head)
	base, _, err := mime.ParseMediaType(m.String())
	if err != nil {
		base = strings.ToLower(strings.TrimSpace(strings.Split(m.String(), ";")[0]))
	}
	if base == mimeZIP {
		if refined := zipHeadType(head); refined != "" {
			return refined
		}
	}
	return base
}

// zipHeadType walks the local file headers visible in head and returns the
// Office or OpenDocument type their names reveal, or "".
func zipHeadType(head []byte) string {
	sig := []byte("PK\x03\x04")
	if !bytes.HasPrefix(head, sig) {
		return ""
	}
	for i := 0; i >= 0 && i+30 <= len(head); {
		h := head[i:]
		method := binary.LittleEndian.Uint16(h[8:])
		size := int(binary.LittleEndian.Uint32(h[18:]))
		nameLen := int(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int(binary.LittleEndian.Uint16(h[28:]))
		if 30+nameLen > len(h) {
			break
		}
		entry := string(h[30 : 30+nameLen])
		switch {
		case strings.HasPrefix(entry, "word/"):
			return mimeDOCX
		case strings.HasPrefix(entry, "xl/"):
			return mimeXLSX
		case entry == "mimetype" && method == 0:
			start := 30 + nameLen + extraLen
			if start+size <= len(h) {
				switch string(h[start : start+size]) {
				case mimeODT:
					return mimeODT
				case mimeODS:
					return mimeODS
				}
			}
		}
		// Entries may have their sizes after the data (bit 3), so find the
		// next header by its signature, as mimetype does.
		next := bytes.Index(h[4:], sig)
		if next < 0 {
			break
		}
		i += 4 + next
	}
	return ""
}

// runnableContent reports content that must never be accepted, with words
// for the person. mimetype finds these by their signatures; a "#!" line is
// refused as a script even when mimetype does not know the interpreter.
func runnableContent(detected string, head []byte) (string, bool) {
	switch detected {
	case "application/vnd.microsoft.portable-executable":
		return "a Windows program", true
	case "application/x-ms-installer":
		return "a Windows installer", true
	case "application/x-ms-shortcut":
		return "a Windows shortcut", true
	case "application/vnd.ms-htmlhelp":
		return "a Windows help file", true
	case "application/x-shockwave-flash":
		return "a Flash program", true
	case "application/wasm":
		return "a WebAssembly program", true
	case "application/x-chrome-extension":
		return "a browser extension", true
	case "application/x-elf", "application/x-object", "application/x-executable",
		"application/x-sharedlib", "application/x-coredump":
		return "a Linux program", true
	case "application/x-mach-binary":
		return "a Mac program", true
	case "application/java-archive", "application/x-java-applet":
		return "a Java program", true
	case "application/vnd.android.package-archive":
		return "an Android app", true
	case "text/html", "application/xhtml+xml":
		return "a web page (HTML)", true
	case "image/svg+xml":
		return "an SVG image, which can contain scripts", true
	case "text/javascript":
		return "JavaScript program code", true
	case "text/x-shellscript", "text/x-python", "text/x-perl", "text/x-ruby",
		"text/x-lua", "text/x-tcl", "text/x-php":
		return "a script (program code)", true
	}
	if strings.HasPrefix(detected, "text/xml") || strings.HasSuffix(detected, "+xml") {
		return "XML, which can contain scripts", true
	}
	if bytes.HasPrefix(bytes.TrimPrefix(head, utf8BOM), []byte("#!")) {
		return "a script (program code)", true
	}
	if detected == mimePDF {
		// mimetype, like PDF readers, accepts "%PDF-" anywhere in the first
		// 1 KiB, so a web page or SVG with a PDF header further down (a
		// polyglot) comes back as PDF; what precedes the header must not
		// be markup a browser would run.
		if i := bytes.Index(head[:min(len(head), 1024)], []byte("%PDF-")); i > 0 {
			prefix := head[:i]
			if what, ok := runnableContent(detectType(prefix), prefix); ok {
				return what, true
			}
			if textMarkup(prefix) != "" {
				return "a web page (HTML)", true
			}
		}
	}
	return "", false
}

// textMarkup returns the first tag in b that a browser sniffing the file
// would treat as a web page or run, or "".
func textMarkup(b []byte) string {
	lower := bytes.ToLower(b)
	for _, tag := range []string{"<script", "<html", "<svg", "<iframe"} {
		if bytes.Contains(lower, []byte(tag)) {
			return tag
		}
	}
	return ""
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// checkText applies the rules for text types: UTF-8 (a byte order mark is
// fine, as Excel writes one), no NUL bytes, and none of the markup that a
// browser sniffing the file would run. It returns the message, or "".
func checkText(shown string, ft FileType, head []byte) string {
	body := bytes.TrimPrefix(head, utf8BOM)
	truncated := len(head) >= SniffLen
	if truncated {
		// The head may end part way through a character.
		body = trimPartialRune(body)
	}
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		how := "save it again choosing the UTF-8 encoding (in Notepad: Save As, Encoding: UTF-8)"
		if ft.Ext == ".csv" {
			how = "in Excel choose Save As and the type ‘CSV UTF-8 (Comma delimited)’; in other programs choose the UTF-8 encoding"
		}
		return "The file " + shown + " is not saved as UTF-8 text, so some characters (such as £ or accented letters) would be lost. Please " + how + ", then upload it again."
	}
	if tag := textMarkup(body); tag != "" {
		return "The file " + shown + " contains web page code (" + tag + ">), which a browser could run, so it cannot be accepted as " + ft.Label + ". Please remove that code, or upload the document as PDF."
	}
	return ""
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// describeType puts a detected MIME type into words for a message.
func describeType(detected string) string {
	switch detected {
	case "application/octet-stream":
		return "not a document format we recognise"
	case mimePDF:
		return "a PDF document"
	case mimeDOCX:
		return "a Word document (DOCX)"
	case mimeXLSX:
		return "an Excel spreadsheet (XLSX)"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return "a PowerPoint presentation (PPTX)"
	case mimeODT:
		return "an OpenDocument text document (ODT)"
	case mimeODS:
		return "an OpenDocument spreadsheet (ODS)"
	case "application/msword":
		return "an old-style Word document (DOC)"
	case "application/vnd.ms-excel":
		return "an old-style Excel spreadsheet (XLS)"
	case "application/vnd.ms-powerpoint":
		return "an old-style PowerPoint presentation (PPT)"
	case "application/x-ole-storage":
		return "an old-style Microsoft Office file"
	case mimeZIP:
		return "a ZIP archive"
	case "application/vnd.rar", "application/x-7z-compressed", "application/gzip", "application/x-tar":
		return "a compressed archive other than ZIP"
	case mimeText, mimeCSV, mimeTSV:
		return "plain text"
	case "application/json":
		return "JSON data"
	case "message/rfc822":
		return "an email message"
	case "text/rtf":
		return "a Rich Text (RTF) document"
	case mimePNG, mimeAPNG:
		return "a PNG image"
	case mimeJPEG:
		return "a JPEG image"
	case "image/gif":
		return "a GIF image"
	case "image/tiff":
		return "a TIFF image"
	case "image/heic", "image/heif":
		return "a HEIC photo"
	case "image/webp":
		return "a WebP image"
	}
	if ext := mimetypeExtension(detected); ext != "" {
		return "a different kind of file (" + strings.ToUpper(strings.TrimPrefix(ext, ".")) + ")"
	}
	return "a different kind of file (" + detected + ")"
}

// mimetypeExtension returns mimetype's usual extension for a MIME type.
func mimetypeExtension(mimeType string) string {
	if m := mimetype.Lookup(mimeType); m != nil {
		return m.Extension()
	}
	return ""
}

package web_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/app"
	"github.com/nhsprocure/portal/internal/app/apptest"
	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/config"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// --- helpers ---------------------------------------------------------------

// eachWith runs fn on a fresh portal on every available database, with the
// configuration changed by modify.
func eachWith(t *testing.T, modify func(*config.Config, *app.Options), fn func(t *testing.T, h *apptest.Harness)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { fn(t, apptest.New(t, kind, modify)) })
	}
}

// testPDF builds a small but well-formed PDF (catalogue, page tree, one page
// with a content stream showing marker, a correct cross-reference table)
// padded with a comment so that it is at least size bytes long.
func testPDF(marker string, size int) []byte {
	content := "BT /F1 18 Tf 72 720 Td (" + marker + ") Tj ET\n"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length " + strconv.Itoa(len(content)) + " >>\nstream\n" + content + "endstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	tail := func(xref int) string {
		var t strings.Builder
		fmt.Fprintf(&t, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
		for _, off := range offsets {
			fmt.Fprintf(&t, "%010d 00000 n \n", off)
		}
		fmt.Fprintf(&t, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
		return t.String()
	}
	// Padding to exactly size bytes: comment lines, which readers ignore.
	for {
		end := tail(b.Len())
		short := size - b.Len() - len(end)
		if short <= 0 {
			b.WriteString(end)
			break
		}
		if short == 1 {
			b.WriteString("\n")
			continue
		}
		b.WriteString("%" + strings.Repeat("p", min(short-2, 75)) + "\n")
	}
	return b.Bytes()
}

// mpPart is one part of a hand-built multipart form. Disposition, when set,
// is the part's whole Content-Disposition header (for file names a normal
// client would not send).
type mpPart struct {
	Field, FileName, Disposition string
	Data                         []byte
}

func csrfPart(token string) mpPart { return mpPart{Field: "_csrf", Data: []byte(token)} }
func filePart(name string, data []byte) mpPart {
	return mpPart{Field: "file", FileName: name, Data: data}
}

// writeParts writes parts in order to w.
func writeParts(w *multipart.Writer, parts ...mpPart) error {
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		switch {
		case p.Disposition != "":
			hdr.Set("Content-Disposition", p.Disposition)
			hdr.Set("Content-Type", "application/octet-stream")
		case p.FileName != "":
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.Field, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p.FileName)))
			hdr.Set("Content-Type", "application/octet-stream")
		default:
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, p.Field))
		}
		pw, err := w.CreatePart(hdr)
		if err != nil {
			return err
		}
		if _, err := pw.Write(p.Data); err != nil {
			return err
		}
	}
	return nil
}

// multipartBody returns the Content-Type and body of a form of parts, in
// the order given.
func multipartBody(t *testing.T, parts ...mpPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := writeParts(w, parts...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// send posts body to /documents with b's cookies and returns the response
// with its body read.
func send(t *testing.T, h *apptest.Harness, b *apptest.Browser, contentType string, body io.Reader, header http.Header) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL+"/documents", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("POST /documents: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return apptest.Response{Status: resp.StatusCode, Body: string(raw), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// upload sends a well-formed form (token first, then the file).
func upload(t *testing.T, h *apptest.Harness, b *apptest.Browser, token, name string, data []byte) apptest.Response {
	t.Helper()
	ct, body := multipartBody(t, csrfPart(token), filePart(name, data))
	return send(t, h, b, ct, bytes.NewReader(body), nil)
}

var docLocation = regexp.MustCompile(`^/documents/([0-9a-f-]{36})$`)

// mustUpload uploads data as name and returns the new document's ID.
func mustUpload(t *testing.T, h *apptest.Harness, b *apptest.Browser, name string, data []byte) string {
	t.Helper()
	res := upload(t, h, b, b.CSRF("/documents"), name, data)
	m := docLocation.FindStringSubmatch(res.Location)
	if res.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("upload %s: status %d location %q; want 303 to /documents/<id>\n%s", name, res.Status, res.Location, errorSummary(res.Body))
	}
	return m[1]
}

var errorSummaryPattern = regexp.MustCompile(`(?s)<ul class="nhsuk-list nhsuk-error-summary__list">(.*?)</ul>`)

// errorSummary returns the text of the page's NHS.UK error summary list, or
// "" when the page has none.
func errorSummary(body string) string {
	m := errorSummaryPattern.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func countDocuments(t *testing.T, h *apptest.Harness) int64 {
	t.Helper()
	var n int64
	if err := h.App.DB.Table("documents").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// storedFiles lists the files under the storage root's objects and partial
// folders.
func storedFiles(t *testing.T, h *apptest.Harness) (objects, partial []string) {
	t.Helper()
	root := h.App.Config.DocumentsDir
	walk := func(dir string) []string {
		var out []string
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return walk("objects"), walk("partial")
}

// assertStored checks the number of rows and objects and that no partial
// upload is left behind.
func assertStored(t *testing.T, h *apptest.Harness, rows int64, what string) {
	t.Helper()
	objects, partial := storedFiles(t, h)
	if n := countDocuments(t, h); n != rows {
		t.Errorf("%s: %d documents rows, want %d", what, n, rows)
	}
	if int64(len(objects)) != rows {
		t.Errorf("%s: %d stored objects, want %d: %v", what, len(objects), rows, objects)
	}
	if len(partial) != 0 {
		t.Errorf("%s: partial files left behind: %v", what, partial)
	}
}

// objectPath is where the local backend keeps a document's encrypted file.
func objectPath(t *testing.T, h *apptest.Harness, docID string) string {
	t.Helper()
	doc, err := h.App.Docs.Get(context.Background(), docID)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(h.App.Config.DocumentsDir, "objects", doc.StorageKey[:2], doc.StorageKey)
}

func get(t *testing.T, b *apptest.Browser, h *apptest.Harness, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := b.Client.Get(h.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp, raw
}

// cookieHeader is the Cookie header b would send to the portal.
func cookieHeader(t *testing.T, h *apptest.Harness, b *apptest.Browser) string {
	t.Helper()
	u, _ := url.Parse(h.URL + "/documents")
	var parts []string
	for _, c := range b.Client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// rawUpload opens a connection and writes the request line and headers of a
// POST /documents whose body is declared as contentLength bytes (or chunked
// when contentLength < 0), and nothing of the body.
func rawUpload(t *testing.T, h *apptest.Harness, b *apptest.Browser, contentType string, contentLength int64) net.Conn {
	t.Helper()
	u, _ := url.Parse(h.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "POST /documents HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nCookie: %s\r\n", u.Host, contentType, cookieHeader(t, h, b))
	if contentLength >= 0 {
		fmt.Fprintf(&hdr, "Content-Length: %d\r\n", contentLength)
	} else {
		hdr.WriteString("Transfer-Encoding: chunked\r\n")
	}
	hdr.WriteString("\r\n")
	if _, err := io.WriteString(conn, hdr.String()); err != nil {
		t.Fatal(err)
	}
	return conn
}

const pdfMIME = "application/pdf"

// --- 1. a real upload, end to end -------------------------------------------

// TestDocumentUploadAndDownload: a PDF goes in, the details page shows its
// SHA-256, the download gives back the same bytes with safe headers, both
// steps are audited, and neither the stored file nor the database holds any
// of the plain content.
func TestDocumentUploadAndDownload(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		marker := "PLAINTEXT-MARKER-" + rand.Text()
		pdf := testPDF(marker, 3000)
		sum := sha256.Sum256(pdf)
		want := hex.EncodeToString(sum[:])
		name := "Tender pack (final) £.pdf"

		list := b.Get("/documents")
		if list.Status != http.StatusOK || !strings.Contains(list.Body, `enctype="multipart/form-data"`) {
			t.Fatalf("documents page: status %d, or no upload form", list.Status)
		}
		id := mustUpload(t, h, b, name, pdf)

		page := b.Get("/documents/" + id)
		if page.Status != http.StatusOK {
			t.Fatalf("details page: status %d", page.Status)
		}
		m := regexp.MustCompile(`data-testid="sha256">([0-9a-f]{64})<`).FindStringSubmatch(page.Body)
		if m == nil || m[1] != want {
			t.Fatalf("details page SHA-256 = %v, want %s", m, want)
		}
		if !strings.Contains(page.Body, "Tender pack (final) £.pdf") {
			t.Error("details page does not name the document")
		}
		if list := b.Get("/documents"); !strings.Contains(list.Body, `href="/documents/`+id+`"`) {
			t.Error("documents list does not link the new document")
		}

		resp, body := get(t, b, h, "/documents/"+id+"/download")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("download: status %d", resp.StatusCode)
		}
		if !bytes.Equal(body, pdf) {
			t.Fatalf("download gives %d bytes differing from the %d uploaded", len(body), len(pdf))
		}
		headers := map[string]string{
			"Content-Disposition":    `attachment; filename="Tender pack (final) _.pdf"; filename*=UTF-8''Tender%20pack%20%28final%29%20%C2%A3.pdf`,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Content-Type":           pdfMIME,
			"Content-Length":         strconv.Itoa(len(pdf)),
		}
		for k, v := range headers {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("download header %s = %q, want %q", k, got, v)
			}
		}
		if countAudit(h, "document.upload", audit.Success, id) != 1 {
			t.Error("upload not audited")
		}
		if countAudit(h, "document.download", audit.Success, id) != 1 {
			t.Error("download not audited")
		}
		var up audit.Entry
		h.App.DB.Where("action = ? AND object_id = ?", "document.upload", id).First(&up)
		if up.ActorUserID != h.UserID(t, "demo-trust-lead") || !strings.Contains(up.Detail, want) {
			t.Errorf("upload audit entry: actor %q detail %q", up.ActorUserID, up.Detail)
		}

		// Encrypted at rest: no file under the storage root (nor anywhere in
		// the data folder, which holds the SQLite database) contains the
		// marker, and the stored object is not the PDF.
		obj := objectPath(t, h, id)
		stored, err := os.ReadFile(obj)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(stored, []byte("%PDF")) || len(stored) <= len(pdf) {
			t.Errorf("stored object (%d bytes) looks like the plain file (%d bytes)", len(stored), len(pdf))
		}
		for _, dir := range []string{h.App.Config.DocumentsDir, h.App.Config.DataDir, filepath.Dir(h.DSN)} {
			if h.Kind == store.Postgres && dir == filepath.Dir(h.DSN) {
				continue
			}
			_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				raw, err := os.ReadFile(path)
				if err == nil && (bytes.Contains(raw, []byte(marker)) || bytes.Contains(raw, pdf[:200])) {
					t.Errorf("%s holds plain content of the document", path)
				}
				return nil
			})
		}
		// The row holds metadata and a wrapped key only.
		rows, err := h.App.DB.Raw("SELECT * FROM documents WHERE id = ?", id).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		found := false
		for rows.Next() {
			found = true
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if bs, ok := v.([]byte); ok {
					s = string(bs)
				}
				if strings.Contains(s, marker) || strings.Contains(s, "%PDF") {
					t.Errorf("documents.%s holds plain content", cols[i])
				}
			}
		}
		rows.Close()
		if !found {
			t.Fatal("no documents row")
		}
		doc, _ := h.App.Docs.Get(context.Background(), id)
		if len(doc.WrappedKey) < 32 || doc.SHA256 != want || doc.SizeBytes != int64(len(pdf)) || doc.Name != name || doc.ContentType != pdfMIME {
			t.Errorf("row: wrapped key %d bytes, sha %s, size %d, name %q, type %q", len(doc.WrappedKey), doc.SHA256, doc.SizeBytes, doc.Name, doc.ContentType)
		}
		if key, err := os.ReadFile(filepath.Join(h.App.Config.DataDir, "master.key")); err == nil {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key)))
			if len(raw) > 0 && bytes.Contains(doc.WrappedKey, raw) {
				t.Error("the wrapped key contains the master key")
			}
		}
		assertStored(t, h, 1, "after one upload")
	})
}

// --- 2. organisations ------------------------------------------------------

// TestDocumentOtherOrganisation: another trust's board member gets 404 (and
// an audit entry) for the document and its download; a board member of the
// owning trust may read it but not upload.
func TestDocumentOtherOrganisation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		lead := h.Browser(t)
		lead.SignInAs("demo-trust-lead")
		pdf := testPDF("St George's board papers", 2000)
		id := mustUpload(t, h, lead, "board papers.pdf", pdf)

		other := h.Browser(t)
		other.SignInAs("demo-board-member-gstt")
		for _, path := range []string{"/documents/" + id, "/documents/" + id + "/download"} {
			res := other.Get(path)
			if res.Status != http.StatusNotFound || !strings.Contains(res.Body, "Page not found") {
				t.Errorf("other trust GET %s: status %d; want the 404 page", path, res.Status)
			}
			if strings.Contains(res.Body, "board papers") || strings.Contains(res.Body, "%PDF") {
				t.Errorf("other trust GET %s reveals the document", path)
			}
		}
		if n := countAudit(h, "documents.read", audit.Denied, id); n != 2 {
			t.Errorf("%d denied reads audited for the document, want 2", n)
		}
		if countAudit(h, "document.download", audit.Success, id) != 0 {
			t.Error("a refused download was audited as a download")
		}
		// The other trust's own library does not list it either.
		if res := other.Get("/documents"); res.Status != http.StatusOK || strings.Contains(res.Body, id) {
			t.Errorf("other trust's documents page: status %d, or it lists the document", res.Status)
		}

		board := h.Browser(t)
		board.SignInAs("demo-board-member")
		if res := board.Get("/documents/" + id); res.Status != http.StatusOK || !strings.Contains(res.Body, "board papers.pdf") {
			t.Errorf("own trust's board member: details status %d", res.Status)
		}
		resp, body := get(t, board, h, "/documents/"+id+"/download")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdf) {
			t.Errorf("own trust's board member: download status %d, %d bytes", resp.StatusCode, len(body))
		}
		if list := board.Get("/documents"); strings.Contains(list.Body, `enctype="multipart/form-data"`) {
			t.Error("the board member is offered the upload form")
		}
		res := upload(t, h, board, board.CSRF("/"), "minutes.pdf", testPDF("minutes", 1000))
		if res.Status != http.StatusForbidden {
			t.Errorf("board member upload: status %d, want 403", res.Status)
		}
		if countAudit(h, "documents.write", audit.Denied, "") != 1 {
			t.Error("the refused upload was not audited")
		}
		assertStored(t, h, 1, "after the refused upload")
	})
}

// --- 3. files that are refused -------------------------------------------

// zipBombDocx streams a DOCX-looking ZIP whose word/document.xml unpacks to
// size bytes of zeros into w.
func zipBombDocx(w io.Writer, size int64) error {
	z := zip.NewWriter(w)
	ct, err := z.Create("[Content_Types].xml")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(ct, `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`); err != nil {
		return err
	}
	doc, err := z.Create("word/document.xml")
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(zeros)) {
		if _, err := doc.Write(zeros[:min(int64(len(zeros)), size-n)]); err != nil {
			return err
		}
	}
	return z.Close()
}

// TestDocumentRefusedFiles: each bad file is answered 400 with the error
// summary and a message saying what is wrong (and, for a wrong type, what
// is allowed); nothing is stored.
func TestDocumentRefusedFiles(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		token := b.CSRF("/documents")
		allowed := documents.AllowedList()

		elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00"), make([]byte, 512)...)
		mz := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 512)...)
		copy(mz[0x3c:], []byte{0x80, 0, 0, 0})
		copy(mz[0x80:], []byte("PE\x00\x00\x4c\x01"))
		cases := []struct {
			name   string
			part   mpPart
			status int
			want   []string
		}{
			{"ELF program as PDF", filePart("report.pdf", elf), 400, []string{"a Linux program", allowed}},
			{"Windows program as PDF", filePart("report.pdf", mz), 400, []string{"a Windows program", allowed}},
			{"HTML as text", filePart("notes.txt", []byte("<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(document.cookie)</script></body></html>\n")), 400,
				[]string{"a web page (HTML)", allowed}},
			{"SVG with a script as PNG", filePart("picture.png", []byte(`<?xml version="1.0"?>`+"\n"+`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`)), 400,
				[]string{"an SVG image", allowed}},
			{"text with a script", filePart("notes.txt", []byte("Meeting notes\n<script>alert(1)</script>\n")), 400, []string{"contains web page code"}},
			{"PDF that is text", filePart("scan.pdf", []byte("just some text, not a PDF\n")), 400, []string{"is not a real PDF file", documents.AllowedList()}},
			{"empty file", filePart("empty.pdf", nil), 400, []string{"is empty"}},
			{"unknown extension", filePart("setup.exe", mz), 400, []string{"Files ending ‘.exe’ cannot be uploaded", allowed}},
			{"no extension", filePart("README", []byte("hello\n")), 400, []string{"needs a name and a type ending", documents.AllowedList()}},
			{"Windows path", filePart(`..\..\windows\system32\evil.pdf`, testPDF("evil", 1000)), 400, []string{"contains / or \\"}},
			// A raw control byte makes the part header itself invalid, so the
			// form parser finds no file.
			{"control character in the header", filePart("report\x01.pdf", testPDF("ctl", 1000)), 400, []string{"name could not be read"}},
			{"control character (RFC 2231)", mpPart{Disposition: `form-data; name="file"; filename*=UTF-8''report%01.pdf`, Data: testPDF("ctl", 1000)}, 400,
				[]string{"hidden characters"}},
			{"line break (RFC 2231)", mpPart{Disposition: `form-data; name="file"; filename*=UTF-8''report%0D%0AX-Injected%3A%201.pdf`, Data: testPDF("crlf", 1000)}, 400,
				[]string{"hidden characters"}},
			{"direction override", filePart("invoice\u202Efdp.exe", testPDF("rlo", 1000)), 400, []string{"hidden characters"}},
			{"no file chosen", mpPart{Field: "file", Disposition: `form-data; name="file"; filename=""`}, 400, []string{"Select a file to upload"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ct, body := multipartBody(t, csrfPart(token), tc.part)
				res := send(t, h, b, ct, bytes.NewReader(body), nil)
				if res.Status != tc.status {
					t.Fatalf("status %d, want %d (location %q)\n%s", res.Status, tc.status, res.Location, errorSummary(res.Body))
				}
				summary := errorSummary(res.Body)
				if summary == "" || !strings.Contains(res.Body, "There is a problem") || !strings.Contains(summary, `href="#file"`) {
					t.Fatalf("no NHS.UK error summary pointing at the file field:\n%s", res.Body)
				}
				for _, w := range tc.want {
					if !strings.Contains(summary, w) {
						t.Errorf("message %q lacks %q", summary, w)
					}
				}
				if !strings.Contains(res.Body, `id="file-error"`) || !strings.Contains(res.Body, "nhsuk-form-group--error") {
					t.Error("the file field is not marked as in error")
				}
				assertStored(t, h, 0, tc.name)
			})
		}

		// A path in the file name is refused, not quietly shortened, and
		// nothing appears outside the storage root.
		t.Run("path traversal", func(t *testing.T) {
			res := upload(t, h, b, token, "../../etc/passwd.pdf", testPDF("traversal", 1000))
			if res.Status != http.StatusBadRequest || !strings.Contains(errorSummary(res.Body), "contains / or \\") {
				t.Fatalf("status %d, refused with %q; want 400 naming the slash", res.Status, errorSummary(res.Body))
			}
			assertStored(t, h, 0, "path traversal")
			for _, p := range []string{filepath.Join(h.App.Config.DocumentsDir, "..", "..", "etc", "passwd.pdf"), filepath.Join(h.App.Config.DocumentsDir, "etc")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s exists", p)
				}
			}
		})

		// Zip bombs: built streaming (the request body is a pipe), so the
		// test never holds the archive.
		bomb := func(t *testing.T, size int64) apptest.Response {
			pr, pw := io.Pipe()
			w := multipart.NewWriter(pw)
			go func() {
				err := writeParts(w, csrfPart(token))
				var fw io.Writer
				if err == nil {
					fw, err = w.CreateFormFile("file", "bomb.docx")
				}
				if err == nil {
					err = zipBombDocx(fw, size)
				}
				if err == nil {
					err = w.Close()
				}
				pw.CloseWithError(err)
			}()
			return send(t, h, b, w.FormDataContentType(), pr, nil)
		}
		t.Run("zip bomb by ratio", func(t *testing.T) {
			res := bomb(t, 64<<20)
			if res.Status != http.StatusBadRequest || !strings.Contains(errorSummary(res.Body), "zip bombs") || !strings.Contains(errorSummary(res.Body), "‘bomb.docx’") {
				t.Fatalf("status %d, message %q", res.Status, errorSummary(res.Body))
			}
			assertStored(t, h, 0, "zip bomb")
		})
		t.Run("zip bomb by total size", func(t *testing.T) {
			saved := h.App.Docs.Limits.Zip
			h.App.Docs.Limits.Zip = documents.ZipLimits{MaxUncompressed: 8 << 20, MaxRatio: 1 << 40}
			defer func() { h.App.Docs.Limits.Zip = saved }()
			res := bomb(t, 64<<20)
			if res.Status != http.StatusBadRequest || !strings.Contains(errorSummary(res.Body), "expands to more than") {
				t.Fatalf("status %d, message %q", res.Status, errorSummary(res.Body))
			}
			assertStored(t, h, 0, "zip bomb")
		})
		// A genuine small DOCX-shaped archive is accepted.
		t.Run("small docx accepted", func(t *testing.T) {
			var buf bytes.Buffer
			if err := zipBombDocx(&buf, 4096); err != nil {
				t.Fatal(err)
			}
			id := mustUpload(t, h, b, "letter.docx", buf.Bytes())
			doc, _ := h.App.Docs.Get(context.Background(), id)
			if doc.FileType != "DOCX" {
				t.Errorf("file type %q", doc.FileType)
			}
			assertStored(t, h, 1, "docx")
		})
	})
}

// --- 4. too large ----------------------------------------------------------

// TestDocumentTooLarge: with a 1 MiB limit, a declared 50 MiB body is
// refused with 413 before any of it is sent, and a chunked body that runs
// past the limit is refused with 413 while streaming; nothing is stored.
func TestDocumentTooLarge(t *testing.T) {
	eachWith(t, func(c *config.Config, _ *app.Options) { c.UploadMax = 1 << 20 }, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		token := b.CSRF("/documents")

		t.Run("declared length", func(t *testing.T) {
			w := multipart.NewWriter(io.Discard)
			conn := rawUpload(t, h, b, w.FormDataContentType(), 50<<20)
			// The start of the body only: the token part and a little of a
			// file. The answer must come without the rest.
			var start bytes.Buffer
			fmt.Fprintf(&start, "--%s\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
				w.Boundary(), token, w.Boundary())
			start.Write(testPDF("big", 4096))
			if _, err := conn.Write(start.Bytes()); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response without the rest of the body: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
			if msg := errorSummary(string(body)); !strings.Contains(msg, "larger than 1.0 MiB") {
				t.Errorf("message %q does not name the 1.0 MiB limit", msg)
			}
			if !resp.Close {
				t.Error("the server keeps the connection open, so it would read the rest of the body")
			}
			assertStored(t, h, 0, "declared 50 MiB")
		})

		t.Run("chunked", func(t *testing.T) {
			pr, pw := io.Pipe()
			w := multipart.NewWriter(pw)
			var sent int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				err := writeParts(w, csrfPart(token))
				var fw io.Writer
				if err == nil {
					fw, err = w.CreateFormFile("file", "big.pdf")
				}
				pdf := testPDF("chunked", 3<<20)
				for off := 0; err == nil && off < len(pdf); off += 32 << 10 {
					var n int
					n, err = fw.Write(pdf[off:min(off+32<<10, len(pdf))])
					sent += int64(n)
				}
				if err == nil {
					err = w.Close()
				}
				pw.CloseWithError(err)
			}()
			res := send(t, h, b, w.FormDataContentType(), pr, nil)
			pr.CloseWithError(errors.New("test finished"))
			<-done
			if res.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413\n%s", res.Status, errorSummary(res.Body))
			}
			if !strings.Contains(errorSummary(res.Body), "larger than 1.0 MiB") {
				t.Errorf("message %q", errorSummary(res.Body))
			}
			assertStored(t, h, 0, "chunked 3 MiB")
			t.Logf("client wrote %d of %d bytes before the refusal", sent, 3<<20)
		})

		// Just under the limit is fine.
		t.Run("at the limit", func(t *testing.T) {
			mustUpload(t, h, b, "exactly.pdf", testPDF("limit", 1<<20))
			assertStored(t, h, 1, "1 MiB file")
		})
	})
}

// --- 5. interrupted uploads and orphans -----------------------------------

// TestDocumentInterruptedUpload: a client that vanishes mid-upload leaves no
// record and, after Sweep, no file; an object stored without a record (the
// process died before committing) is swept while real documents stay.
func TestDocumentInterruptedUpload(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		token := b.CSRF("/documents")
		kept := mustUpload(t, h, b, "kept.pdf", testPDF("kept", 5000))

		w := multipart.NewWriter(io.Discard)
		conn := rawUpload(t, h, b, w.FormDataContentType(), 20<<20)
		var start bytes.Buffer
		fmt.Fprintf(&start, "--%s\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
			w.Boundary(), token, w.Boundary())
		start.Write(testPDF("cut", 2<<20))
		if _, err := conn.Write(start.Bytes()); err != nil {
			t.Fatal(err)
		}
		// Let the server get going (it writes encrypted segments to a
		// partial file), then cut the connection without a goodbye.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, partial := storedFiles(t, h); len(partial) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, as when a process or network dies
		}
		conn.Close()

		// The server gives up and removes its partial file by itself.
		deadline = time.Now().Add(5 * time.Second)
		for {
			_, partial := storedFiles(t, h)
			if len(partial) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("partial file still there 5 s after the client went away: %v", partial)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := countDocuments(t, h); n != 1 {
			t.Errorf("%d documents rows, want only the earlier one", n)
		}
		if countAudit(h, "document.upload", audit.Success, "") != 1 {
			t.Error("the interrupted upload was audited as an upload")
		}

		// The other crash window: the object is in place but the process
		// died before the row was committed.
		orphan := strings.ReplaceAll(rand.Text(), "=", "")
		if _, err := h.App.Docs.Store.Put(ctx, orphan, bytes.NewReader([]byte("encrypted bytes of a lost upload"))); err != nil {
			t.Fatal(err)
		}
		// And a partial file of a Put that never finished.
		partialDir := filepath.Join(h.App.Config.DocumentsDir, "partial")
		if err := os.WriteFile(filepath.Join(partialDir, orphan+".1234.part"), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if objects, _ := storedFiles(t, h); len(objects) != 2 {
			t.Fatalf("%d objects before the sweep, want 2", len(objects))
		}
		// A sweep with the usual age spares fresh files.
		if n, err := h.App.Docs.Sweep(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("Sweep(1h) removed %d (%v); want nothing, the files are new", n, err)
		}
		time.Sleep(20 * time.Millisecond) // file times are coarser than the clock
		n, err := h.App.Docs.Sweep(ctx, 0)
		if err != nil || n != 2 {
			t.Errorf("Sweep(0) removed %d (%v); want the orphan and the partial file", n, err)
		}
		assertStored(t, h, 1, "after the sweep")
		if _, err := os.Stat(objectPath(t, h, kept)); err != nil {
			t.Errorf("the recorded document's object: %v", err)
		}
		if resp, body := get(t, b, h, "/documents/"+kept+"/download"); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("(kept)")) {
			t.Errorf("the recorded document no longer downloads: status %d", resp.StatusCode)
		}
	})
}

// --- 6. tampering ----------------------------------------------------------

// TestDocumentTampering: one flipped byte in the stored file makes the
// download fail with the generic error page and an audit entry; restoring
// it makes the download work again.
func TestDocumentTampering(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		pdf := testPDF("tamper", 40_000)
		id := mustUpload(t, h, b, "contract.pdf", pdf)
		path := objectPath(t, h, id)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		flip := func() {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			one := make([]byte, 1)
			if _, err := f.ReadAt(one, info.Size()/2); err != nil {
				t.Fatal(err)
			}
			one[0] ^= 0x01
			if _, err := f.WriteAt(one, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		}

		flip()
		resp, body := get(t, b, h, "/documents/"+id+"/download")
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "Sorry, there is a problem with the service") {
			t.Fatalf("tampered download: status %d; want the 500 page", resp.StatusCode)
		}
		if strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || bytes.Contains(body, []byte("%PDF")) {
			t.Error("the tampered document was (partly) sent")
		}
		for _, leak := range []string{"integrity", "tink", "decrypt", "cipher"} {
			if strings.Contains(strings.ToLower(string(body)), leak) {
				t.Errorf("error page reveals %q", leak)
			}
		}
		if countAudit(h, "document.integrity_failed", audit.Failure, id) != 1 {
			t.Error("the integrity failure was not audited")
		}
		if countAudit(h, "document.download", audit.Success, id) != 0 {
			t.Error("the failed download was audited as a download")
		}

		flip()
		resp, body = get(t, b, h, "/documents/"+id+"/download")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdf) {
			t.Fatalf("restored download: status %d, %d bytes", resp.StatusCode, len(body))
		}

		// A missing stored file is treated the same way.
		if err := os.Rename(path, path+".away"); err != nil {
			t.Fatal(err)
		}
		if resp, _ := get(t, b, h, "/documents/"+id+"/download"); resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("missing stored file: status %d, want 500", resp.StatusCode)
		}
		if n := countAudit(h, "document.integrity_failed", audit.Failure, id); n != 2 {
			t.Errorf("%d integrity failures audited, want 2", n)
		}
		if n, brk, err := audit.Verify(context.Background(), h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", n, brk, err)
		}
	})
}

// --- 7. CSRF -------------------------------------------------------------

// TestDocumentUploadCSRF: the token must be the form's first field and
// right; otherwise 403, audited, nothing stored.
func TestDocumentUploadCSRF(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		token := b.CSRF("/documents")
		pdf := testPDF("csrf", 2000)
		cases := []struct {
			name  string
			parts []mpPart
		}{
			{"token after the file", []mpPart{filePart("a.pdf", pdf), csrfPart(token)}},
			{"wrong token", []mpPart{csrfPart(strings.Repeat("x", len(token))), filePart("a.pdf", pdf)}},
			{"empty token", []mpPart{csrfPart(""), filePart("a.pdf", pdf)}},
			{"token with a suffix", []mpPart{csrfPart(token + "x"), filePart("a.pdf", pdf)}},
			{"no token", []mpPart{filePart("a.pdf", pdf)}},
			{"another field first", []mpPart{{Field: "note", Data: []byte("hi")}, csrfPart(token), filePart("a.pdf", pdf)}},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ct, body := multipartBody(t, tc.parts...)
				res := send(t, h, b, ct, bytes.NewReader(body), nil)
				if res.Status != http.StatusForbidden {
					t.Errorf("status %d, want 403", res.Status)
				}
				if n := countAudit(h, "request.csrf_refused", audit.Denied, "/documents"); n != int64(i+1) {
					t.Errorf("%d CSRF refusals audited, want %d", n, i+1)
				}
				assertStored(t, h, 0, tc.name)
			})
		}
		// Not multipart at all.
		res := send(t, h, b, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"_csrf": {token}}.Encode()), nil)
		if res.Status != http.StatusBadRequest && res.Status != http.StatusForbidden {
			t.Errorf("url-encoded post: status %d", res.Status)
		}
		// Another browser's valid token does not work with this session.
		other := h.Browser(t)
		other.SignInAs("demo-trust-lead")
		if res := upload(t, h, b, other.CSRF("/documents"), "a.pdf", pdf); res.Status != http.StatusForbidden {
			t.Errorf("another session's token: status %d, want 403", res.Status)
		}
		assertStored(t, h, 0, "after the refusals")
		// With the token first the same upload works.
		if res := upload(t, h, b, token, "a.pdf", pdf); res.Status != http.StatusSeeOther {
			t.Errorf("valid upload: status %d", res.Status)
		}
	})
}

// --- 8. quota -----------------------------------------------------------

// TestDocumentQuota: with a 100 KiB quota one 60 KiB file fits and a second
// does not; the first is unharmed.
func TestDocumentQuota(t *testing.T) {
	eachWith(t, func(c *config.Config, _ *app.Options) { c.OrgQuota = 100 << 10 }, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		first := testPDF("first", 60<<10)
		id := mustUpload(t, h, b, "first.pdf", first)
		res := upload(t, h, b, b.CSRF("/documents"), "second.pdf", testPDF("second", 60<<10))
		if res.Status != http.StatusBadRequest {
			t.Fatalf("second upload: status %d, want 400", res.Status)
		}
		msg := errorSummary(res.Body)
		if !strings.Contains(msg, "used 60.0 KiB of its 100.0 KiB") {
			t.Errorf("message %q does not explain the quota", msg)
		}
		// One byte more than what is left is refused; exactly what is left
		// fits.
		if res := upload(t, h, b, b.CSRF("/documents"), "third.pdf", testPDF("third", 40<<10+1)); res.Status != http.StatusBadRequest || !strings.Contains(errorSummary(res.Body), "of its 100.0 KiB") {
			t.Errorf("third upload: status %d, message %q", res.Status, errorSummary(res.Body))
		}
		assertStored(t, h, 1, "after the refusals")
		mustUpload(t, h, b, "fourth.pdf", testPDF("fourth", 40<<10))
		assertStored(t, h, 2, "after filling the quota exactly")
		if resp, body := get(t, b, h, "/documents/"+id+"/download"); resp.StatusCode != http.StatusOK || !bytes.Equal(body, first) {
			t.Errorf("first document: status %d", resp.StatusCode)
		}
		if page := b.Get("/documents"); !strings.Contains(page.Body, "using 100.0 KiB of 100.0 KiB") {
			t.Error("documents page does not show the usage")
		}
	})
}

// --- 9. concurrency -------------------------------------------------------

// TestDocumentConcurrentUploads: ten people upload at once; every upload is
// recorded once, every object stored once, and the audit chain is intact.
func TestDocumentConcurrentUploads(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		const n = 10
		browsers := make([]*apptest.Browser, n)
		tokens := make([]string, n)
		for i := range browsers {
			browsers[i] = h.Browser(t)
			browsers[i].SignInAs("demo-trust-lead")
			tokens[i] = browsers[i].CSRF("/documents")
		}
		pdfs := make([][]byte, n)
		for i := range pdfs {
			pdfs[i] = testPDF(fmt.Sprintf("concurrent upload %d", i), 20_000+i*1000)
		}
		ids := make([]string, n)
		errs := make([]string, n)
		var wg sync.WaitGroup
		startLine := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-startLine
				ct, body := multipartBody(t, csrfPart(tokens[i]), filePart(fmt.Sprintf("bid %d.pdf", i), pdfs[i]))
				req, _ := http.NewRequest(http.MethodPost, h.URL+"/documents", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				resp, err := browsers[i].Client.Do(req)
				if err != nil {
					errs[i] = err.Error()
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := docLocation.FindStringSubmatch(resp.Header.Get("Location"))
				if resp.StatusCode != http.StatusSeeOther || m == nil {
					errs[i] = fmt.Sprintf("status %d %s", resp.StatusCode, errorSummary(string(raw)))
					return
				}
				ids[i] = m[1]
			})
		}
		close(startLine)
		wg.Wait()
		for i, e := range errs {
			if e != "" {
				t.Errorf("upload %d: %s", i, e)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		assertStored(t, h, n, "after concurrent uploads")
		seen := map[string]bool{}
		for i, id := range ids {
			if seen[id] {
				t.Errorf("upload %d: ID %s given twice", i, id)
			}
			seen[id] = true
			doc, err := h.App.Docs.Get(context.Background(), id)
			sum := sha256.Sum256(pdfs[i])
			if err != nil || doc.SHA256 != hex.EncodeToString(sum[:]) || doc.Name != fmt.Sprintf("bid %d.pdf", i) {
				t.Errorf("upload %d: record %+v (%v)", i, doc, err)
			}
			if countAudit(h, "document.upload", audit.Success, id) != 1 {
				t.Errorf("upload %d not audited once", i)
			}
		}
		// Spot-check content survives: each download is its own file.
		for _, i := range []int{0, n - 1} {
			if resp, body := get(t, browsers[i], h, "/documents/"+ids[i]+"/download"); resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdfs[i]) {
				t.Errorf("download %d: status %d", i, resp.StatusCode)
			}
		}
		if count, brk, err := audit.Verify(context.Background(), h.App.DB); err != nil || brk != nil {
			t.Fatalf("audit chain after %d entries: %v %v", count, brk, err)
		}
	})
}

// TestDocumentQuotaConcurrent: uploads racing for the last of the quota
// cannot together exceed it. With a 100 KiB quota and eight 30 KiB files
// sent at once, exactly three fit.
func TestDocumentQuotaConcurrent(t *testing.T) {
	eachWith(t, func(c *config.Config, _ *app.Options) { c.OrgQuota = 100 << 10 }, func(t *testing.T, h *apptest.Harness) {
		const n = 8
		browsers := make([]*apptest.Browser, n)
		tokens := make([]string, n)
		for i := range browsers {
			browsers[i] = h.Browser(t)
			browsers[i].SignInAs("demo-trust-lead")
			tokens[i] = browsers[i].CSRF("/documents")
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		startLine := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				ct, body := multipartBody(t, csrfPart(tokens[i]), filePart(fmt.Sprintf("q%d.pdf", i), testPDF(fmt.Sprintf("q%d", i), 30<<10)))
				req, _ := http.NewRequest(http.MethodPost, h.URL+"/documents", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				<-startLine
				resp, err := browsers[i].Client.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		close(startLine)
		wg.Wait()
		ok := 0
		for i, st := range statuses {
			switch st {
			case http.StatusSeeOther:
				ok++
			case http.StatusBadRequest:
			default:
				t.Errorf("upload %d: status %d", i, st)
			}
		}
		used, err := h.App.Docs.Used(context.Background(), orgID(t, h, "RJ7"))
		if err != nil {
			t.Fatal(err)
		}
		if ok != 3 || used != 3*(30<<10) {
			t.Errorf("%d uploads accepted using %d bytes (statuses %v); want exactly 3 using %d of the %d quota", ok, used, statuses, 3*(30<<10), 100<<10)
		}
		assertStored(t, h, int64(ok), "after racing for the quota")
	})
}

// TestDocumentUploadCrossSite: a cross-site upload is refused outright, as
// every other form post is, even with a valid token.
func TestDocumentUploadCrossSite(t *testing.T) {
	apptest.Each(t, func(t *testing.T, h *apptest.Harness) {
		b := h.Browser(t)
		b.SignInAs("demo-trust-lead")
		ct, body := multipartBody(t, csrfPart(b.CSRF("/documents")), filePart("a.pdf", testPDF("cross-site", 2000)))
		for _, site := range []string{"cross-site", "same-site"} {
			res := send(t, h, b, ct, bytes.NewReader(body), http.Header{"Sec-Fetch-Site": {site}})
			if res.Status != http.StatusForbidden {
				t.Errorf("Sec-Fetch-Site %s with a valid token: status %d, want 403", site, res.Status)
			}
		}
		if n := countAudit(h, "request.csrf_refused", audit.Denied, "/documents"); n != 2 {
			t.Errorf("%d refusals audited, want 2", n)
		}
		assertStored(t, h, 0, "after cross-site uploads")
		// The same request from the portal's own pages works.
		if res := send(t, h, b, ct, bytes.NewReader(body), http.Header{"Sec-Fetch-Site": {"same-origin"}}); res.Status != http.StatusSeeOther {
			t.Errorf("same-origin upload: status %d", res.Status)
		}
	})
}

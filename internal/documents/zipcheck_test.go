package documents

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// ztFile is one item for ztGoZip, which uses archive/zip as a real writer.
type ztFile struct {
	name   string
	data   []byte
	method uint16 // zip.Store or zip.Deflate
	// sized: sizes and CRC in the local header (CreateRaw), as Office,
	// 7-Zip and Windows write them; otherwise archive/zip's streaming form
	// with a data descriptor after the data.
	sized bool
	flags uint16
	mode  os.FileMode
}

// ztGoZip writes files with archive/zip.
func ztGoZip(t testing.TB, comment string, files ...ztFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		fh := &zip.FileHeader{Name: f.name, Method: f.method, Flags: f.flags}
		if f.mode != 0 {
			fh.SetMode(f.mode)
		}
		var (
			fw  io.Writer
			err error
		)
		if f.sized {
			packed := ztPack(t, f.method, f.data)
			fh.CRC32 = crc32.ChecksumIEEE(f.data)
			fh.CompressedSize64 = uint64(len(packed))
			fh.UncompressedSize64 = uint64(len(f.data))
			if fw, err = w.CreateRaw(fh); err == nil {
				_, err = fw.Write(packed)
			}
		} else if fw, err = w.CreateHeader(fh); err == nil {
			_, err = fw.Write(f.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if comment != "" {
		if err := w.SetComment(comment); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ztPack(t testing.TB, method uint16, data []byte) []byte {
	t.Helper()
	if method == zip.Store {
		return data
	}
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ztEntry is one item for ztRaw, a hand-made writer for the forms
// archive/zip never produces and for deliberately broken archives.
type ztEntry struct {
	name       string
	data       []byte
	method     uint16
	packed     []byte // instead of packing data
	descriptor int    // 0: none; 12, 16, 20 or 24: descriptor of that length
	zip64      bool   // ZIP64 extra fields, sizes 0xFFFFFFFF
	flags      uint16
}

// ztCD is one central directory record for ztRaw: which entry it lists
// and how to falsify it.
type ztCD struct {
	entry       int
	offsetDelta int64
	usizeDelta  int64
}

type ztArchive struct {
	prefix   []byte
	entries  []ztEntry
	cd       []ztCD // nil: one record per entry
	zip64End bool   // ZIP64 end record and locator
	comment  string
	trailer  []byte
}

func (a ztArchive) build(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	b.Write(a.prefix)
	le16 := func(v uint16) { _ = binary.Write(&b, binary.LittleEndian, v) }
	le32 := func(v uint32) { _ = binary.Write(&b, binary.LittleEndian, v) }
	le64 := func(v uint64) { _ = binary.Write(&b, binary.LittleEndian, v) }
	type done struct {
		offset       int64
		crc          uint32
		csize, usize uint64
	}
	var written []done
	for _, e := range a.entries {
		packed := e.packed
		if packed == nil {
			packed = ztPack(t, e.method, e.data)
		}
		d := done{int64(b.Len()), crc32.ChecksumIEEE(e.data), uint64(len(packed)), uint64(len(e.data))}
		written = append(written, d)
		flags := e.flags
		if e.descriptor != 0 {
			flags |= 8
		}
		le32(zipLocalSig)
		le16(45)
		le16(flags)
		le16(e.method)
		le32(0) // time, date
		switch {
		case e.descriptor != 0:
			le32(0)
			le32(0)
			le32(0)
		case e.zip64:
			le32(d.crc)
			le32(zipMax32)
			le32(zipMax32)
		default:
			le32(d.crc)
			le32(uint32(d.csize))
			le32(uint32(d.usize))
		}
		le16(uint16(len(e.name)))
		if e.zip64 {
			le16(20)
		} else {
			le16(0)
		}
		b.WriteString(e.name)
		if e.zip64 {
			le16(1)
			le16(16)
			if e.descriptor != 0 {
				le64(0)
				le64(0)
			} else {
				le64(d.usize)
				le64(d.csize)
			}
		}
		b.Write(packed)
		switch e.descriptor {
		case 12, 16:
			if e.descriptor == 16 {
				le32(zipDescriptorSig)
			}
			le32(d.crc)
			le32(uint32(d.csize))
			le32(uint32(d.usize))
		case 20, 24:
			if e.descriptor == 24 {
				le32(zipDescriptorSig)
			}
			le32(d.crc)
			le64(d.csize)
			le64(d.usize)
		}
	}
	cd := a.cd
	if cd == nil {
		for i := range a.entries {
			cd = append(cd, ztCD{entry: i})
		}
	}
	start := int64(b.Len())
	for _, r := range cd {
		e, d := a.entries[r.entry], written[r.entry]
		offset := uint64(d.offset + r.offsetDelta)
		usize := uint64(int64(d.usize) + r.usizeDelta)
		le32(zipCentralSig)
		le16(45)
		le16(45)
		flags := e.flags
		if e.descriptor != 0 {
			flags |= 8
		}
		le16(flags)
		le16(e.method)
		le32(0)
		le32(d.crc)
		if e.zip64 {
			le32(zipMax32)
			le32(zipMax32)
		} else {
			le32(uint32(d.csize))
			le32(uint32(usize))
		}
		le16(uint16(len(e.name)))
		if e.zip64 {
			le16(28)
		} else {
			le16(0)
		}
		le16(0) // comment
		le16(0) // disk
		le16(0) // internal attributes
		le32(0) // external attributes
		if e.zip64 {
			le32(zipMax32)
		} else {
			le32(uint32(offset))
		}
		b.WriteString(e.name)
		if e.zip64 {
			le16(1)
			le16(24)
			le64(usize)
			le64(d.csize)
			le64(offset)
		}
	}
	size := int64(b.Len()) - start
	if a.zip64End {
		at := b.Len()
		le32(zip64EndSig)
		le64(44)
		le16(45)
		le16(45)
		le32(0)
		le32(0)
		le64(uint64(len(cd)))
		le64(uint64(len(cd)))
		le64(uint64(size))
		le64(uint64(start))
		le32(zip64LocatorSig)
		le32(0)
		le64(uint64(at))
		le32(1)
	}
	le32(zipEndSig)
	le16(0)
	le16(0)
	if a.zip64End {
		le16(zipMax16)
		le16(zipMax16)
		le32(zipMax32)
		le32(zipMax32)
	} else {
		le16(uint16(len(cd)))
		le16(uint16(len(cd)))
		le32(uint32(size))
		le32(uint32(start))
	}
	le16(uint16(len(a.comment)))
	b.WriteString(a.comment)
	b.Write(a.trailer)
	return b.Bytes()
}

// ztCountingReader records how much of the input InspectZip read.
type ztCountingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *ztCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

// ztInspect runs InspectZip and checks that it read all the input and
// that any error is a refusal.
func ztInspect(t testing.TB, data []byte, lim ZipLimits) error {
	t.Helper()
	c := &ztCountingReader{r: bytes.NewReader(data)}
	err := InspectZip(c, lim)
	if c.n != int64(len(data)) || !c.eof {
		t.Errorf("InspectZip read %d of %d bytes (EOF seen: %v)", c.n, len(data), c.eof)
	}
	if err != nil {
		var re *RejectError
		if !errors.As(err, &re) {
			t.Errorf("InspectZip error is not a *RejectError: %T %v", err, err)
		}
	}
	return err
}

// ztWantReject checks err is a refusal whose message contains want.
func ztWantReject(t testing.TB, err error, want string) {
	t.Helper()
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("want a refusal containing %q, got %v", want, err)
	}
	if !strings.Contains(re.Message, want) {
		t.Fatalf("refusal %q does not contain %q", re.Message, want)
	}
}

const (
	ztDamaged     = "incomplete, damaged or not a valid ZIP"
	ztEncrypted   = "password-protected"
	ztUnsupported = "cannot be checked, or is one part of a split archive"
	ztUnsafe      = "unsafe names"
	ztTooMany     = "items, which is more than we accept"
	ztTooLarge    = "expands to more than"
	ztRatio       = "times its packed size"
)

func ztText(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	words := strings.Fields("the supplier shall provide evidence of compliance with the NHS standard contract and social value commitments for each lot")
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

func ztNoise(n int) []byte {
	r := rand.New(rand.NewPCG(2, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestInspectZipAccepts(t *testing.T) {
	nested := ztGoZip(t, "", ztFile{name: "zeros.bin", data: make([]byte, 8<<20), method: zip.Deflate})
	cases := map[string][]byte{
		"deflate with descriptors": ztGoZip(t, "",
			ztFile{name: "a.txt", data: ztText(5000), method: zip.Deflate},
			ztFile{name: "b.bin", data: ztNoise(70000), method: zip.Deflate}),
		"deflate with sizes": ztGoZip(t, "",
			ztFile{name: "a.txt", data: ztText(5000), method: zip.Deflate, sized: true},
			ztFile{name: "b.bin", data: ztNoise(70000), method: zip.Deflate, sized: true}),
		"store with sizes": ztGoZip(t, "",
			ztFile{name: "a.txt", data: ztText(5000), method: zip.Store, sized: true},
			ztFile{name: "photo.jpg", data: ztNoise(100000), method: zip.Store, sized: true}),
		"folders and empty files": ztGoZip(t, "",
			ztFile{name: "Lot 1/", method: zip.Deflate},
			ztFile{name: "Lot 1/empty.txt", method: zip.Deflate},
			ztFile{name: "Lot 1/empty-stored.txt", method: zip.Store, sized: true},
			ztFile{name: "Lot 1/Évaluation – critères.txt", data: ztText(300), method: zip.Deflate}),
		"empty archive":  ztGoZip(t, ""),
		"with a comment": ztGoZip(t, "Tender pack v2", ztFile{name: "a.txt", data: ztText(100), method: zip.Deflate}),
		// A ZIP inside is data: it is not opened, even though unzipping it
		// would break the ratio limit.
		"nested zip not opened": ztGoZip(t, "", ztFile{name: "inner.zip", data: nested, method: zip.Deflate}),
		// Below 1 MiB unpacked the ratio is not applied.
		"small very compressible item": ztGoZip(t, "", ztFile{name: "blank.xml", data: make([]byte, 1<<20), method: zip.Deflate}),
		"ratio just under the limit":   ztGoZip(t, "", ztFile{name: "sheet.xml", data: ztRepetitive(4<<20, 150), method: zip.Deflate}),
		"descriptor without signature": ztArchive{entries: []ztEntry{
			{name: "a.txt", data: ztText(3000), method: zip.Deflate, descriptor: 12},
			{name: "b.txt", data: ztText(10), method: zip.Deflate, descriptor: 12},
		}}.build(t),
		"zip64 descriptor without zip64 extra (as Go writes large files)": ztArchive{entries: []ztEntry{
			{name: "a.txt", data: ztText(3000), method: zip.Deflate, descriptor: 24},
			{name: "b.txt", data: ztText(3000), method: zip.Deflate, descriptor: 20},
		}}.build(t),
		"zip64 throughout": ztArchive{zip64End: true, entries: []ztEntry{
			{name: "a.txt", data: ztText(3000), method: zip.Deflate, zip64: true},
			{name: "b.bin", data: ztNoise(3000), method: zip.Store, zip64: true},
			{name: "c.txt", data: ztText(3000), method: zip.Deflate, zip64: true, descriptor: 24},
		}}.build(t),
		"stored empty item with descriptor": ztArchive{entries: []ztEntry{
			{name: "folder/", method: zip.Store, descriptor: 16},
			{name: "a.txt", data: ztText(10), method: zip.Store},
		}}.build(t),
		"deflated empty item with no data": ztArchive{entries: []ztEntry{
			{name: "empty.txt", method: zip.Deflate, packed: []byte{}},
		}}.build(t),
		"fewer directory records than items": ztArchive{
			entries: []ztEntry{{name: "a.txt", data: ztText(10), method: zip.Store}, {name: "b.txt", data: ztText(10), method: zip.Store}},
			cd:      []ztCD{{entry: 1}},
		}.build(t),
		"trailing junk after the end record": ztArchive{
			entries: []ztEntry{{name: "a.txt", data: ztText(10), method: zip.Store}},
			trailer: bytes.Repeat([]byte{0}, 100),
		}.build(t),
		"word docx":           ztDocxWord(t),
		"word for mac docx":   ztDocxMac(t),
		"docx with thumbnail": ztDocxThumbnail(t),
		"libreoffice docx":    ztDocxLibreOffice(t),
		"excel xlsx":          ztXlsxExcel(t),
		"odt":                 ztODF(t, mimeODT),
		"ods":                 ztODF(t, mimeODS),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if err := ztInspect(t, data, DefaultZipLimits); err != nil {
				t.Fatalf("refused: %v", err)
			}
			// Same answer however the stream arrives.
			if err := InspectZip(iotest.OneByteReader(bytes.NewReader(data)), DefaultZipLimits); err != nil {
				t.Fatalf("refused when read a byte at a time: %v", err)
			}
			if err := InspectZip(iotest.HalfReader(bytes.NewReader(data)), ZipLimits{}); err != nil {
				t.Fatalf("refused when read in halves with zero limits (the defaults): %v", err)
			}
		})
	}
}

// ztRepetitive returns n bytes that deflate at about ratio:1, like a large,
// very regular spreadsheet: enough noise to cost n/ratio packed bytes, then
// zeros (which deflate at about 1,000:1).
func ztRepetitive(n, ratio int) []byte {
	b := make([]byte, n)
	copy(b, ztNoise(n/ratio-n/1030))
	return b
}

func TestInspectZipRefuses(t *testing.T) {
	docx := ztDocxWord(t)
	small := ZipLimits{MaxEntries: 10, MaxUncompressed: 10 << 20, MaxRatio: 200}
	manyFiles := func(n int) []byte {
		var files []ztFile
		for i := range n {
			files = append(files, ztFile{name: "f" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".txt", data: []byte("x"), method: zip.Deflate})
		}
		return ztGoZip(t, "", files...)
	}
	noise := ztNoise(12 << 20)
	cases := []struct {
		name string
		data []byte
		lim  ZipLimits
		want string
	}{
		{"random bytes", ztNoise(5000), DefaultZipLimits, ztDamaged},
		{"empty input", nil, DefaultZipLimits, ztDamaged},
		{"text", []byte("this is not a zip file"), DefaultZipLimits, ztDamaged},
		{"only a signature", []byte("PK\x03\x04"), DefaultZipLimits, ztDamaged},
		{"program in front (self-extractor)", append([]byte("MZ\x90\x00 stub program "), docx...), DefaultZipLimits, ztDamaged},
		{"too many items", manyFiles(11), small, ztTooMany},
		{"too large in total", ztGoZip(t, "", ztFile{name: "zeros", data: make([]byte, 50<<20), method: zip.Deflate}), ZipLimits{MaxUncompressed: 10 << 20, MaxRatio: 100_000}, ztTooLarge + " 10 MiB"},
		{"too large over several items", ztGoZip(t, "",
			ztFile{name: "a", data: noise[:6<<20], method: zip.Deflate},
			ztFile{name: "b", data: noise[6<<20:], method: zip.Deflate}), small, ztTooLarge},
		{"too large stored", ztGoZip(t, "", ztFile{name: "a", data: noise, method: zip.Store, sized: true}), small, ztTooLarge},
		{"high ratio item", ztGoZip(t, "", ztFile{name: "zeros", data: make([]byte, 5<<20), method: zip.Deflate}), DefaultZipLimits, ztRatio},
		{"high ratio item with sizes", ztGoZip(t, "", ztFile{name: "zeros", data: make([]byte, 5<<20), method: zip.Deflate, sized: true}), DefaultZipLimits, ztRatio},
		{"encrypted flag", ztArchive{entries: []ztEntry{{name: "secret.docx", data: ztNoise(100), method: zip.Store, flags: 1}}}.build(t), DefaultZipLimits, ztEncrypted},
		{"encrypted flag from archive/zip", ztGoZip(t, "", ztFile{name: "secret.txt", data: ztNoise(100), method: zip.Store, sized: true, flags: 1}), DefaultZipLimits, ztEncrypted},
		{"AES encrypted", ztArchive{entries: []ztEntry{{name: "secret.docx", packed: ztNoise(100), method: 99}}}.build(t), DefaultZipLimits, ztEncrypted},
		{"bzip2", ztArchive{entries: []ztEntry{{name: "a.txt", packed: []byte("BZh91AY&SY"), method: 12}}}.build(t), DefaultZipLimits, ztUnsupported},
		{"deflate64", ztArchive{entries: []ztEntry{{name: "a.txt", packed: ztNoise(100), method: 9}}}.build(t), DefaultZipLimits, ztUnsupported},
		// archive/zip's CreateHeader writes stored items this way: the end
		// of the data cannot be found without the directory.
		{"stored with descriptor", ztGoZip(t, "", ztFile{name: "a.txt", data: ztText(100), method: zip.Store}), DefaultZipLimits, ztUnsupported},
		{"corrupt deflate data", ztArchive{entries: []ztEntry{{name: "a.txt", data: ztText(100), method: zip.Deflate, packed: ztNoise(100)}}}.build(t), DefaultZipLimits, ztDamaged},
		{"wrong checksum", func() []byte {
			d := ztGoZip(t, "", ztFile{name: "a.txt", data: ztText(100), method: zip.Store, sized: true})
			d[30+len("a.txt")] ^= 1 // first data byte
			return d
		}(), DefaultZipLimits, ztDamaged},
		{"size lies in local header", func() []byte {
			d := ztGoZip(t, "", ztFile{name: "a.txt", data: ztText(100), method: zip.Deflate, sized: true})
			binary.LittleEndian.PutUint32(d[22:], 50) // uncompressed size
			return d
		}(), DefaultZipLimits, ztDamaged},
		// The "overlapping files" bomb: the directory lists one item's
		// data many times.
		{"directory lists an item twice", ztArchive{
			entries: []ztEntry{{name: "kernel", data: ztText(100000), method: zip.Deflate}},
			cd:      []ztCD{{entry: 0}, {entry: 0}, {entry: 0}},
		}.build(t), DefaultZipLimits, ztDamaged},
		{"directory points inside an item", ztArchive{
			entries: []ztEntry{{name: "a", data: ztText(1000), method: zip.Store}, {name: "b", data: ztText(1000), method: zip.Store}},
			cd:      []ztCD{{entry: 0}, {entry: 1, offsetDelta: -500}},
		}.build(t), DefaultZipLimits, ztDamaged},
		{"directory size differs", ztArchive{
			entries: []ztEntry{{name: "a", data: ztText(1000), method: zip.Deflate}},
			cd:      []ztCD{{entry: 0, usizeDelta: 1 << 30}},
		}.build(t), DefaultZipLimits, ztDamaged},
		{"directory lists an item never seen", ztArchive{
			entries: []ztEntry{{name: "a", data: ztText(1000), method: zip.Store}},
			cd:      []ztCD{{entry: 0}, {entry: 0, offsetDelta: 5000}},
		}.build(t), DefaultZipLimits, ztDamaged},
		{"ratio just over the limit", ztGoZip(t, "", ztFile{name: "sheet.xml", data: ztRepetitive(4<<20, 250), method: zip.Deflate}), DefaultZipLimits, ztRatio},
		{"second end record in the comment", ztArchive{
			entries: []ztEntry{{name: "a", data: ztText(100), method: zip.Store}},
			comment: "hello PK\x05\x06 world",
		}.build(t), DefaultZipLimits, ztDamaged},
		{"second end record after the end", ztArchive{
			entries: []ztEntry{{name: "a", data: ztText(100), method: zip.Store}},
			trailer: []byte("xxPPK\x05\x06\x00\x00"),
		}.build(t), DefaultZipLimits, ztDamaged},
		{"zip slip", ztGoZip(t, "", ztFile{name: "../../etc/cron.d/x", data: []byte("x"), method: zip.Deflate}), DefaultZipLimits, ztUnsafe},
		{"zip slip with backslashes", ztGoZip(t, "", ztFile{name: `docs\..\..\x.txt`, data: []byte("x"), method: zip.Deflate}), DefaultZipLimits, ztUnsafe},
		{"absolute name", ztGoZip(t, "", ztFile{name: "/etc/passwd", data: []byte("x"), method: zip.Deflate}), DefaultZipLimits, ztUnsafe},
		{"drive letter", ztGoZip(t, "", ztFile{name: `C:\Windows\x.dll`, data: []byte("x"), method: zip.Deflate}), DefaultZipLimits, ztUnsafe},
		{"symbolic link", ztGoZip(t, "", ztFile{name: "link", data: []byte("/etc/passwd"), method: zip.Deflate, mode: os.ModeSymlink | 0o777}), DefaultZipLimits, ztUnsafe},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ztWantReject(t, ztInspect(t, c.data, c.lim), c.want)
		})
	}
}

func TestInspectZipEntryLimitIsInclusive(t *testing.T) {
	var files []ztFile
	for i := range 10 {
		files = append(files, ztFile{name: string(rune('a'+i)) + ".txt", data: []byte("x"), method: zip.Deflate})
	}
	if err := ztInspect(t, ztGoZip(t, "", files...), ZipLimits{MaxEntries: 10}); err != nil {
		t.Fatalf("10 items with a limit of 10: %v", err)
	}
}

// Every prefix of a valid archive is refused, read to the end, and does
// not panic.
func TestInspectZipTruncated(t *testing.T) {
	full := ztGoZip(t, "comment",
		ztFile{name: "a.txt", data: ztText(3000), method: zip.Deflate},
		ztFile{name: "b.txt", data: ztText(500), method: zip.Store, sized: true},
		ztFile{name: "c.txt", data: ztText(3000), method: zip.Deflate, sized: true})
	if err := ztInspect(t, full, DefaultZipLimits); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(full); n++ {
		err := ztInspect(t, full[:n], DefaultZipLimits)
		var re *RejectError
		if !errors.As(err, &re) || re.Message != zipDamaged().Error() {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
	}
}

// Random damage to a real archive never panics and the input is always
// read to the end.
func TestInspectZipCorrupted(t *testing.T) {
	full := ztDocxWord(t)
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		d := bytes.Clone(full)
		for range 1 + r.IntN(4) {
			d[r.IntN(len(d))] = byte(r.Uint32())
		}
		_ = ztInspect(t, d, DefaultZipLimits)
	}
}

func TestInspectZipMessages(t *testing.T) {
	err := ztInspect(t, ztGoZip(t, "", ztFile{name: "zeros", data: make([]byte, 5<<20), method: zip.Deflate}), DefaultZipLimits)
	ztWantReject(t, err, "The file contains an item that expands to more than 200 times its packed size")
	var files []ztFile
	for i := range 3 {
		files = append(files, ztFile{name: string(rune('a'+i)) + ".txt", data: []byte("x"), method: zip.Deflate})
	}
	ztWantReject(t, ztInspect(t, ztGoZip(t, "", files...), ZipLimits{MaxEntries: 2}), "The file contains more than 2 items")
	if got := zipSize(2 << 30); got != "2 GiB" {
		t.Errorf("zipSize(2 GiB) = %q", got)
	}
	if got := zipCount(10_000); got != "10,000" {
		t.Errorf("zipCount(10000) = %q", got)
	}
	// Each refusal is a fresh value: a caller adding the file name to one
	// does not change the next.
	a, b := zipDamaged().(*RejectError), zipDamaged().(*RejectError)
	a.Message = "changed"
	if b.Message == "changed" {
		t.Error("refusals share their message")
	}
}

func TestInspectZipSourceErrorIsNotARefusal(t *testing.T) {
	data := ztDocxWord(t)
	cause := errors.New("connection reset")
	err := InspectZip(&failingReader{r: bytes.NewReader(data), n: len(data) / 2, err: cause}, DefaultZipLimits)
	var re *RejectError
	if errors.As(err, &re) || !errors.Is(err, cause) {
		t.Fatalf("got %v, want the source error and no refusal", err)
	}
}

// ztBomb streams a ZIP holding one item of size bytes of zeros, made
// without compressing them: a deflate stream of zeros is one compressed
// chunk repeated, so the test needs little memory and time.
func ztBomb(t testing.TB, size int64) io.Reader {
	t.Helper()
	const chunk = 1 << 20
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestCompression)
	_, _ = fw.Write(make([]byte, chunk))
	_ = fw.Flush() // a non-final block, so copies can follow each other
	block := bytes.Clone(c.Bytes())
	final := []byte{0x03, 0x00} // empty final block
	if size%chunk != 0 {
		t.Fatal("size must be whole MiB")
	}
	n := size / chunk
	var crc uint32
	zero := make([]byte, chunk)
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, zero)
	}
	packed := n*int64(len(block)) + int64(len(final))

	var head, tail bytes.Buffer
	le := func(b *bytes.Buffer, v any) { _ = binary.Write(b, binary.LittleEndian, v) }
	le(&head, uint32(zipLocalSig))
	le(&head, []uint16{45, 8, zip.Deflate, 0, 0})
	le(&head, []uint32{0, 0, 0})
	le(&head, []uint16{5, 0})
	head.WriteString("bomb!")
	le(&tail, uint32(zipDescriptorSig))
	le(&tail, crc)
	le(&tail, []uint64{uint64(packed), uint64(size)})
	// (The directory is omitted: InspectZip refuses before reaching it.)
	return io.MultiReader(&head, &ztRepeatReader{block: block, n: n}, bytes.NewReader(final), &tail)
}

type ztRepeatReader struct {
	block []byte
	n     int64
	off   int
}

func (r *ztRepeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.block[r.off:])
	r.off += k
	if r.off == len(r.block) {
		r.off = 0
		r.n--
	}
	return k, nil
}

// A 3 GiB bomb is refused by the ratio rule after a few MiB, through a tee
// as the upload pipeline uses it, without the writer ever blocking and with
// the inspection's memory staying small.
func TestInspectZipBombThroughTee(t *testing.T) {
	for _, lim := range []ZipLimits{DefaultZipLimits, {MaxRatio: 1_000_000}} {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)

		pr, pw := io.Pipe()
		stored := &ztCountingReader{r: io.TeeReader(ztBomb(t, 3<<30), pw)}
		copied := make(chan int64)
		go func() {
			n, err := io.Copy(io.Discard, stored) // the encrypting store
			pw.CloseWithError(err)
			copied <- n
		}()
		result := make(chan error)
		go func() { result <- InspectZip(pr, lim) }()
		var err error
		select {
		case err = <-result:
		case <-time.After(2 * time.Minute):
			t.Fatal("InspectZip did not finish")
		}
		n := <-copied

		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if lim.MaxRatio == DefaultZipLimits.MaxRatio {
			ztWantReject(t, err, ztRatio)
		} else {
			ztWantReject(t, err, ztTooLarge+" 2 GiB")
		}
		if n == 0 || !stored.eof {
			t.Fatalf("the store did not get the whole upload (%d bytes)", n)
		}
		if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
			t.Errorf("heap grew by %d bytes", grew)
		}
	}
}

// The pipeline's shape with an ordinary archive: everything reaches the
// store and the archive is accepted.
func TestInspectZipTeeAccepts(t *testing.T) {
	data := ztDocxWord(t)
	pr, pw := io.Pipe()
	var store bytes.Buffer
	go func() {
		_, err := io.Copy(&store, io.TeeReader(bytes.NewReader(data), pw))
		pw.CloseWithError(err)
	}()
	if err := InspectZip(pr, DefaultZipLimits); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(store.Bytes(), data) {
		t.Fatal("store got different bytes")
	}
}

func FuzzInspectZip(f *testing.F) {
	f.Add(ztGoZip(f, "c", ztFile{name: "a.txt", data: ztText(200), method: zip.Deflate}))
	f.Add(ztGoZip(f, "", ztFile{name: "a.txt", data: ztText(200), method: zip.Deflate, sized: true},
		ztFile{name: "b/", method: zip.Store}, ztFile{name: "b/c", data: []byte("c"), method: zip.Store, sized: true}))
	f.Add(ztArchive{zip64End: true, entries: []ztEntry{
		{name: "a", data: ztText(100), method: zip.Deflate, zip64: true},
		{name: "b", data: ztText(100), method: zip.Deflate, descriptor: 12},
	}}.build(f))
	f.Add(ztArchive{entries: []ztEntry{{name: "a", data: ztText(100), method: zip.Deflate, descriptor: 24}}, comment: "x"}.build(f))
	f.Add(ztGoZip(f, ""))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	small := ZipLimits{MaxEntries: 50, MaxUncompressed: 4 << 20, MaxRatio: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &ztCountingReader{r: bytes.NewReader(data)}
		err := InspectZip(c, small)
		if c.n != int64(len(data)) || !c.eof {
			t.Fatalf("read %d of %d bytes", c.n, len(data))
		}
		var re *RejectError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("not a refusal: %v", err)
		}
		if err == nil {
			// Whatever InspectZip accepts, archive/zip (which follows the
			// central directory) reads within the same limits.
			zr, zerr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if zerr != nil {
				return // archive/zip is stricter about some headers
			}
			var total int64
			for _, zf := range zr.File {
				rc, err := zf.Open()
				if err != nil {
					continue
				}
				n, _ := io.Copy(io.Discard, io.LimitReader(rc, small.MaxUncompressed+1))
				rc.Close()
				total += n
			}
			if total > small.MaxUncompressed || len(zr.File) > small.MaxEntries {
				t.Fatalf("accepted, but archive/zip unpacks %d bytes in %d items", total, len(zr.File))
			}
		}
	})
}

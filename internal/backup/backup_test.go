package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nhsprocure/portal/internal/backup"
	"github.com/nhsprocure/portal/internal/backup/backuptest"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/domaintest"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// portal is a source portal with real procurements: a live framework with
// two sealed applications, a published competition with two sealed bids
// and their receipts, and an encrypted document.
type portal struct {
	url      string
	db       *store.DB
	x        *domaintest.Live
	c        *competition.Competition
	receipts map[string]sealed.Receipt // by supplier organisation
	doc      *documents.Document
	docText  string
	docsDir  string
}

func newPortal(t *testing.T, kind store.Kind) *portal {
	t.Helper()
	p := &portal{url: backuptest.DatabaseURL(t, kind), receipts: map[string]sealed.Receipt{}}
	p.db = backuptest.Open(t, p.url)
	if _, err := p.db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.x = domaintest.LiveFramework(t, p.db)
	p.c = p.x.Published(t, domaintest.CompetitionInput("SWL-EPR-2027-01"))
	p.receipts[p.x.Sarah.OrgID] = p.x.Bid(t, p.c, p.x.Sarah, 1250)
	p.receipts[p.x.James.OrgID] = p.x.Bid(t, p.c, p.x.James, 1175)
	p.docText = "Specification of requirements for South West London, issue 3\n"
	doc, err := p.x.Docs.Put(context.Background(), p.x.Aisha, documents.Upload{
		OrganisationID: p.x.RJ7, Name: "specification.txt", Body: strings.NewReader(p.docText),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.doc = doc
	p.docsDir = p.x.Docs.Store.(*documents.Local).Root
	return p
}

// restored is a portal brought back from a backup.
type restored struct {
	db      *store.DB
	docsDir string
	docs    *documents.Service
}

func restore(t *testing.T, p *portal, kind store.Kind, dir string) (*restored, *backup.Manifest) {
	t.Helper()
	r := &restored{docsDir: filepath.Join(t.TempDir(), "documents")}
	url := backuptest.DatabaseURL(t, kind)
	m, err := backup.Restore(context.Background(), dir, backup.Target{DatabaseURL: url, DocumentsDir: r.docsDir})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	r.db = backuptest.Open(t, url)
	local, err := documents.NewLocal(r.docsDir)
	if err != nil {
		t.Fatal(err)
	}
	r.docs = &documents.Service{DB: r.db, Audit: p.x.Log, Clock: p.x.Clock, Keys: p.x.Docs.Keys, Store: local, Limits: p.x.Docs.Limits}
	return r, m
}

func check(t *testing.T, r *restored, m *backup.Manifest) *backup.Report {
	t.Helper()
	rep, err := backup.Check(context.Background(), r.db, r.docs)
	if err != nil {
		t.Fatal(err)
	}
	if m != nil {
		rep.Compare(m)
	}
	return rep
}

// TestBackupAndRestore backs up a portal with real procurements, restores it
// into an empty database and an empty documents folder, and finds every row
// of every table unchanged, the audit chain verifying, every receipt
// intact and the sealed bids and document decrypting with the same master
// key. Tampering with the restored data makes the check fail.
func TestBackupAndRestore(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			p := newPortal(t, kind)
			dir := filepath.Join(t.TempDir(), "backup-2027-02-15")
			m, err := backup.Create(ctx, backup.Source{DB: p.db, DatabaseURL: p.url, DocumentsDir: p.docsDir}, dir, p.x.Clock.Now())
			if err != nil {
				t.Fatalf("backup: %v", err)
			}
			if m.Documents.Bytes == 0 || len(m.Documents.Files) != 1 || m.Tables["audit_entries"] != m.Audit.Entries || m.Audit.Entries == 0 {
				t.Fatalf("manifest %+v: want one document file and the audit chain's end", m)
			}
			if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
				t.Fatal("the master key was copied into the backup")
			}

			r, rm := restore(t, p, kind, dir)
			if !reflect.DeepEqual(rm, mustManifest(t, dir)) {
				t.Fatal("Restore returned another manifest than the backup's")
			}
			rep := check(t, r, m)
			if !rep.OK() {
				t.Fatalf("check after restore: %v", rep.Problems)
			}
			// Two framework applications and two bids.
			if rep.Documents != 1 || rep.SealedVersions != 4 || rep.Audit != m.Audit {
				t.Fatalf("checked %d documents, %d sealed versions, audit %+v; want 1, 4, %+v", rep.Documents, rep.SealedVersions, rep.Audit, m.Audit)
			}

			// Row by row, every table is what it was.
			for table, n := range m.Tables {
				want, got := rows(t, p.db, table), rows(t, r.db, table)
				if int64(len(want)) != n || !reflect.DeepEqual(want, got) {
					t.Errorf("table %s: %d rows restored, %d backed up; restored rows differ: %v", table, len(got), len(want), !reflect.DeepEqual(want, got))
				}
			}
			for _, table := range []string{"frameworks", "competitions", "sealed_versions", "audit_entries", "documents"} {
				if m.Tables[table] == 0 {
					t.Errorf("table %s is empty, so the comparison proves nothing about it", table)
				}
			}

			// Each supplier's receipt reads back the same: number, time, SHA-256.
			rs := &sealed.Service{DB: r.db, Audit: p.x.Log, Clock: clock.NewManual(p.c.SubmissionDeadline), Keys: p.x.Docs.Keys}
			box := competition.BidBox(p.c)
			for org, want := range p.receipts {
				got, err := rs.Receipts(ctx, box, org)
				if err != nil || len(got) != 1 || got[0] != want {
					t.Errorf("receipts of %s after restore: %+v (err %v); want [%+v]", org, got, err, want)
				}
			}

			// The restored bids still open with the same master key, and
			// read as the originals do.
			orig := &sealed.Service{DB: p.db, Audit: p.x.Log, Clock: clock.NewManual(p.c.SubmissionDeadline), Keys: p.x.Docs.Keys}
			want, err := orig.Open(ctx, p.x.Aisha, box)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rs.Open(ctx, p.x.Aisha, box)
			if err != nil || len(got) != 2 || !reflect.DeepEqual(got, want) {
				t.Fatalf("opened after restore: %d bids (err %v); want the original %d", len(got), err, len(want))
			}
			for _, o := range got {
				if o.SHA256 != p.receipts[o.SupplierOrgID].SHA256 || !bytes.Contains(o.Content, []byte("answers")) {
					t.Errorf("opened bid of %s does not match its receipt", o.SupplierOrgID)
				}
			}
			doc, err := r.docs.Get(ctx, p.doc.ID)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := r.docs.Open(ctx, p.x.Aisha, doc)
			if err != nil {
				t.Fatalf("open restored document: %v", err)
			}
			text, _ := io.ReadAll(rc)
			rc.Close()
			if string(text) != p.docText {
				t.Fatalf("restored document reads %q, want %q", text, p.docText)
			}

			// Opening added audit entries: the chain still verifies, but
			// the restore no longer matches the backup.
			rep = check(t, r, m)
			if !hasProblem(rep, "audit chain ends at entry") || !hasProblem(rep, "table audit_entries has") {
				t.Errorf("check against the manifest after new entries: %v", rep.Problems)
			}
			if rep = check(t, r, nil); !rep.OK() {
				t.Errorf("check without the manifest: %v", rep.Problems)
			}

			t.Run("tampering is found", func(t *testing.T) {
				tamperings(t, p, r)
			})
			t.Run("restore over existing data is refused", func(t *testing.T) {
				before := rows(t, p.db, "audit_entries")
				err := restoreErr(t, dir, p.url, filepath.Join(t.TempDir(), "docs"))
				if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "already has") {
					t.Fatalf("restore into the portal's own database: %v; want it refused as not empty", err)
				}
				if !reflect.DeepEqual(rows(t, p.db, "audit_entries"), before) {
					t.Fatal("the refused restore changed the database")
				}
				err = restoreErr(t, dir, backuptest.DatabaseURL(t, kind), r.docsDir)
				if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "documents folder") {
					t.Fatalf("restore into a documents folder with files: %v; want it refused as not empty", err)
				}
			})
			t.Run("a damaged backup is refused", func(t *testing.T) {
				file := filepath.Join(dir, backup.DocumentsDir, filepath.FromSlash(m.Documents.Files[0].Path))
				flipLastByte(t, file)
				defer flipLastByte(t, file)
				target := backuptest.DatabaseURL(t, kind)
				err := restoreErr(t, dir, target, filepath.Join(t.TempDir(), "docs"))
				if err == nil || !strings.Contains(err.Error(), "has changed") {
					t.Fatalf("restore of a damaged backup: %v; want the changed file named", err)
				}
				if n := len(tableNames(t, backuptest.Open(t, target))); n != 0 {
					t.Fatalf("a refused restore left %d tables behind", n)
				}
			})
		})
	}
}

// tamperings changes restored data in the ways that matter, one at a
// time, and expects Check to name each; undoing it makes the check pass.
func tamperings(t *testing.T, p *portal, r *restored) {
	ctx := context.Background()
	var first struct {
		Seq        int64
		ActorLabel string
	}
	if err := r.db.Raw("SELECT seq, actor_label FROM audit_entries ORDER BY seq LIMIT 1").Scan(&first).Error; err != nil {
		t.Fatal(err)
	}
	var v struct {
		ID         string
		ReceivedAt time.Time
		SHA256     string `gorm:"column:sha256"`
	}
	if err := r.db.Raw("SELECT id, received_at, sha256 FROM sealed_versions ORDER BY id LIMIT 1").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	object := filepath.Join(r.docsDir, "objects", p.doc.StorageKey[:2], p.doc.StorageKey)
	wrongKeys, err := documents.NewKeyring(bytes.Repeat([]byte{7}, documents.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) func() {
		return func() {
			if err := r.db.Exec(sql, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name     string
		tamper   func()
		undo     func()
		problems []string
	}{
		{"an audit row changed", exec("UPDATE audit_entries SET actor_label = ? WHERE seq = ?", "Someone else", first.Seq),
			exec("UPDATE audit_entries SET actor_label = ? WHERE seq = ?", first.ActorLabel, first.Seq),
			[]string{fmt.Sprintf("audit chain is broken after 0 good entries, at entry %d", first.Seq)}},
		{"a receipt's time changed", exec("UPDATE sealed_versions SET received_at = ? WHERE id = ?", v.ReceivedAt.Add(-time.Hour), v.ID),
			exec("UPDATE sealed_versions SET received_at = ? WHERE id = ?", v.ReceivedAt, v.ID),
			[]string{"its time is not the one its audit entry recorded"}},
		{"a receipt's hash changed", exec("UPDATE sealed_versions SET sha256 = ? WHERE id = ?", strings.Repeat("0", 64), v.ID),
			exec("UPDATE sealed_versions SET sha256 = ? WHERE id = ?", v.SHA256, v.ID),
			[]string{"its content does not match the SHA-256 on its receipt", "its SHA-256 is not the one its audit entry recorded"}},
		{"a document file changed", func() { flipLastByte(t, object) }, func() { flipLastByte(t, object) },
			[]string{"document " + p.doc.ID + " (specification.txt): check stored document: stored document failed its integrity check"}},
		{"a document file lost", func() { must(t, os.Rename(object, object+".lost")) }, func() { must(t, os.Rename(object+".lost", object)) },
			[]string{"document " + p.doc.ID + " (specification.txt): stored document failed its integrity check: the stored file is missing"}},
		{"another master key", func() { r.docs.Keys = wrongKeys }, func() { r.docs.Keys = p.x.Docs.Keys },
			[]string{"(specification.txt): stored document failed its integrity check: the data key does not unwrap with this master key", "of sealed submission"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tamper()
			rep, err := backup.Check(ctx, r.db, r.docs)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.problems {
				if !hasProblem(rep, want) {
					t.Errorf("problems %q; want one saying %q", rep.Problems, want)
				}
			}
			tc.undo()
			if rep, err := backup.Check(ctx, r.db, r.docs); err != nil || !rep.OK() {
				t.Fatalf("after undoing: %v (err %v)", rep.Problems, err)
			}
		})
	}
}

func restoreErr(t *testing.T, dir, url, docsDir string) error {
	t.Helper()
	_, err := backup.Restore(context.Background(), dir, backup.Target{DatabaseURL: url, DocumentsDir: docsDir})
	return err
}

func mustManifest(t *testing.T, dir string) *backup.Manifest {
	t.Helper()
	m, err := backup.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hasProblem(r *backup.Report, part string) bool {
	for _, p := range r.Problems {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

func flipLastByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	must(t, os.WriteFile(path, b, 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tableNames(t *testing.T, db *store.DB) []string {
	t.Helper()
	names, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// rows reads every row of table as text, one string per row with its
// columns named, sorted, so two databases can be compared row by row
// whatever order they return rows in.
func rows(t *testing.T, db *store.DB, table string) []string {
	t.Helper()
	rs, err := db.Table(table).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(&b, "%s=%v;", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestBackupNeedsPgDump: without pg_dump on PATH a PostgreSQL backup says
// what to install instead of failing obscurely.
func TestBackupNeedsPgDump(t *testing.T) {
	url := backuptest.DatabaseURL(t, store.Postgres)
	db := backuptest.Open(t, url)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err := backup.Create(context.Background(), backup.Source{DB: db, DatabaseURL: url, DocumentsDir: t.TempDir()}, filepath.Join(t.TempDir(), "b"), domaintest.T0)
	if err == nil || !strings.Contains(err.Error(), "pg_dump is not installed") || !strings.Contains(err.Error(), "postgresql-client") {
		t.Fatalf("backup without pg_dump: %v; want it to say what to install", err)
	}
}

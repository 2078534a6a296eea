package catalogue_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/catalogue"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
	"github.com/nhsprocure/portal/internal/validate"
)

func scored(ref, text string) catalogue.RequirementInput {
	return catalogue.RequirementInput{
		Reference: ref, Text: text, Priority: "Must", Weight: "10", ResponseType: "Scored (0-4)",
		Descriptors: [5]string{"No response", "Poor", "Partly meets", "Meets", "Exceeds"},
		Guidance:    "Look for evidence of live use in an acute trust.",
	}
}

func TestCatalogueBelongsToAConsortium(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		var trust struct{ ID string }
		db.Table("organisations").Select("id").Where("ods_code = ?", "RJ7").Scan(&trust)
		_, err := s.CreateCatalogue(ctx, lead, trust.ID, "EPR", "")
		if v, ok := validate.As(err); !ok || !v.Has("consortiumId") {
			t.Fatalf("catalogue for a trust: err = %v, want a consortiumId error", err)
		}
		_, err = s.CreateCatalogue(ctx, lead, london, "  ", "")
		if v, ok := validate.As(err); !ok || !v.Has("title") {
			t.Fatalf("blank title: err = %v", err)
		}
		c := newCatalogue(t, s, london, "Electronic patient record")
		list, err := s.Catalogues(ctx, london)
		if err != nil || len(list) != 1 || list[0].ID != c.ID || list[0].CurrentVersion != 0 {
			t.Fatalf("Catalogues = %+v, %v", list, err)
		}
		if err := s.UpdateCatalogue(ctx, lead, c.ID, catalogue.CatalogueInput{Title: "EPR 2027", Version: c.Version}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateCatalogue(ctx, lead, c.ID, catalogue.CatalogueInput{Title: "EPR 2028", Version: c.Version}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale edit: err = %v, want ErrConflict", err)
		}
		if _, err := s.Catalogue(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing catalogue: err = %v", err)
		}
	})
}

func TestRequirementRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		med, err := s.AddSection(ctx, lead, c.ID, "Medicines")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSection(ctx, lead, c.ID, "  medicines "); !hasField(err, "title") {
			t.Fatalf("duplicate section title: err = %v", err)
		}

		bad := catalogue.RequirementInput{
			SectionID: "nope", Reference: "epr med 12", Text: " ", Priority: "Nice to have", Weight: "ten",
			ResponseType: "Essay", Guidance: "",
		}
		_, err = s.SaveRequirement(ctx, lead, c.ID, bad)
		v, ok := validate.As(err)
		if !ok {
			t.Fatalf("err = %v, want field errors", err)
		}
		var fields []string
		for _, f := range v.List {
			fields = append(fields, f.Field)
		}
		want := []string{"sectionId", "reference", "text", "priority", "weight", "responseType"}
		if !slices.Equal(fields, want) {
			t.Fatalf("fields = %v, want %v (%v)", fields, want, v)
		}
		if got := v.For("priority"); got != `Priority "Nice to have" is not one of Must, Should, Could or Won't` {
			t.Errorf("priority message = %q", got)
		}

		in := scored("EPR-MED-001", "The system must support electronic prescribing and medicines administration (ePMA).")
		in.SectionID = med.ID
		in.Descriptors[3] = " "
		in.Weight = "150"
		_, err = s.SaveRequirement(ctx, lead, c.ID, in)
		if v, _ := validate.As(err); v == nil || v.For("descriptor3") == "" || v.For("weight") != "Weight must be from 0 to 100, not 150" {
			t.Fatalf("scored without mark 3 and weight 150: err = %v", err)
		}

		in = scored("epr-med-001", "The system must support electronic prescribing and medicines administration (ePMA).")
		in.SectionID = med.ID
		in.Priority = "must have"
		r, err := s.SaveRequirement(ctx, lead, c.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reference != "EPR-MED-001" || r.Priority != catalogue.Must || r.ResponseType != catalogue.Scored || len(r.Descriptors) != 5 || r.Weight != 10 {
			t.Fatalf("saved %+v", r)
		}

		dup := scored("EPR-MED-001", "Another")
		dup.SectionID = med.ID
		if _, err := s.SaveRequirement(ctx, lead, c.ID, dup); !hasField(err, "reference") {
			t.Fatalf("duplicate reference: err = %v", err)
		}

		edit := catalogue.RequirementInput{ID: r.ID, SectionID: med.ID, Reference: "EPR-MED-001", Text: "Closed-loop ePMA", Priority: "won’t", Weight: "0", ResponseType: "pass/fail", Version: r.Version, Descriptors: in.Descriptors}
		r2, err := s.SaveRequirement(ctx, lead, c.ID, edit)
		if err != nil {
			t.Fatal(err)
		}
		if r2.Priority != catalogue.Wont || r2.ResponseType != catalogue.PassFail || len(r2.Descriptors) != 0 || r2.Version != 2 {
			t.Fatalf("edited %+v", r2)
		}
		if _, err := s.SaveRequirement(ctx, lead, c.ID, edit); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale edit: err = %v, want ErrConflict", err)
		}
		got, err := s.Requirement(ctx, c.ID, r.ID)
		if err != nil || got.Text != "Closed-loop ePMA" || got.SectionTitle != "Medicines" || got.Descriptors != nil {
			t.Fatalf("Requirement = %+v, %v", got, err)
		}
		if err := s.DeleteSection(ctx, lead, c.ID, med.ID); !hasField(err, "section") {
			t.Fatalf("delete non-empty section: err = %v", err)
		}
		if err := s.DeleteRequirement(ctx, lead, c.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSection(ctx, lead, c.ID, med.ID); err != nil {
			t.Fatal(err)
		}
		if n, _, err := audit.Verify(ctx, db); err != nil || n == 0 {
			t.Fatalf("audit chain: %d entries, %v", n, err)
		}
		var actions []string
		db.Table("audit_entries").Where("object_id = ?", c.ID).Order("seq").Pluck("action", &actions)
		wantActions := []string{"catalogue.create", "catalogue.section.create", "catalogue.requirement.create", "catalogue.requirement.update", "catalogue.requirement.delete", "catalogue.section.delete"}
		if !slices.Equal(actions, wantActions) {
			t.Fatalf("audit actions = %v, want %v", actions, wantActions)
		}
	})
}

func TestRequirementsInReadingOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		pas, _ := s.AddSection(ctx, lead, c.ID, "Patient administration")
		med, _ := s.AddSection(ctx, lead, c.ID, "Medicines")
		for _, x := range []struct{ sec, ref string }{{med.ID, "EPR-MED-002"}, {pas.ID, "EPR-PAS-001"}, {med.ID, "EPR-MED-001"}} {
			in := scored(x.ref, "Requirement "+x.ref)
			in.SectionID = x.sec
			if _, err := s.SaveRequirement(ctx, lead, c.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RenameSection(ctx, lead, c.ID, med.ID, "Medicines management"); err != nil {
			t.Fatal(err)
		}
		reqs, err := s.Requirements(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range reqs {
			got = append(got, r.SectionTitle+"/"+r.Reference)
		}
		want := []string{"Patient administration/EPR-PAS-001", "Medicines management/EPR-MED-002", "Medicines management/EPR-MED-001"}
		if !slices.Equal(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	})
}

func TestPublishedVersionNeverChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, london := setup(t, db)
		c := newCatalogue(t, s, london, "EPR")
		if _, err := s.Publish(ctx, lead, c.ID); !hasField(err, "catalogue") {
			t.Fatalf("publishing an empty catalogue: err = %v", err)
		}
		med, _ := s.AddSection(ctx, lead, c.ID, "Medicines")
		in := scored("EPR-MED-001", "The system must support ePMA.")
		in.SectionID = med.ID
		r, err := s.SaveRequirement(ctx, lead, c.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		v1, err := s.Publish(ctx, lead, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Number != 1 || len(v1.Requirements) != 1 || v1.PublishedByName != "Tom Reilly" {
			t.Fatalf("version 1 = %+v", v1)
		}
		if _, err := s.Publish(ctx, lead, c.ID); !hasField(err, "catalogue") {
			t.Fatalf("publishing without changes: err = %v", err)
		}

		edit := in
		edit.ID, edit.Version, edit.Text, edit.Weight = r.ID, r.Version, "The system must support closed-loop ePMA.", "20"
		if _, err := s.SaveRequirement(ctx, lead, c.ID, edit); err != nil {
			t.Fatal(err)
		}
		extra := scored("EPR-MED-002", "Allergies are checked at prescribing.")
		extra.SectionID = med.ID
		if _, err := s.SaveRequirement(ctx, lead, c.ID, extra); err != nil {
			t.Fatal(err)
		}
		if err := s.RenameSection(ctx, lead, c.ID, med.ID, "Medicines management"); err != nil {
			t.Fatal(err)
		}

		again, err := s.Version(ctx, c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Requirements) != 1 || again.Requirements[0].Text != "The system must support ePMA." || again.Requirements[0].Weight != 10 ||
			again.Requirements[0].SectionTitle != "Medicines" || again.Sections[0].Title != "Medicines" {
			t.Fatalf("version 1 changed after edits: %+v", again)
		}
		v2, err := s.Publish(ctx, lead, c.ID)
		if err != nil || v2.Number != 2 || len(v2.Requirements) != 2 {
			t.Fatalf("version 2 = %+v, %v", v2, err)
		}
		cur, _ := s.Catalogue(ctx, c.ID)
		if cur.CurrentVersion != 2 {
			t.Fatalf("current version = %d", cur.CurrentVersion)
		}
		list, err := s.Versions(ctx, c.ID)
		if err != nil || len(list) != 2 || list[0].Number != 2 || list[1].PublishedAt.IsZero() {
			t.Fatalf("Versions = %+v, %v", list, err)
		}

		copied, err := s.Snapshot(ctx, c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		o := copied[0].Origin()
		if o.CatalogueID != c.ID || o.CatalogueVersion != 1 || o.Reference != "EPR-MED-001" || o.RequirementID != r.ID {
			t.Fatalf("origin = %+v", o)
		}
		if _, err := s.Snapshot(ctx, c.ID, 3); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unpublished version: err = %v", err)
		}
	})
}

func hasField(err error, field string) bool {
	v, ok := validate.As(err)
	return ok && v.Has(field)
}

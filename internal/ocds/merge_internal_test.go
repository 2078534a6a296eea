package ocds

import (
	"encoding/json"
	"testing"
)

// TestCompileMergeRules: later releases override fields; arrays of
// objects with ids merge by id (new items added, existing ones merged
// field by field); other arrays are replaced whole; the compiled release
// has its own id, date and tag.
func TestCompileMergeRules(t *testing.T) {
	n := 2
	list := []Release{
		{OCID: "ocds-x", ID: "ocds-x-tender-1", Date: "2027-01-01T00:00:00Z", Tag: []string{"tender"}, InitiationType: "tender",
			Parties: []Organization{{ID: "A", Name: "Trust A", Roles: []string{"buyer", "procuringEntity"}}},
			Tender:  &Tender{ID: "T", Title: "First", Status: "active", SubmissionMethod: []string{"electronicSubmission"}, TenderPeriod: &Period{StartDate: "s", EndDate: "e1"}}},
		{OCID: "ocds-x", ID: "ocds-x-tenderUpdate-2", Date: "2027-01-02T00:00:00Z", Tag: []string{"tenderUpdate"}, InitiationType: "tender",
			Tender: &Tender{ID: "T", TenderPeriod: &Period{EndDate: "e2"}, SubmissionMethod: []string{"written"}}},
		{OCID: "ocds-x", ID: "ocds-x-award-3", Date: "2027-01-03T00:00:00Z", Tag: []string{"award"}, InitiationType: "tender",
			Parties: []Organization{{ID: "B", Name: "Supplier B", Roles: []string{"supplier"}}, {ID: "A", Name: "Trust A renamed", Roles: []string{"buyer"}}},
			Tender:  &Tender{ID: "T", Status: "complete", NumberOfTenderers: &n},
			Awards:  []Award{{ID: "W", Status: "pending"}}},
		{OCID: "ocds-x", ID: "ocds-x-awardUpdate-4", Date: "2027-01-04T00:00:00Z", Tag: []string{"awardUpdate"}, InitiationType: "tender",
			Awards: []Award{{ID: "W", Status: "active"}, {ID: "V", Status: "pending"}}},
	}
	got, err := compile("ocds-x", list)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"awards":[{"id":"W","status":"active"},{"id":"V","status":"pending"}],"date":"2027-01-04T00:00:00Z","id":"ocds-x-compiled-awardUpdate-4","initiationType":"tender","ocid":"ocds-x",` +
		`"parties":[{"id":"A","name":"Trust A renamed","roles":["buyer"]},{"id":"B","name":"Supplier B","roles":["supplier"]}],"tag":["compiled"],` +
		`"tender":{"id":"T","numberOfTenderers":2,"status":"complete","submissionMethod":["written"],"tenderPeriod":{"endDate":"e2","startDate":"s"},"title":"First"}}`
	if string(b) != want {
		t.Fatalf("compiled\n%s\nwant\n%s", b, want)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(`{"a":{"b":1,"c":2}}`), &m)
	var n2 map[string]any
	_ = json.Unmarshal([]byte(`{"a":{"b":null}}`), &n2)
	if out := mergeObject(m, n2); len(out["a"].(map[string]any)) != 1 {
		t.Fatalf("a null should remove the field: %v", out)
	}
}

package ocds

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/contracts"
	"github.com/nhsprocure/portal/internal/exit"
	"github.com/nhsprocure/portal/internal/uktime"
)

// contractReleases are, for each buying trust's contract: the contract as
// made (its value and term read from the audit entry of its making, since
// the contract row holds only its latest details); an update with its
// current details once anything has changed (each change raises its
// version, which the release ID carries); an update when a signed contract
// starts; and its end, by termination or expiry (extensions included).
// The contract names the national contracts it replaces, as linked in the
// exit tracker, as prior processes.
func (p *Publisher) contractReleases(s *source, ocid string, c competition.Competition, now time.Time) ([]Release, error) {
	var list []contracts.Contract
	if err := s.db.Where("competition_id = ?", c.ID).Order("reference").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read contracts: %w", err)
	}
	var out []Release
	for _, k := range list {
		replaced, err := replacedProcesses(s, k.ID)
		if err != nil {
			return nil, err
		}
		made, err := asMade(s, k)
		if err != nil {
			return nil, err
		}
		buyer, err := s.org(k.OrganisationID)
		if err != nil {
			return nil, err
		}
		// OCDS 1.1 has no buyer on a contract: its title and description
		// say whose it is.
		made.Title = k.Reference + " " + k.Title
		made.Description = "The contract of " + buyer.Name + " (" + partyID(buyer) + ") with the winning supplier"
		first := release(ocid, tagContract, k.ID, k.CreatedAt)
		first.Contracts = []Contract{made}
		out = append(out, first)
		last := &out[len(out)-1]
		if k.Version > 1 {
			u := release(ocid, tagContractUpdate, fmt.Sprintf("%s-v%d", k.ID, k.Version), k.UpdatedAt)
			cur := current(k, k.UpdatedAt)
			u.Contracts = []Contract{cur}
			out = append(out, u)
			last = &out[len(out)-1]
		}
		last.Contracts[0].RelatedProcesses = replaced
		ends := k.Expires()
		if k.Status == contracts.StatusTerminated && k.TerminatedAt != nil {
			ends = *k.TerminatedAt
		}
		if k.SignedAt != nil && !now.Before(k.StartDate) && k.UpdatedAt.Before(k.StartDate) && k.StartDate.Before(ends) {
			u := release(ocid, tagContractUpdate, k.ID+"-active", k.StartDate)
			u.Contracts = []Contract{{ID: k.ID, AwardID: c.ID, Status: "active"}}
			out = append(out, u)
		}
		if !now.Before(ends) {
			u := release(ocid, tagContractEnd, k.ID+"-"+suffix(ends), ends)
			u.Contracts = []Contract{{ID: k.ID, AwardID: c.ID, Status: "terminated"}}
			out = append(out, u)
		}
	}
	return out, nil
}

// current is the contract's details now, with its state at the moment at:
// its term to the end of its last day (extensions exercised), and how far
// the extensions it allows could take it.
func current(k contracts.Contract, at time.Time) Contract {
	most := k
	most.ExtendedMonths = k.MaxExtensionMonths
	out := Contract{
		ID: k.ID, AwardID: k.CompetitionID, Status: ocdsStatus(k.State(at)), Value: pounds(k.ValuePence),
		Period: &Period{StartDate: stamp(k.StartDate), EndDate: stamp(k.Expires()), MaxExtentDate: stamp(most.Expires())},
	}
	if k.SignedAt != nil {
		out.DateSigned = stamp(*k.SignedAt)
	}
	return out
}

// ocdsStatus is the contract state as the contractStatus codelist has it:
// an expired contract has concluded, which OCDS calls terminated.
func ocdsStatus(state string) string {
	switch state {
	case contracts.StateActive:
		return "active"
	case contracts.StateExpired, contracts.StateTerminated:
		return "terminated"
	}
	return "pending"
}

// asMade is the contract as it was made: pending, with the value and term
// its making recorded.
func asMade(s *source, k contracts.Contract) (Contract, error) {
	made := k
	made.SignedAt, made.ExtendedMonths, made.Status = nil, 0, contracts.StatusPending
	if k.Version > 1 {
		var details []string
		if err := s.db.Table("audit_entries").Where("action = ? AND object_id = ? AND outcome = ?", "contract.create", k.ID, "success").
			Order("seq").Limit(1).Pluck("detail", &details).Error; err != nil {
			return Contract{}, fmt.Errorf("read the contract as made: %w", err)
		}
		if len(details) == 1 {
			var d struct {
				ValuePence *int64 `json:"value_pence"`
				Start      string `json:"start"`
				End        string `json:"end"`
			}
			if err := json.Unmarshal([]byte(details[0]), &d); err != nil {
				return Contract{}, fmt.Errorf("read the contract as made: %w", err)
			}
			if d.ValuePence != nil {
				made.ValuePence = *d.ValuePence
			}
			if t, err := time.ParseInLocation("2006-01-02", d.Start, uktime.Location); err == nil {
				made.StartDate = t.UTC()
			}
			if t, err := time.ParseInLocation("2006-01-02", d.End, uktime.Location); err == nil {
				made.EndDate = t.UTC()
			}
		}
	}
	out := current(made, made.CreatedAt)
	out.Status = "pending"
	return out, nil
}

// replacedProcesses are the national contracts whose deployments the exit
// tracker links to the contract. The relatedProcess codelist's "prior"
// ("the renewal or replacement of the related prior process") is the one
// that says this contract replaces them; "replacementProcess" says the
// opposite (that the related process will replace this one).
func replacedProcesses(s *source, contractID string) ([]RelatedProcess, error) {
	var ncs []exit.NationalContract
	if err := s.db.Where("id IN (?)", s.db.Table("deployments").Select("national_contract_id").Where("contract_id = ?", contractID)).
		Order("reference").Find(&ncs).Error; err != nil {
		return nil, fmt.Errorf("read replaced national contracts: %w", err)
	}
	out := make([]RelatedProcess, 0, len(ncs))
	for _, n := range ncs {
		out = append(out, RelatedProcess{
			ID: "national-" + n.Reference, Relationship: []string{"prior"},
			Title:  fmt.Sprintf("National contract %s (%s, %s), ending %s", n.Reference, n.SupplierName, n.AreaName(), uktime.Date(n.ExpiresOn)),
			Scheme: "x_nationalContract", Identifier: n.Reference,
		})
	}
	return out, nil
}

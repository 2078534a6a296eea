package competition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/documents"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Two-key opening (SECURITY.md, "Receiving tenders": four eyes; one person
// twice does not count). After the submission deadline two different
// keyholders each turn a key (OpenBids); the second key opens the sealed
// box and records each bid in competition_bids.
//
// Keyholders are the trust leads of the lead trust and the members of the
// evaluation panel who are still evaluators at a buying trust or the
// consortium (OnPanel), any two different ones of them: the lead trust
// answers for the competition, and the panel it chose is the only other
// group that will read the bids, so a trust with a single procurement lead
// can still open with a second pair of eyes while nobody else (another
// buying trust's lead, an administrator) can. Whether each key still counts
// is decided when the keys are counted: a person who has lost the role or
// left the panel since turning a key no longer makes up the pair. The same
// people, and only they, may then list the opened bids and read them
// (OpenedBids, BidContent). Every key, opening, read and refusal is
// audited, with ids, numbers and hashes only.

// Statuses of an opened bid.
const (
	// BidOpened: opened and to be evaluated.
	BidOpened = "opened"
	// BidExcluded: the supplier could no longer bid at the opening, so its
	// bid is not evaluated and its content is never returned.
	BidExcluded = "excluded"
)

// Bid is a supplier's bid as recorded at the opening. It pins the sealed
// version that was opened (number and SHA-256); the content itself stays in
// the sealed box and is read with BidContent.
type Bid struct {
	ID            string
	CompetitionID string
	SupplierOrgID string
	Supplier      orgs.Organisation `gorm:"foreignKey:SupplierOrgID"`
	SubmissionID  string
	VersionNumber int
	SHA256        string `gorm:"column:sha256"`
	ReceivedAt    time.Time
	Status        string
	// ExcludedReason says why an excluded bid was not opened, in the words
	// its supplier was told.
	ExcludedReason string
	OpenedAt       time.Time
	OpenedBy       string
}

// TableName tells GORM where opened bids live.
func (Bid) TableName() string { return "competition_bids" }

func (b *Bid) utc() {
	b.ReceivedAt, b.OpenedAt = b.ReceivedAt.UTC(), b.OpenedAt.UTC()
}

// BidOpening is what turning an opening key achieved.
type BidOpening struct {
	// Keys are the keys that count so far, oldest first.
	Keys []framework.OpeningKey
	// Opened is true when this key was the second and the bids were
	// opened; Bids is then how many were opened for evaluation and
	// Excluded how many were not, because their supplier could no longer
	// bid.
	Opened   bool
	Bids     int
	Excluded int
}

// Errors callers can test for with errors.Is.
var (
	// ErrNotOpened: the bids have not been opened by two keyholders yet,
	// so there is nothing to list or read.
	ErrNotOpened = errors.New("the bids have not been opened yet")
	// ErrExcluded: the bid was excluded at the opening and is never read.
	ErrExcluded = errors.New("the bid was excluded at the opening, so it is not read")
)

func openingScope(competitionID string) string { return "competition:" + competitionID }

// errSameKeyholder is a keyholder turning a second key while the other is
// still missing.
var errSameKeyholder = errors.New("the same person turned a second key")

// keyholder reports whether userID may turn a key, list and read the bids:
// a trust lead of the lead trust, or a panel member still entitled to sit
// on it.
func keyholder(db *gorm.DB, c *Competition, userID string) (bool, error) {
	ok, err := hasRole(db, userID, c.LeadOrgID, authz.TrustLead)
	if err != nil || ok {
		return ok, err
	}
	members, err := panel(db, c)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(members, func(m PanelMember) bool { return m.UserID == userID && m.OrganisationID != "" }), nil
}

// openingKeys lists the keys that count: those turned by people who are
// still keyholders.
func openingKeys(db *gorm.DB, c *Competition) ([]framework.OpeningKey, error) {
	keys, err := sealed.Keys(db, openingScope(c.ID))
	if err != nil {
		return nil, err
	}
	out := make([]framework.OpeningKey, 0, len(keys))
	for _, k := range keys {
		ok, err := keyholder(db, c, k.UserID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var name string
		if err := db.Table("users").Select("name").Where("id = ?", k.UserID).Scan(&name).Error; err != nil {
			return nil, fmt.Errorf("read keyholder: %w", err)
		}
		out = append(out, framework.OpeningKey{UserID: k.UserID, Name: name, TurnedAt: k.TurnedAt})
	}
	return out, nil
}

// OpeningKeys lists the opening keys that count so far. The caller shows
// them only to keyholders.
func (s *Service) OpeningKeys(ctx context.Context, competitionID string) ([]framework.OpeningKey, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return nil, err
	}
	return openingKeys(db, c)
}

// beforeDeadline reports whether now is before the submission deadline,
// when the bids stay sealed.
func beforeDeadline(c *Competition, now time.Time) bool { return now.Before(c.SubmissionDeadline) }

// openable refuses unless the bids may be opened now: a published
// competition whose submission deadline has passed and whose bids have not
// been opened. Before the deadline the error names it.
func openable(c *Competition, now time.Time) error {
	var v validate.Errors
	switch {
	case c.Status == StatusCancelled:
		v.Add(FieldState, "The competition has been cancelled, so its bids will not be opened")
	case c.Status == StatusDraft:
		v.Add(FieldState, "The competition has not been published, so it has no bids")
	case c.OpenedAt != nil:
		v.Add(FieldState, "The bids have already been opened, at "+uktime.Moment(*c.OpenedAt)+" (UK time)")
	case beforeDeadline(c, now):
		v.Add(FieldSubmissionDeadline, "Bids stay sealed until the submission deadline at "+uktime.Moment(c.SubmissionDeadline)+" (UK time); open them after it")
	}
	return v.Err()
}

// denyEarly audits an attempt to reach the bids before the deadline, or
// before they were opened, and returns err.
func (s *Service) denyEarly(ctx context.Context, actor audit.Actor, action, objectType, objectID string, c *Competition, now time.Time, err error) error {
	reason := "before opening"
	if beforeDeadline(c, now) {
		reason = "before the deadline"
	}
	return s.deny(ctx, actor, action, objectType, objectID, reason, err, map[string]any{
		"competition_id": c.ID, "deadline": c.SubmissionDeadline.Format(time.RFC3339), "attempt": now.Format(time.RFC3339Nano),
	})
}

// OpenBids turns the actor's opening key. The bids are opened only when two
// different keyholders (see the top of this file) have turned theirs after
// the submission deadline; one person twice does not count and is refused
// and audited, as is anyone who is not a keyholder (ErrForbidden) and any
// attempt before the deadline (a field error naming it). Each key is
// audited.
//
// The second key opens the box: sealed.Open decrypts every submitted bid
// and checks it against its receipt's SHA-256 (audited), so a tampered bid
// stops the opening before anything is recorded. Each supplier is then
// checked again: one whose appointment to the lot is no longer current
// (framework.Service.CurrentlyAppointed, suspended or ended, read at the
// opening, which is after the deadline), or that may no longer bid (it
// declined, it never registered interest, it was never invited), is
// recorded as excluded with the reason and its users are told why; its
// content is dropped, never kept or returned. Then one transaction records
// every bid, notifies the excluded, marks the competition opened and writes
// the audit entry (ids, numbers and hashes). If that fails, either
// keyholder may try again.
func (s *Service) OpenBids(ctx context.Context, actor audit.Actor, competitionID string) (BidOpening, error) {
	if s.Sealed == nil || s.Frameworks == nil {
		return BidOpening{}, errors.New("competition: opening bids needs the sealed box and framework services")
	}
	const action = "competition.bids.key"
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return BidOpening{}, err
	}
	if ok, err := keyholder(db, c, actor.UserID); err != nil {
		return BidOpening{}, err
	} else if !ok {
		return BidOpening{}, s.refused(ctx, actor, action, competitionID, ErrForbidden)
	}
	if now := s.now(); c.Status == StatusPublished && c.OpenedAt == nil && beforeDeadline(c, now) {
		return BidOpening{}, s.denyEarly(ctx, actor, action, "competition", c.ID, c, now, openable(c, now))
	}
	if err := openable(c, s.now()); err != nil {
		return BidOpening{}, err
	}
	var keys []framework.OpeningKey
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lock(tx, competitionID)
		if err != nil {
			return err
		}
		if ok, err := keyholder(tx, c, actor.UserID); err != nil {
			return err
		} else if !ok {
			return ErrForbidden
		}
		now := s.now()
		if err := openable(c, now); err != nil {
			return err
		}
		var turned bool
		keys, turned, err = sealed.TurnCountedKey(tx, openingScope(c.ID), actor.UserID, now,
			func(tx *gorm.DB) ([]framework.OpeningKey, error) { return openingKeys(tx, c) })
		switch {
		case errors.Is(err, sealed.ErrSameKeyholder):
			return errSameKeyholder
		case err != nil:
			return err
		case !turned:
			return nil // the second key was turned before: the opening is being tried again
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"keys": len(keys), "needed": sealed.KeysNeeded})
	})
	if errors.Is(err, errSameKeyholder) {
		// One person turning both keys is what the two keys are there to
		// stop: refused and audited.
		var v validate.Errors
		v.Add(FieldState, "You have already turned your key; the bids open when a second person (a trust lead of the lead trust or a member of the evaluation panel) turns theirs")
		return BidOpening{}, s.deny(ctx, actor, action, "competition", competitionID, "the same person turned a second key", v.Err(), nil)
	}
	if err != nil {
		return BidOpening{}, s.refused(ctx, actor, action, competitionID, err)
	}
	if len(keys) < sealed.KeysNeeded {
		return BidOpening{Keys: keys}, nil
	}
	opened, excluded, err := s.openBox(ctx, actor, competitionID)
	if err != nil {
		return BidOpening{Keys: keys}, err
	}
	return BidOpening{Keys: keys, Opened: true, Bids: opened, Excluded: excluded}, nil
}

// exclusion says why a supplier's bid is not opened although it is in the
// box, or "": the supplier was never invited, declined or never registered
// the interest the competition asked for.
func exclusion(c *Competition, inv *Invitee) string {
	switch {
	case inv == nil:
		return "Your organisation was not invited to this competition"
	case inv.Status == InviteeDeclined:
		return "Your organisation declined the invitation to this competition"
	case inv.Status == InviteeInvited && c.ExpressionOfInterest:
		return "Your organisation did not register interest before expressions of interest closed"
	}
	return ""
}

// openBox opens the box and records the bids (see OpenBids, which has
// checked the two keys), returning how many were opened and excluded. One
// opening of the competition runs at a time across every instance
// (sealed.Exclusively): an opener that waited for another is told the bids
// have already been opened, without decrypting them again.
func (s *Service) openBox(ctx context.Context, actor audit.Actor, competitionID string) (opened, excluded int, err error) {
	err = s.Sealed.Exclusively(ctx, openingScope(competitionID), func() error {
		opened, excluded, err = s.openBoxOnce(ctx, actor, competitionID)
		return err
	})
	return opened, excluded, err
}

// openBoxOnce is openBox's work, under its lock.
func (s *Service) openBoxOnce(ctx context.Context, actor audit.Actor, competitionID string) (int, int, error) {
	c, err := s.Competition(ctx, competitionID)
	if err != nil {
		return 0, 0, err
	}
	if err := openable(c, s.now()); err != nil {
		return 0, 0, err
	}
	opened, err := s.Sealed.Open(ctx, actor, BidBox(c))
	if err != nil {
		return 0, 0, fmt.Errorf("open bids: %w", err)
	}
	// Appointments are read on connections of their own, before the
	// transaction (see eligible).
	why := map[string]string{}
	for _, o := range opened {
		ok, reason, err := s.Frameworks.CurrentlyAppointed(ctx, c.LotID, o.SupplierOrgID)
		if err != nil {
			return 0, 0, fmt.Errorf("check appointment of %s: %w", o.SupplierOrgID, err)
		}
		if !ok {
			why[o.SupplierOrgID] = reason
		}
	}
	nOpened, nExcluded := 0, 0
	err = s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lock(tx, competitionID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := openable(c, now); err != nil {
			return err
		}
		keys, err := openingKeys(tx, c)
		if err != nil {
			return err
		}
		if len(keys) < sealed.KeysNeeded {
			var v validate.Errors
			v.Add(FieldState, "Two keyholders must turn their keys before the bids are opened; one of the keys no longer counts")
			return v.Err()
		}
		var recorded []map[string]any
		sent := 0
		for _, o := range opened {
			inv, err := invitation(tx, c.ID, o.SupplierOrgID)
			if errors.Is(err, store.ErrNotFound) {
				inv, err = nil, nil
			}
			if err != nil {
				return err
			}
			reason := why[o.SupplierOrgID]
			if reason == "" {
				reason = exclusion(c, inv)
			}
			b := Bid{
				ID: newID(), CompetitionID: c.ID, SupplierOrgID: o.SupplierOrgID, SubmissionID: o.SubmissionID,
				VersionNumber: o.Number, SHA256: o.SHA256, ReceivedAt: o.ReceivedAt, Status: BidOpened,
				OpenedAt: now, OpenedBy: actor.UserID,
			}
			if reason != "" {
				b.Status, b.ExcludedReason = BidExcluded, reason
			}
			if err := tx.Omit("Supplier").Create(&b).Error; err != nil {
				return fmt.Errorf("record bid: %w", err)
			}
			recorded = append(recorded, map[string]any{"bid_id": b.ID, "supplier_org_id": b.SupplierOrgID, "submission_id": b.SubmissionID,
				"number": b.VersionNumber, "sha256": b.SHA256, "status": b.Status})
			if b.Status == BidOpened {
				nOpened++
				continue
			}
			nExcluded++
			users, err := orgs.UsersWithRole(tx, authz.SupplierUser, o.SupplierOrgID)
			if err != nil {
				return err
			}
			change := "Your organisation's bid was not opened, so it will not be evaluated. " + reason
			if !strings.HasSuffix(change, ".") {
				change += "."
			}
			n, err := s.notifyAll(ctx, tx, users, changeKind, map[string]any{"Procurement": c.Name(), "Change": change}, SupplierPath(c.ID))
			if err != nil {
				return err
			}
			sent += n
		}
		res := tx.Model(&Competition{}).Where("id = ? AND opened_at IS NULL", c.ID).Updates(map[string]any{"opened_at": now, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("mark bids opened: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var v validate.Errors
			v.Add(FieldState, "The bids have already been opened")
			return v.Err()
		}
		keyholders := make([]string, len(keys))
		for i, k := range keys {
			keyholders[i] = k.UserID
		}
		return s.appendAudit(tx, actor, "competition.bids.open", c.ID, map[string]any{
			"opened": nOpened, "excluded": nExcluded, "bids": recorded, "keyholders": keyholders, "notified": sent,
		})
	})
	if err != nil {
		return 0, 0, err
	}
	return nOpened, nExcluded, nil
}

// OpenedBids lists the bids recorded at the opening, opened and excluded,
// by supplier name, for keyholders (ErrForbidden, audited, for anyone
// else). Before the opening there is nothing to list: the attempt is
// refused with ErrNotOpened and audited, as a peek before the deadline.
func (s *Service) OpenedBids(ctx context.Context, actor audit.Actor, competitionID string) ([]Bid, error) {
	db := s.DB.WithContext(ctx)
	c, err := load(db, competitionID)
	if err != nil {
		return nil, err
	}
	if err := s.mayListBids(ctx, db, actor, c); err != nil {
		return nil, err
	}
	return OpenedBidsOf(db, c.ID)
}

// BidListing is a bid recorded at the opening as a list of them shows it:
// what OpenedBids gives of each, with the supplier's name only.
type BidListing struct {
	ID, SupplierOrgID, SupplierName string
	VersionNumber                   int
	SHA256                          string `gorm:"column:sha256"`
	ReceivedAt                      time.Time
	Status, ExcludedReason          string
}

// OpenedBidList is OpenedBids, with the same checks, for the page listing
// the bids of a competition it has just read. The page is read on every
// visit, so it reads only what it shows, with the supplier's name looked
// up row by row through its key (a join let PostgreSQL's generic plan read
// every organisation to find a dozen). For the usual reader, a trust lead
// of the lead trust, one query both checks and lists: its rows are there
// only if they hold the role, and anyone else (a panel member, or a
// competition without bids) is checked as OpenedBids checks them.
func (s *Service) OpenedBidList(ctx context.Context, actor audit.Actor, c *Competition) ([]BidListing, error) {
	db := s.DB.WithContext(ctx)
	if c.OpenedAt != nil && actor.UserID != "" {
		out, err := bidListing(db, c.ID, roleHeld, actor.UserID, c.LeadOrgID, string(authz.TrustLead))
		if err != nil || len(out) > 0 {
			return out, err
		}
	}
	if err := s.mayListBids(ctx, db, actor, c); err != nil {
		return nil, err
	}
	return bidListing(db, c.ID, "")
}

// bidListing lists the competition's opened bids by supplier name, only if
// the SQL condition guard (with its arguments) holds, when one is given.
func bidListing(db *gorm.DB, competitionID, guard string, args ...any) ([]BidListing, error) {
	q := db.Table("competition_bids b").
		Select("b.id, b.supplier_org_id, b.version_number, b.sha256, b.received_at, b.status, b.excluded_reason, "+
			"(SELECT o.name FROM organisations o WHERE o.id = b.supplier_org_id) AS supplier_name").
		Where("b.competition_id = ?", competitionID)
	if guard != "" {
		q = q.Where(guard, args...)
	}
	var out []BidListing
	if err := q.Order("supplier_name, b.id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list opened bids: %w", err)
	}
	for i := range out {
		out[i].ReceivedAt = out[i].ReceivedAt.UTC()
	}
	return out, nil
}

// mayListBids refuses, with its audit entry, anyone but a keyholder, and
// everyone before the opening.
func (s *Service) mayListBids(ctx context.Context, db *gorm.DB, actor audit.Actor, c *Competition) error {
	const action = "competition.bids.list"
	if ok, err := keyholder(db, c, actor.UserID); err != nil {
		return err
	} else if !ok {
		return s.refused(ctx, actor, action, c.ID, ErrForbidden)
	}
	if c.OpenedAt == nil {
		return s.denyEarly(ctx, actor, action, "competition", c.ID, c, s.now(), ErrNotOpened)
	}
	return nil
}

// BidContent decrypts an opened bid for a keyholder (ErrForbidden, audited,
// for anyone else) who may read it by the declarations of interest (see
// conflicts.go): a panel member only once they have declared, and nobody
// who declared a conflict with the bid's supplier (ErrUndeclared,
// ErrConflicted, both audited). The sealed box is read afresh (sealed.Read, audited
// with numbers and hashes) and must still hold the very version opened,
// with the same SHA-256 (documents.ErrTampered otherwise). An excluded bid
// is never read (ErrExcluded), and an id that is not an opened bid, such
// as one guessed or reused before the opening, is store.ErrNotFound; both
// are audited as denied.
func (s *Service) BidContent(ctx context.Context, actor audit.Actor, bidID string) (BidContent, error) {
	const action = "competition.bid.read"
	if s.Sealed == nil {
		return BidContent{}, errors.New("competition: reading bids needs the sealed box service")
	}
	db := s.DB.WithContext(ctx)
	var b Bid
	if err := db.Where("id = ?", bidID).Limit(1).Find(&b).Error; err != nil {
		return BidContent{}, fmt.Errorf("read bid: %w", err)
	}
	if b.ID == "" {
		return BidContent{}, s.deny(ctx, actor, action, "competition_bid", bidID, "no opened bid has this id",
			fmt.Errorf("bid: %w", store.ErrNotFound), nil)
	}
	c, err := load(db, b.CompetitionID)
	if err != nil {
		return BidContent{}, err
	}
	if ok, err := keyholder(db, c, actor.UserID); err != nil {
		return BidContent{}, err
	} else if !ok {
		return BidContent{}, s.refusedOn(ctx, actor, action, "competition_bid", bidID, ErrForbidden)
	}
	if b.Status == BidExcluded {
		return BidContent{}, s.deny(ctx, actor, action, "competition_bid", bidID, "the bid was excluded at the opening", ErrExcluded,
			map[string]any{"competition_id": c.ID})
	}
	if r, err := ReaderOf(db, c, actor.UserID); err != nil {
		return BidContent{}, err
	} else if err := r.MayRead(b.SupplierOrgID); err != nil {
		return BidContent{}, s.refusedOn(ctx, actor, action, "competition_bid", bidID, err)
	}
	o, err := s.Sealed.Read(ctx, actor, BidBox(c), b.SubmissionID)
	if err != nil {
		return BidContent{}, fmt.Errorf("read bid: %w", err)
	}
	if o.Number != b.VersionNumber || o.SHA256 != b.SHA256 {
		return BidContent{}, fmt.Errorf("read bid %s: %w: the sealed box holds version %d (%s), but version %d (%s) was opened",
			bidID, documents.ErrTampered, o.Number, o.SHA256, b.VersionNumber, b.SHA256)
	}
	return DecodeBid(c.ID, o.Content)
}

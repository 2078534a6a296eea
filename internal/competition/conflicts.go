package competition

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/authz"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Conflicts of interest. Once the bids are opened, and before any bid is
// shown to them, every member of the evaluation panel declares, for the
// supplier of every opened bid, that they have no conflict of interest
// with it or that they have one, saying what it is (DeclareConflicts, one
// transaction, audited). Until a panel member has declared about a bid's
// supplier they may not read that bid (and since the first declaration
// covers every opened bid, that means any bid); a person who declared a
// conflict with a supplier may never read its bid, whatever else they are.
// A trust lead of the lead trust who is not on the panel moderates rather
// than scores, and may read the bids without declaring; if they declare a
// conflict it binds them all the same.
//
// A declaration may be added to, a "no conflict" turned into a conflict
// when one comes to light, but a declared conflict is never withdrawn or
// reworded: the record has to show who was kept away from which bid and
// why. The evaluation package applies the same rule (Reader.MayRead) to
// marks and moderation.

// Field names of DeclareConflicts' errors.
const (
	// FieldDeclarations names problems with the declaration as a whole.
	FieldDeclarations = "declarations"
)

// FieldConflict is the field name of the choice, for one supplier, between
// no conflict and a conflict.
func FieldConflict(supplierOrgID string) string { return "conflict-" + supplierOrgID }

// FieldConflictDetails is the field name of the details of a conflict with
// one supplier.
func FieldConflictDetails(supplierOrgID string) string { return "conflict-details-" + supplierOrgID }

// MaxConflictDetails is the longest description of a conflict, in
// characters.
const MaxConflictDetails = 2000

// Refusals of a read because of the declarations. Both wrap ErrForbidden,
// so callers testing for it (and the audit of refusals) see them as
// refusals for want of permission.
var (
	// ErrUndeclared: a panel member has not yet declared whether they have
	// a conflict of interest with the bid's supplier.
	ErrUndeclared = fmt.Errorf("%w: declare whether you have a conflict of interest with each supplier that bid before you read any bid", ErrForbidden)
	// ErrConflicted: the person declared a conflict of interest with the
	// bid's supplier, so they may never see that bid, its marks or its
	// moderation.
	ErrConflicted = fmt.Errorf("%w: you declared a conflict of interest with this supplier, so you cannot see its bid", ErrForbidden)
)

// Declaration is one person's declaration about one opened bid's supplier.
type Declaration struct {
	CompetitionID string `gorm:"primaryKey"`
	UserID        string `gorm:"primaryKey"`
	SupplierOrgID string `gorm:"primaryKey"`
	Conflict      bool
	// Details say what the conflict is; empty for no conflict.
	Details    string
	DeclaredAt time.Time
	// Name is the declarer's name and SupplierName the supplier's, read for
	// showing them (DeclarationsOf); never written.
	Name         string `gorm:"column:name;->"`
	SupplierName string `gorm:"column:supplier_name;->"`
}

// TableName tells GORM where declarations live.
func (Declaration) TableName() string { return "competition_declarations" }

// DeclarationInput is what a person declares about one supplier: Conflict
// with Details (required), or no conflict.
type DeclarationInput struct {
	SupplierOrgID string
	Conflict      bool
	Details       string
}

// Reader is how one person stands towards a competition's opened bids.
type Reader struct {
	UserID string
	// Lead: a trust lead of the lead trust.
	Lead bool
	// Panel: on the evaluation panel and still entitled to sit on it
	// (OnPanel).
	Panel bool
	// Declared maps each supplier the person has declared about to whether
	// they declared a conflict with it.
	Declared map[string]bool
}

// ReaderOf reads, through db (a transaction or not), how the user stands
// towards the competition's bids.
func ReaderOf(db *gorm.DB, c *Competition, userID string) (Reader, error) {
	r := Reader{UserID: userID, Declared: map[string]bool{}}
	var err error
	if r.Lead, err = hasRole(db, userID, c.LeadOrgID, authz.TrustLead); err != nil {
		return r, err
	}
	members, err := panel(db, c)
	if err != nil {
		return r, err
	}
	r.Panel = slices.ContainsFunc(members, func(m PanelMember) bool { return m.UserID == userID && m.OrganisationID != "" })
	var mine []Declaration
	if err := db.Where("competition_id = ? AND user_id = ?", c.ID, userID).Find(&mine).Error; err != nil {
		return r, fmt.Errorf("read declarations: %w", err)
	}
	for _, d := range mine {
		r.Declared[d.SupplierOrgID] = d.Conflict
	}
	return r, nil
}

// MayRead says whether the person may see the bid of the supplier, and
// with it the bid's marks and moderation: nil, ErrConflicted for anyone
// who declared a conflict with the supplier, ErrUndeclared for a panel
// member who has not declared about it, ErrForbidden for anyone who is
// neither on the panel nor a trust lead of the lead trust.
func (r Reader) MayRead(supplierOrgID string) error {
	conflict, declared := r.Declared[supplierOrgID]
	switch {
	case declared && conflict:
		return ErrConflicted
	case r.Panel && !declared:
		return ErrUndeclared
	case !r.Panel && !r.Lead:
		return ErrForbidden
	}
	return nil
}

// Conflicted reports whether the person declared a conflict with any
// supplier.
func (r Reader) Conflicted() bool {
	for _, c := range r.Declared {
		if c {
			return true
		}
	}
	return false
}

// DeclareConflicts records the actor's declarations about the suppliers of
// the opened bids, in one transaction with its audit entry (suppliers and
// whether each is a conflict; the details stay in the declarations). The
// first declaration must cover the supplier of every opened bid; later ones
// may name any of them again, to turn "no conflict" into a conflict. A
// declared conflict cannot be withdrawn or reworded, and a conflict needs
// its details. Only panel members and the lead trust's trust leads declare
// (ErrForbidden, audited, for anyone else), and only once the bids are
// opened.
func (s *Service) DeclareConflicts(ctx context.Context, actor audit.Actor, competitionID string, in []DeclarationInput) error {
	const action = "competition.conflicts.declare"
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		c, err := s.lock(tx, competitionID)
		if err != nil {
			return err
		}
		r, err := ReaderOf(tx, c, actor.UserID)
		if err != nil {
			return err
		}
		if !r.Lead && !r.Panel {
			return ErrForbidden
		}
		var v validate.Errors
		switch {
		case c.Status == StatusCancelled:
			v.Add(FieldDeclarations, "The competition has been cancelled, so there is nothing to declare")
		case c.OpenedAt == nil:
			v.Add(FieldDeclarations, "Declare your interests once the bids have been opened: you declare them for each supplier that bid")
		}
		if err := v.Err(); err != nil {
			return err
		}
		bids, err := OpenedBidsOf(tx, c.ID)
		if err != nil {
			return err
		}
		names := map[string]string{}
		var order []string
		for _, b := range bids {
			if b.Status == BidOpened {
				names[b.SupplierOrgID] = b.Supplier.Name
				order = append(order, b.SupplierOrgID)
			}
		}
		var mine []Declaration
		if err := tx.Where("competition_id = ? AND user_id = ?", c.ID, actor.UserID).Find(&mine).Error; err != nil {
			return fmt.Errorf("read declarations: %w", err)
		}
		before := map[string]Declaration{}
		for _, d := range mine {
			before[d.SupplierOrgID] = d
		}
		given := map[string]DeclarationInput{}
		unknown := false
		for _, d := range in {
			d.Details = strings.TrimSpace(d.Details)
			name, ok := names[d.SupplierOrgID]
			if !ok {
				unknown = true
				continue
			}
			if _, twice := given[d.SupplierOrgID]; twice {
				v.Add(FieldConflict(d.SupplierOrgID), fmt.Sprintf("%s is declared twice; declare once", name))
				continue
			}
			given[d.SupplierOrgID] = d
			old, had := before[d.SupplierOrgID]
			switch {
			case had && old.Conflict && (!d.Conflict || d.Details != old.Details):
				v.Add(FieldConflict(d.SupplierOrgID), fmt.Sprintf("You declared a conflict of interest with %s at %s (UK time); a declared conflict cannot be withdrawn or changed",
					name, uktime.Moment(old.DeclaredAt)))
			case d.Conflict && d.Details == "":
				v.Add(FieldConflictDetails(d.SupplierOrgID), fmt.Sprintf("Say what your conflict of interest with %s is", name))
			case d.Conflict && utf8.RuneCountInString(d.Details) > MaxConflictDetails:
				v.Add(FieldConflictDetails(d.SupplierOrgID), fmt.Sprintf("The details of your conflict of interest with %s must be 2,000 characters or fewer", name))
			}
		}
		if unknown {
			v.Add(FieldDeclarations, "One of the suppliers named is not one whose bid was opened; reload the page and declare again")
		}
		if len(before) == 0 {
			for _, id := range order {
				if _, ok := given[id]; !ok {
					v.Add(FieldConflict(id), fmt.Sprintf("Say whether you have a conflict of interest with %s", names[id]))
				}
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := s.now()
		var declared, conflicts []string
		for _, id := range order {
			d, ok := given[id]
			if !ok {
				continue
			}
			old, had := before[id]
			switch {
			case !had:
				row := Declaration{CompetitionID: c.ID, UserID: actor.UserID, SupplierOrgID: id, Conflict: d.Conflict, DeclaredAt: now}
				if d.Conflict {
					row.Details = d.Details
				}
				if err := tx.Create(&row).Error; err != nil {
					return fmt.Errorf("record declaration: %w", err)
				}
			case !old.Conflict && d.Conflict:
				res := tx.Model(&Declaration{}).Where("competition_id = ? AND user_id = ? AND supplier_org_id = ? AND conflict = ?", c.ID, actor.UserID, id, false).
					Updates(map[string]any{"conflict": true, "details": d.Details, "declared_at": now})
				if res.Error != nil {
					return fmt.Errorf("record conflict: %w", res.Error)
				}
			default:
				continue // the same as before
			}
			declared = append(declared, id)
			if d.Conflict {
				conflicts = append(conflicts, id)
			}
		}
		if len(declared) == 0 {
			return nil
		}
		return s.appendAudit(tx, actor, action, c.ID, map[string]any{"suppliers": declared, "conflicts": conflicts, "first": len(before) == 0})
	})
	return s.refused(ctx, actor, action, competitionID, err)
}

// Declarations lists every declaration made in the competition, by
// declarer's name and then supplier's name. The caller shows them only to
// the lead trust and in the award report.
func (s *Service) Declarations(ctx context.Context, competitionID string) ([]Declaration, error) {
	return DeclarationsOf(s.DB.WithContext(ctx), competitionID)
}

// MyDeclarations lists the user's own declarations in the competition, by
// supplier's name; none means they have not declared yet.
func (s *Service) MyDeclarations(ctx context.Context, competitionID, userID string) ([]Declaration, error) {
	all, err := s.Declarations(ctx, competitionID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d Declaration) bool { return d.UserID != userID }), nil
}

// DeclarationsOf is Declarations read through db.
func DeclarationsOf(db *gorm.DB, competitionID string) ([]Declaration, error) {
	var out []Declaration
	err := db.Table("competition_declarations d").
		Select("d.*, u.name AS name, o.name AS supplier_name").
		Joins("JOIN users u ON u.id = d.user_id").Joins("JOIN organisations o ON o.id = d.supplier_org_id").
		Where("d.competition_id = ?", competitionID).Order("u.name, u.id, o.name, o.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list declarations: %w", err)
	}
	for i := range out {
		out[i].DeclaredAt = out[i].DeclaredAt.UTC()
	}
	return out, nil
}

// What the evaluation package reads inside its own transactions: the same
// reads the service makes, through the transaction it is given.

// Load reads a competition through db.
func Load(db *gorm.DB, id string) (*Competition, error) { return load(db, id) }

// PanelOf is Panel read through db: the panel by name, with the
// organisation each member evaluates for (none for a member no longer
// entitled to sit on it).
func PanelOf(db *gorm.DB, c *Competition) ([]PanelMember, error) { return panel(db, c) }

// RequirementsOf is Requirements read through db.
func RequirementsOf(db *gorm.DB, competitionID string) ([]Requirement, error) {
	return requirements(db, competitionID)
}

// BuyersOf is Buyers read through db: the buying trusts, the lead first.
func BuyersOf(db *gorm.DB, competitionID string) ([]Buyer, error) { return buyers(db, competitionID) }

// HasRole reports, through db, whether the user holds role in the
// organisation (an enabled user's membership), as the service's own
// object-level checks do.
func HasRole(db *gorm.DB, userID, orgID string, role authz.Role) (bool, error) {
	return hasRole(db, userID, orgID, role)
}

// OpenedBidsOf lists, through db, the bids recorded at the opening, opened
// and excluded, with their suppliers, by supplier name. It checks nobody's
// permission: OpenedBids does.
func OpenedBidsOf(db *gorm.DB, competitionID string) ([]Bid, error) {
	var out []Bid
	// One query, the supplier joined.
	err := db.Joins("Supplier").
		Where("competition_bids.competition_id = ?", competitionID).Order(`"Supplier".name, competition_bids.id`).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list bids: %w", err)
	}
	for i := range out {
		out[i].utc()
	}
	return out, nil
}

// BidOf reads one recorded bid, with its supplier, through db;
// store.ErrNotFound when no bid has the id.
func BidOf(db *gorm.DB, bidID string) (*Bid, error) {
	var b Bid
	if err := db.Preload("Supplier").Where("id = ?", bidID).First(&b).Error; err != nil {
		return nil, notFound(err, "bid")
	}
	b.utc()
	return &b, nil
}

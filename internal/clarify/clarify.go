// Package clarify runs clarification questions for any procedure — a
// framework's application window or a mini-competition — without knowing
// which: callers describe the procedure with a Procedure value.
//
// The rules:
//   - a supplier asks privately, until the question deadline;
//   - the asking organisation may withdraw its question while it is open;
//   - the lead answers either everyone, with the question reworded so it
//     does not name the supplier, or the asking supplier alone;
//   - everyone invited is notified of a public answer, the asker alone of a
//     private one, in the same transaction as the answer.
//
// What each party sees:
//   - a supplier sees its own questions (any status) and every public
//     answer, the latter as the lead's wording and the answer only, never
//     who asked (ForSupplier, PublicAnswers);
//   - the lead sees every question with the organisation that asked it
//     (ForLead): the lead has to know whom to answer privately and must be
//     able to spot a question that gives away the asker. The lead must not
//     pass that identity on; the public wording is refused if it contains
//     the asker's name.
//
// Whether the actor may act for the lead organisation or the supplier is
// checked here too (Forbidden), in addition to the web layer's role checks;
// whether a supplier is invited to the procedure is the caller's to check.
package clarify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/clock"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/uktime"
	"github.com/nhsprocure/portal/internal/validate"
)

// Procedure types.
const (
	TypeFramework   = "framework"
	TypeCompetition = "competition"
)

// Question statuses.
const (
	StatusOpen            = "open"
	StatusAnsweredPublic  = "answered_public"
	StatusAnsweredPrivate = "answered_private"
	StatusWithdrawn       = "withdrawn"
)

// NotificationKind is the notify kind sent for answers; its templates read
// the data keys Procurement, Question and Answer.
const NotificationKind = "clarification_answered"

// Limits on what people type, in characters.
const (
	MaxQuestion = 5000
	MaxAnswer   = 10000
)

// Field names of validation errors.
const (
	FieldText           = "text"
	FieldPublicQuestion = "public_question"
	FieldAnswer         = "answer"
	FieldRecipients     = "recipients"
)

// supplierRole is authz.SupplierUser; the membership table stores the text.
const supplierRole = "supplier_user"

// Errors callers can test for with errors.Is.
var (
	// ErrForbidden: the actor does not act for the organisation the action needs.
	ErrForbidden = errors.New("you cannot do this for that organisation")
	// ErrNotOpen: the question was already answered or withdrawn.
	ErrNotOpen = errors.New("the question has already been answered or withdrawn")
	// ErrDeadlinePassed: questions are no longer accepted (see DeadlineError).
	ErrDeadlinePassed = errors.New("the deadline for questions has passed")
)

// DeadlineError refuses a question asked at or after the deadline; its
// message names the deadline in UK time.
type DeadlineError struct{ Deadline time.Time }

func (e *DeadlineError) Error() string {
	return "The deadline for questions was " + UKTime(e.Deadline)
}

// Is makes errors.Is(err, ErrDeadlinePassed) true.
func (e *DeadlineError) Is(target error) bool { return target == ErrDeadlinePassed }

// Procedure describes the procedure questions belong to. Callers fill it
// from their own records (a framework, a competition), so this package
// imports neither.
type Procedure struct {
	Type  string // TypeFramework or TypeCompetition
	ID    string
	Title string // named in notifications
	// OwnerOrgID is the organisation that runs the procedure and answers
	// (a framework's consortium, a competition's buyer).
	OwnerOrgID string
	// QuestionDeadline is the moment after which questions are refused.
	QuestionDeadline time.Time
	// Link is the portal path notifications point to, such as
	// "/frameworks/123/clarifications"; empty for none.
	Link string
}

func (p Procedure) check() error {
	if p.Type != TypeFramework && p.Type != TypeCompetition {
		return fmt.Errorf("clarify: unknown procedure type %q", p.Type)
	}
	if p.ID == "" || p.OwnerOrgID == "" {
		return errors.New("clarify: procedure needs an id and an owner organisation")
	}
	return nil
}

// Notifier records a notification inside the caller's transaction;
// *notify.Notifier satisfies it.
type Notifier interface {
	Notify(ctx context.Context, tx *gorm.DB, userID, kind string, data map[string]any, link string) error
}

// Question is one stored question.
type Question struct {
	ID             string     `gorm:"column:id;primaryKey"`
	ProcedureType  string     `gorm:"column:procedure_type"`
	ProcedureID    string     `gorm:"column:procedure_id"`
	AskedByOrg     string     `gorm:"column:asked_by_org"`
	AskedByUser    string     `gorm:"column:asked_by_user"`
	Text           string     `gorm:"column:text"`
	AskedAt        time.Time  `gorm:"column:asked_at"`
	Status         string     `gorm:"column:status"`
	Answer         string     `gorm:"column:answer"`
	PublicQuestion string     `gorm:"column:public_question"`
	AnsweredAt     *time.Time `gorm:"column:answered_at"`
	AnsweredBy     string     `gorm:"column:answered_by"`
	Version        int        `gorm:"column:version"`
}

// TableName tells GORM where questions live.
func (Question) TableName() string { return "clarification_questions" }

// Open reports whether the question awaits an answer.
func (q Question) Open() bool { return q.Status == StatusOpen }

// LeadQuestion is a question as the lead sees it: with who asked.
type LeadQuestion struct {
	Question
	AskedByOrgName string `gorm:"column:asked_by_org_name"`
}

// PublicAnswer is a public answer as everyone sees it: the lead's wording
// of the question and the answer, nothing about who asked.
type PublicAnswer struct {
	ID             string    `gorm:"column:id"`
	PublicQuestion string    `gorm:"column:public_question"`
	Answer         string    `gorm:"column:answer"`
	AnsweredAt     time.Time `gorm:"column:answered_at"`
}

// SupplierView is what one supplier sees.
type SupplierView struct {
	Mine   []Question     // the supplier's own questions, any status, oldest first
	Public []PublicAnswer // every public answer, oldest first
}

// Service asks, answers and lists clarification questions. Every change
// runs in one transaction with its audit entry and notifications.
type Service struct {
	DB     *store.DB
	Audit  *audit.Log
	Clock  clock.Clock
	Notify Notifier
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC().Truncate(time.Microsecond) }

// UKTime writes a moment in UK time the GOV.UK way: "5pm on 4 December
// 2026".
func UKTime(t time.Time) string { return uktime.Moment(t) }

func chars(s string) int { return utf8.RuneCountInString(s) }

// actsForSupplier reports whether the actor holds the supplier role in orgID, a
// supplier organisation.
func actsForSupplier(tx *gorm.DB, userID, orgID string) (bool, error) {
	var n int64
	err := tx.Table("memberships m").Joins("JOIN organisations o ON o.id = m.organisation_id").
		Where("m.user_id = ? AND m.organisation_id = ? AND m.role = ? AND o.kind = ?", userID, orgID, supplierRole, "supplier").
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check supplier membership: %w", err)
	}
	return n > 0, nil
}

// Ask records a supplier's question. It is refused at or after the
// procedure's question deadline (by the service's clock) with a
// *DeadlineError, and when the actor is not a supplier user of
// supplierOrgID.
func (s *Service) Ask(ctx context.Context, actor audit.Actor, p Procedure, supplierOrgID, text string) (*Question, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.QuestionDeadline.IsZero() {
		return nil, errors.New("clarify: procedure has no question deadline")
	}
	now := s.now()
	if !now.Before(p.QuestionDeadline) {
		return nil, &DeadlineError{Deadline: p.QuestionDeadline}
	}
	text = strings.TrimSpace(text)
	var v validate.Errors
	if v.Required(FieldText, text, "Enter your question") && chars(text) > MaxQuestion {
		v.Add(FieldText, fmt.Sprintf("Your question must be %s characters or fewer", thousands(MaxQuestion)))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := &Question{
		ID: uuid.NewString(), ProcedureType: p.Type, ProcedureID: p.ID, AskedByOrg: supplierOrgID, AskedByUser: actor.UserID,
		Text: text, AskedAt: now, Status: StatusOpen, Version: 1,
	}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		ok, err := actsForSupplier(tx, actor.UserID, supplierOrgID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrForbidden
		}
		if err := tx.Create(q).Error; err != nil {
			return fmt.Errorf("record question: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "clarification.ask", ObjectType: "clarification_question", ObjectID: q.ID,
			Detail: map[string]any{"procedure_type": p.Type, "procedure_id": p.ID, "organisation_id": supplierOrgID},
		})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// thousands writes n with a comma: 5,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	return thousands(n/1000) + "," + s[len(s)-3:]
}

// load reads a question. Writers then update it only if its status and
// version are unchanged, so concurrent changes end in store.ErrConflict.
func load(tx *gorm.DB, id string) (*Question, error) {
	var q Question
	if err := tx.Where("id = ?", id).Limit(1).Find(&q).Error; err != nil {
		return nil, fmt.Errorf("read question: %w", err)
	}
	if q.ID == "" {
		return nil, fmt.Errorf("question: %w", store.ErrNotFound)
	}
	return &q, nil
}

// Withdraw withdraws an open question. Only a supplier user of the asking
// organisation may; another organisation gets store.ErrNotFound (it must
// not learn the question exists).
func (s *Service) Withdraw(ctx context.Context, actor audit.Actor, questionID, supplierOrgID string) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		ok, err := actsForSupplier(tx, actor.UserID, supplierOrgID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrForbidden
		}
		q, err := load(tx, questionID)
		if err != nil {
			return err
		}
		if q.AskedByOrg != supplierOrgID {
			return fmt.Errorf("question: %w", store.ErrNotFound)
		}
		if !q.Open() {
			return ErrNotOpen
		}
		res := tx.Model(&Question{}).Where("id = ? AND status = ? AND version = ?", q.ID, StatusOpen, q.Version).
			Updates(map[string]any{"status": StatusWithdrawn, "version": q.Version + 1})
		if res.Error != nil {
			return fmt.Errorf("withdraw question: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "clarification.withdraw", ObjectType: "clarification_question", ObjectID: q.ID,
			Detail: map[string]any{"procedure_type": q.ProcedureType, "procedure_id": q.ProcedureID},
		})
	})
}

// answerable checks the lead may answer question id of p at version and
// returns it.
func (s *Service) answerable(tx *gorm.DB, actor audit.Actor, p Procedure, id string, version int) (*Question, error) {
	if actor.OrgID != p.OwnerOrgID {
		return nil, ErrForbidden
	}
	q, err := load(tx, id)
	if err != nil {
		return nil, err
	}
	if q.ProcedureType != p.Type || q.ProcedureID != p.ID {
		return nil, fmt.Errorf("question: %w", store.ErrNotFound)
	}
	if q.Version != version {
		return nil, store.ErrConflict
	}
	if !q.Open() {
		return nil, ErrNotOpen
	}
	return q, nil
}

// saveAnswer writes the answer if the question is still at version.
func saveAnswer(tx *gorm.DB, q *Question, fields map[string]any) error {
	fields["version"] = q.Version + 1
	res := tx.Model(&Question{}).Where("id = ? AND status = ? AND version = ?", q.ID, StatusOpen, q.Version).Updates(fields)
	if res.Error != nil {
		return fmt.Errorf("save answer: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrConflict
	}
	return nil
}

// anonymityWords are the forms of an organisation's name that must not
// appear in public wording: the full name, the name without its company
// suffix, and its Companies House number.
func anonymityWords(name, number string) []string {
	var out []string
	name = strings.ToLower(strings.Join(strings.Fields(name), " "))
	if name != "" {
		out = append(out, name)
		for _, suffix := range []string{" limited", " ltd.", " ltd", " plc", " llp"} {
			if short, ok := strings.CutSuffix(name, suffix); ok && strings.TrimSpace(short) != "" {
				out = append(out, strings.TrimSpace(short))
			}
		}
	}
	if number = strings.ToLower(strings.TrimSpace(number)); number != "" {
		out = append(out, number)
	}
	return out
}

// namesAsker reports whether text gives away the organisation orgID.
func namesAsker(tx *gorm.DB, orgID, text string) (bool, error) {
	var org struct {
		Name                 string  `gorm:"column:name"`
		CompaniesHouseNumber *string `gorm:"column:companies_house_number"`
	}
	if err := tx.Table("organisations").Select("name, companies_house_number").Where("id = ?", orgID).Take(&org).Error; err != nil {
		return false, fmt.Errorf("read asking organisation: %w", err)
	}
	number := ""
	if org.CompaniesHouseNumber != nil {
		number = *org.CompaniesHouseNumber
	}
	lower := strings.ToLower(strings.Join(strings.Fields(text), " "))
	for _, w := range anonymityWords(org.Name, number) {
		if strings.Contains(lower, w) {
			return true, nil
		}
	}
	return false, nil
}

// AnswerPublic answers question questionID of p for everyone. version is
// the question's version the lead saw (store.ErrConflict when it moved on,
// such as when another lead answered first). publicQuestion is the lead's
// wording of the question, which must not name the asking supplier;
// recipients are the user IDs of everyone invited, each of whom is notified
// in the same transaction. Only someone acting for p.OwnerOrgID may answer.
func (s *Service) AnswerPublic(ctx context.Context, actor audit.Actor, p Procedure, questionID string, version int, publicQuestion, answer string, recipients []string) error {
	if err := p.check(); err != nil {
		return err
	}
	publicQuestion, answer = strings.TrimSpace(publicQuestion), strings.TrimSpace(answer)
	var v validate.Errors
	if v.Required(FieldPublicQuestion, publicQuestion, "Enter the question as everyone will see it, without naming the supplier") && chars(publicQuestion) > MaxQuestion {
		v.Add(FieldPublicQuestion, fmt.Sprintf("The question must be %s characters or fewer", thousands(MaxQuestion)))
	}
	checkAnswer(&v, answer)
	if err := v.Err(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		q, err := s.answerable(tx, actor, p, questionID, version)
		if err != nil {
			return err
		}
		named, err := namesAsker(tx, q.AskedByOrg, publicQuestion)
		if err != nil {
			return err
		}
		if named {
			v.Add(FieldPublicQuestion, "The question names the supplier who asked it; reword it so nobody can tell who asked")
			return v.Err()
		}
		now := s.now()
		if err := saveAnswer(tx, q, map[string]any{
			"status": StatusAnsweredPublic, "public_question": publicQuestion, "answer": answer,
			"answered_at": now, "answered_by": actor.UserID,
		}); err != nil {
			return err
		}
		data := map[string]any{"Procurement": p.Title, "Question": publicQuestion, "Answer": answer}
		sent := 0
		for _, userID := range unique(recipients) {
			if err := s.Notify.Notify(ctx, tx, userID, NotificationKind, data, p.Link); err != nil {
				return fmt.Errorf("notify %s: %w", userID, err)
			}
			sent++
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "clarification.answer_public", ObjectType: "clarification_question", ObjectID: q.ID,
			Detail: map[string]any{"procedure_type": p.Type, "procedure_id": p.ID, "recipients": sent},
		})
	})
}

// AnswerPrivate answers question questionID of p for the asking supplier
// alone. askerUserIDs are the users to notify; each must belong to the
// asking organisation, so a private answer never reaches anyone else.
func (s *Service) AnswerPrivate(ctx context.Context, actor audit.Actor, p Procedure, questionID string, version int, answer string, askerUserIDs []string) error {
	if err := p.check(); err != nil {
		return err
	}
	answer = strings.TrimSpace(answer)
	var v validate.Errors
	checkAnswer(&v, answer)
	if err := v.Err(); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		q, err := s.answerable(tx, actor, p, questionID, version)
		if err != nil {
			return err
		}
		users := unique(askerUserIDs)
		for _, userID := range users {
			var n int64
			if err := tx.Table("memberships").Where("user_id = ? AND organisation_id = ?", userID, q.AskedByOrg).Count(&n).Error; err != nil {
				return fmt.Errorf("check recipient: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("clarify: user %s is not in the asking organisation; a private answer goes only to the asker: %w", userID, ErrForbidden)
			}
		}
		now := s.now()
		if err := saveAnswer(tx, q, map[string]any{
			"status": StatusAnsweredPrivate, "answer": answer, "answered_at": now, "answered_by": actor.UserID,
		}); err != nil {
			return err
		}
		data := map[string]any{"Procurement": p.Title, "Question": q.Text, "Answer": answer}
		for _, userID := range users {
			if err := s.Notify.Notify(ctx, tx, userID, NotificationKind, data, p.Link); err != nil {
				return fmt.Errorf("notify %s: %w", userID, err)
			}
		}
		return s.Audit.Append(tx, actor, audit.Event{
			Action: "clarification.answer_private", ObjectType: "clarification_question", ObjectID: q.ID,
			Detail: map[string]any{"procedure_type": p.Type, "procedure_id": p.ID, "organisation_id": q.AskedByOrg, "recipients": len(users)},
		})
	})
}

func checkAnswer(v *validate.Errors, answer string) {
	if v.Required(FieldAnswer, answer, "Enter the answer") && chars(answer) > MaxAnswer {
		v.Add(FieldAnswer, fmt.Sprintf("The answer must be %s characters or fewer", thousands(MaxAnswer)))
	}
}

func unique(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) procedure(ctx context.Context, p Procedure) *gorm.DB {
	return s.DB.WithContext(ctx).Where("procedure_type = ? AND procedure_id = ?", p.Type, p.ID)
}

// ForSupplier lists supplierOrgID's own questions in p (any status) and
// every public answer. Other suppliers' questions never appear, and public
// answers carry no trace of who asked. The caller must have checked that
// the viewer acts for supplierOrgID.
func (s *Service) ForSupplier(ctx context.Context, p Procedure, supplierOrgID string) (*SupplierView, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var view SupplierView
	if err := s.procedure(ctx, p).Where("asked_by_org = ?", supplierOrgID).Order("asked_at, id").Find(&view.Mine).Error; err != nil {
		return nil, fmt.Errorf("list questions: %w", err)
	}
	public, err := s.PublicAnswers(ctx, p)
	if err != nil {
		return nil, err
	}
	view.Public = public
	return &view, nil
}

// PublicAnswers lists p's public answers, oldest answer first.
func (s *Service) PublicAnswers(ctx context.Context, p Procedure) ([]PublicAnswer, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var out []PublicAnswer
	err := s.procedure(ctx, p).Model(&Question{}).Select("id, public_question, answer, answered_at").
		Where("status = ?", StatusAnsweredPublic).Order("answered_at, id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list public answers: %w", err)
	}
	return out, nil
}

// ForLead lists every question in p, oldest first, with the organisation
// that asked it. Only for the lead (see the package comment): the caller
// must have checked the viewer acts for p.OwnerOrgID.
func (s *Service) ForLead(ctx context.Context, p Procedure) ([]LeadQuestion, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var out []LeadQuestion
	err := s.DB.WithContext(ctx).Table("clarification_questions q").
		Select("q.*, o.name AS asked_by_org_name").
		Joins("JOIN organisations o ON o.id = q.asked_by_org").
		Where("q.procedure_type = ? AND q.procedure_id = ?", p.Type, p.ID).
		Order("q.asked_at, q.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list questions: %w", err)
	}
	return out, nil
}

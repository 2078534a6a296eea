package orgs

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/audit"
	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/validate"
)

// UserInput is what the administrator's form submits for a user.
type UserInput struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	Version int
}

func (in *UserInput) check() error {
	in.Issuer = strings.TrimRight(strings.TrimSpace(in.Issuer), "/")
	in.Subject = strings.TrimSpace(in.Subject)
	in.Email = strings.TrimSpace(in.Email)
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	var v validate.Errors
	if v.Required("issuer", in.Issuer, "Enter the identity provider's issuer URL") &&
		!strings.HasPrefix(in.Issuer, "https://") && !strings.HasPrefix(in.Issuer, "http://") {
		v.Add("issuer", "Enter the issuer as a URL starting with https://")
	}
	v.Required("subject", in.Subject, "Enter the user's subject identifier from the identity provider")
	v.Required("name", in.Name, "Enter the user's full name")
	if in.Email != "" {
		if _, err := mail.ParseAddress(in.Email); err != nil {
			v.Add("email", "Enter an email address in the correct format, like name@example.nhs.uk")
		}
	}
	return v.Err()
}

// CreateUser registers a person before their first sign-in, so roles can be
// granted in advance.
func (s *Service) CreateUser(ctx context.Context, actor audit.Actor, in UserInput) (*User, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	u := &User{ID: newID(), Issuer: in.Issuer, Subject: in.Subject, Email: in.Email, Name: in.Name, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		tx.Model(&User{}).Where("issuer = ? AND subject = ?", u.Issuer, u.Subject).Count(&n)
		if n > 0 {
			return &validate.Errors{List: []validate.FieldError{{Field: "subject", Message: "A user with this issuer and subject already exists"}}}
		}
		if err := tx.Create(u).Error; err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "user.create", ObjectType: "user", ObjectID: u.ID})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user's name and email (issuer and subject identify
// the person and never change).
func (s *Service) UpdateUser(ctx context.Context, actor audit.Actor, id string, in UserInput) error {
	return s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ?", id).First(&u).Error; err != nil {
			return notFound(err, "user")
		}
		in.Issuer, in.Subject = u.Issuer, u.Subject
		if err := in.check(); err != nil {
			return err
		}
		res := tx.Model(&User{}).Where("id = ? AND version = ?", id, in.Version).
			Updates(map[string]any{"name": in.Name, "email": in.Email, "version": in.Version + 1, "updated_at": s.Clock.Now()})
		if res.Error != nil {
			return fmt.Errorf("update user: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return store.ErrConflict
		}
		if err := s.DB.Publish(tx, store.ChangedUser(id)); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: "user.update", ObjectType: "user", ObjectID: id})
	})
}

// SetDisabled disables or re-enables a user. Disabling ends every session the
// user has, on every instance, in the same transaction, and removes their
// roles from the enforcer.
func (s *Service) SetDisabled(ctx context.Context, actor audit.Actor, id string, disabled bool) error {
	err := s.DB.Tx(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("id = ?", id).First(&u).Error; err != nil {
			return notFound(err, "user")
		}
		if disabled && actor.UserID == id {
			return &validate.Errors{List: []validate.FieldError{{Field: "disabled", Message: "You cannot disable your own account; ask another administrator"}}}
		}
		var at any
		action := "user.enable"
		if disabled {
			at = s.Clock.Now()
			action = "user.disable"
			if err := tx.Exec("DELETE FROM sessions WHERE user_id = ?", id).Error; err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{"disabled_at": at, "version": u.Version + 1, "updated_at": s.Clock.Now()}).Error; err != nil {
			return fmt.Errorf("set user disabled: %w", err)
		}
		if err := s.markRolesChanged(tx, id); err != nil {
			return err
		}
		return s.Audit.Append(tx, actor, audit.Event{Action: action, ObjectType: "user", ObjectID: id})
	})
	if err != nil {
		return err
	}
	return s.rolesChanged(ctx)
}

// User returns one user.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.DB.WithContext(ctx).Where("id = ?", id).First(&u).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// Users lists users whose name or email contains query.
func (s *Service) Users(ctx context.Context, query string) ([]User, error) {
	q := s.DB.WithContext(ctx).Order("name")
	if query = strings.TrimSpace(query); query != "" {
		like := store.Contains(query)
		q = q.Where("LOWER(name) LIKE ? "+store.LikeEscape+" OR LOWER(email) LIKE ? "+store.LikeEscape, like, like)
	}
	var out []User
	if err := q.Limit(500).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UsersByIssuer lists the enabled users of one identity provider (the
// development provider shows them on its sign-in page).
func (s *Service) UsersByIssuer(ctx context.Context, issuer string) ([]User, error) {
	var out []User
	err := s.DB.WithContext(ctx).Where("issuer = ? AND disabled_at IS NULL", issuer).Order("name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list users of issuer: %w", err)
	}
	return out, nil
}

// MembershipsByIssuer lists the roles of every enabled user of one identity
// provider, with users and organisations loaded, in one query.
func (s *Service) MembershipsByIssuer(ctx context.Context, issuer string) ([]Membership, error) {
	var out []Membership
	err := s.DB.WithContext(ctx).Preload("User").Preload("Organisation").
		Joins("JOIN users u ON u.id = memberships.user_id").
		Where("u.issuer = ? AND u.disabled_at IS NULL", issuer).Order("memberships.role, u.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list memberships of issuer: %w", err)
	}
	return out, nil
}

package ocds

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/competition"
	"github.com/nhsprocure/portal/internal/framework"
	"github.com/nhsprocure/portal/internal/orgs"
)

// Kinds of procedure, each one contracting process.
const (
	kindFramework   = "framework"
	kindCompetition = "competition"
)

// procedure is a published framework or competition.
type procedure struct {
	ID          string
	Kind        string
	PublishedAt time.Time
}

// source reads what releases are made of, with the organisations read
// once each.
type source struct {
	db   *gorm.DB
	orgs map[string]orgs.Organisation
}

func (p *Publisher) source(ctx context.Context) *source {
	return &source{db: p.DB.WithContext(ctx), orgs: map[string]orgs.Organisation{}}
}

// org is the organisation with the ID.
func (s *source) org(id string) (orgs.Organisation, error) {
	if o, ok := s.orgs[id]; ok {
		return o, nil
	}
	var o orgs.Organisation
	if err := s.db.Where("id = ?", id).First(&o).Error; err != nil {
		return o, fmt.Errorf("read organisation %s: %w", id, err)
	}
	s.orgs[id] = o
	return o, nil
}

// procedures lists every published procedure, oldest publication first
// (ties by ID), so pages stay stable as new ones are published.
func (s *source) procedures() ([]procedure, error) {
	var out []procedure
	for _, q := range []struct{ kind, table string }{{kindFramework, "frameworks"}, {kindCompetition, "competitions"}} {
		var rows []procedure
		if err := s.db.Table(q.table).Select("id, published_at").Where("published_at IS NOT NULL").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("list published %s: %w", q.table, err)
		}
		for _, r := range rows {
			r.Kind = q.kind
			r.PublishedAt = r.PublishedAt.UTC()
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].PublishedAt.Equal(out[j].PublishedAt) {
			return out[i].PublishedAt.Before(out[j].PublishedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// procedure finds the published procedure with the ID; ErrNotFound when
// there is none (a draft is none).
func (s *source) procedure(id string) (procedure, error) {
	for _, q := range []struct{ kind, table string }{{kindFramework, "frameworks"}, {kindCompetition, "competitions"}} {
		var rows []procedure
		if err := s.db.Table(q.table).Select("id, published_at").Where("id = ? AND published_at IS NOT NULL", id).Scan(&rows).Error; err != nil {
			return procedure{}, fmt.Errorf("find procedure: %w", err)
		}
		if len(rows) == 1 {
			rows[0].Kind = q.kind
			return rows[0], nil
		}
	}
	return procedure{}, ErrNotFound
}

// releases derives every release of the procedure at now, oldest first.
func (p *Publisher) releases(s *source, pr procedure, now time.Time) ([]Release, error) {
	var (
		list []Release
		err  error
	)
	switch pr.Kind {
	case kindFramework:
		var f framework.Framework
		if err := s.db.Where("id = ?", pr.ID).First(&f).Error; err != nil {
			return nil, fmt.Errorf("read framework: %w", err)
		}
		list, err = p.frameworkReleases(s, f, now)
	default:
		var c competition.Competition
		if err := s.db.Where("id = ?", pr.ID).First(&c).Error; err != nil {
			return nil, fmt.Errorf("read competition: %w", err)
		}
		list, err = p.competitionReleases(s, c, now)
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Date < list[j].Date })
	return list, nil
}

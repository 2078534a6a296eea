// Package catalogue holds consortia's requirement catalogues: sections of
// requirements with stable references, MoSCoW priorities, weights, response
// types and evaluator guidance. Publishing freezes the catalogue as a
// numbered version that frameworks and mini-competitions copy from, so what
// a procurement was run against never changes under it. Catalogues are
// imported from and exported to the spreadsheets trusts already write.
package catalogue

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Catalogue is a consortium's library of requirements.
type Catalogue struct {
	ID           string
	ConsortiumID string
	Title        string
	Description  string
	// CurrentVersion is the number of the latest published version, 0 before
	// the first publication.
	CurrentVersion int
	// Version guards edits of the title and description.
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Section groups requirements under a heading ("Medicines").
type Section struct {
	ID          string `json:"id"`
	CatalogueID string `json:"-"`
	Title       string `json:"title"`
	Position    int    `json:"position"`
}

// TableName tells GORM where sections live.
func (Section) TableName() string { return "catalogue_sections" }

// Requirement is one thing a supplier's product or service must, should or
// could do, with how its answer is marked. The JSON names are the format of
// published snapshots, so they must not change.
type Requirement struct {
	ID           string `json:"id"`
	CatalogueID  string `json:"-"`
	SectionID    string `json:"section_id"`
	SectionTitle string `gorm:"-" json:"-"`
	// Reference is stable across versions (EPR-MED-012), so evaluators,
	// suppliers and later competitions can cite it.
	Reference    string      `json:"reference"`
	Text         string      `json:"text"`
	Priority     string      `json:"priority"`
	Weight       int         `json:"weight"`
	ResponseType string      `json:"response_type"`
	Descriptors  Descriptors `json:"descriptors,omitempty"`
	Guidance     string      `json:"guidance,omitempty"`
	Position     int         `json:"position"`
	Version      int         `json:"-"`
	CreatedAt    time.Time   `json:"-"`
	UpdatedAt    time.Time   `json:"-"`
	// PublishedVersion is the catalogue version the requirement was read
	// from; 0 for the draft.
	PublishedVersion int `gorm:"-" json:"-"`
}

// TableName tells GORM where requirements live.
func (Requirement) TableName() string { return "catalogue_requirements" }

// PriorityLabel is the MoSCoW word people read ("Won't").
func (r Requirement) PriorityLabel() string { return PriorityLabel(r.Priority) }

// ResponseTypeLabel is the plain-English response type ("Scored (0-4)").
func (r Requirement) ResponseTypeLabel() string { return ResponseTypeLabel(r.ResponseType) }

// Origin says where a copied requirement came from, for the "came from" link
// a framework lot or mini-competition keeps.
func (r Requirement) Origin() Origin {
	return Origin{CatalogueID: r.CatalogueID, CatalogueVersion: r.PublishedVersion, RequirementID: r.ID, Reference: r.Reference}
}

// Origin identifies a requirement in a published catalogue version.
type Origin struct {
	CatalogueID      string
	CatalogueVersion int
	RequirementID    string
	Reference        string
}

// Marks are the marks of a scored requirement, 0 (no response) to 4
// (excellent); each has a descriptor telling evaluators when to give it.
const Marks = 5

// Descriptors are the descriptors of marks 0 to 4 of a scored requirement,
// stored as a JSON array; empty for other response types.
type Descriptors []string

// Value stores the descriptors as JSON, or ” when there are none.
func (d Descriptors) Value() (driver.Value, error) {
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal([]string(d))
	if err != nil {
		return nil, fmt.Errorf("encode descriptors: %w", err)
	}
	return string(b), nil
}

// Scan reads descriptors stored by Value.
func (d *Descriptors) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("descriptors: cannot read %T", src)
	}
	*d = nil
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, (*[]string)(d)); err != nil {
		return fmt.Errorf("decode descriptors: %w", err)
	}
	return nil
}

// PublishedVersion is a catalogue frozen at publication: its title,
// sections and requirements exactly as they were.
type PublishedVersion struct {
	CatalogueID     string
	Number          int
	PublishedAt     time.Time
	PublishedBy     string
	PublishedByName string
	Title           string
	Description     string
	Sections        []Section
	Requirements    []Requirement
}

// Package validate collects field errors from domain rules so the web layer
// can show them in an NHS.UK error summary, each beside its field, in the
// order the fields appear.
package validate

import (
	"errors"
	"strings"
)

// FieldError is one problem with one field, in words a person can act on.
type FieldError struct {
	Field   string
	Message string
}

// Errors is a list of field errors; it is an error itself when non-empty.
type Errors struct {
	List []FieldError
}

// Add records a problem with field.
func (e *Errors) Add(field, message string) { e.List = append(e.List, FieldError{field, message}) }

// Required records a problem when value is blank.
func (e *Errors) Required(field, value, message string) bool {
	if strings.TrimSpace(value) == "" {
		e.Add(field, message)
		return false
	}
	return true
}

// Has reports whether field has a problem.
func (e *Errors) Has(field string) bool { return e.For(field) != "" }

// For returns the first message for field, or "".
func (e *Errors) For(field string) string {
	if e == nil {
		return ""
	}
	for _, f := range e.List {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// Err returns e when it holds problems, nil otherwise.
func (e *Errors) Err() error {
	if e == nil || len(e.List) == 0 {
		return nil
	}
	return e
}

func (e *Errors) Error() string {
	msgs := make([]string, len(e.List))
	for i, f := range e.List {
		msgs[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

// As extracts field errors from err, if it carries them.
func As(err error) (*Errors, bool) {
	var v *Errors
	ok := errors.As(err, &v)
	return v, ok
}

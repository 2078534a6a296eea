package documents

// RejectError is a refused upload. Message is plain English for the person
// and says what to do.
//
// It is a distinct type, rather than a plain error, so that the upload
// handler can tell "your file is not acceptable" (shown to the person, HTTP
// 422 or a form error) apart from failures of ours (logged, shown as a
// generic problem): only a RejectError's Message is ever safe and useful to
// show. Use errors.As to find one.
type RejectError struct{ Message string }

// Error returns the message meant for the person.
func (e *RejectError) Error() string { return e.Message }

package authz

import (
	"slices"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/rbac"
	"github.com/casbin/casbin/v2/util"
)

// indexedMatcher and indexedEffect are the matcher and effect of
// policies/model.conf (as casbin stores them, "." written "_") that
// permissions answers for. casbin's enforcer evaluates the matcher
// against every policy line with its expression evaluator, which costs
// about a microsecond a line and allocates as it goes; with the policy
// file's sixty lines and 100,000 role assignments a check took 60-80 µs at
// the median and over 600 µs at p99, much of the tail being the garbage
// collector. The matcher only holds when the object and action are equal,
// so looking the lines up by those two first leaves the one or two lines
// that can match.
const (
	indexedMatcher = "g(r_sub, p_sub, r_dom) && keyMatch(r_dom, p_dom) && r_obj == p_obj && r_act == p_act"
	indexedEffect  = "some(where (p_eft == allow))"
)

// permissions is the policy lines by object and action. It answers
// exactly as the matcher does: a line allows when its object and action
// are the request's, the request's domain matches its domain pattern
// (casbin's keyMatch) and the user holds its role in the request's domain
// (casbin's role manager, the same g the matcher calls).
type permissions struct {
	roles rbac.RoleManager
	lines map[[2]string][]roleIn // object, action -> who
}

// roleIn is the subject and domain pattern of one policy line.
type roleIn struct{ role, domain string }

// indexPermissions indexes the model's policy lines, or returns nil when
// the model is not the one the index answers for (another matcher, effect
// or request shape): then checks go through casbin's evaluator.
func indexPermissions(m model.Model, roles rbac.RoleManager) *permissions {
	matcher, effect := m["m"]["m"], m["e"]["e"]
	request, policy := m["r"]["r"], m["p"]["p"]
	shape := []string{"_sub", "_dom", "_obj", "_act"}
	if matcher == nil || effect == nil || request == nil || policy == nil || len(m["g"]) != 1 ||
		matcher.Value != indexedMatcher || effect.Value != indexedEffect ||
		!slices.Equal(request.Tokens, prefixed("r", shape)) || !slices.Equal(policy.Tokens, prefixed("p", shape)) {
		return nil
	}
	p := &permissions{roles: roles, lines: map[[2]string][]roleIn{}}
	for _, line := range policy.Policy {
		key := [2]string{line[2], line[3]}
		p.lines[key] = append(p.lines[key], roleIn{role: line[0], domain: line[1]})
	}
	return p
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// allowed is the matcher's answer for the request.
func (p *permissions) allowed(user, domain, obj, act string) (bool, error) {
	for _, l := range p.lines[[2]string{obj, act}] {
		if !util.KeyMatch(domain, l.domain) {
			continue
		}
		ok, err := p.roles.HasLink(user, l.role, domain)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

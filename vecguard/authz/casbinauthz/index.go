package casbinauthz

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// ruleIndex is the compiled policy: the rules bucketed by (subject,
// tenant), each bucket split into exact collection names and patterns.
// Only the Authorizer's cold path uses it, under the Authorizer's mutex:
// edits update it in place, reloads rebuild it.
type ruleIndex struct {
	buckets  map[bucketKey]*bucket
	entries  map[string]*entry // by policy line fields
	next     int               // the position of the next rule added
	problems []error           // the invalid rules, compiled fail-closed
	refs     map[string]bool   // the attributes the rules refer to ($sub.<name>)
}

type bucketKey struct{ subject, tenant string }

type bucket struct {
	exact    map[string][]*entry
	patterns []*entry
}

// entry is a compiled rule in the index, with its position in the policy
// (decisions list rules in policy order).
type entry struct {
	*rule
	seq int
}

func ruleKey(fields []string) string { return strings.Join(fields, "\x00") }

// newRuleIndex compiles the p lines of a policy.
func newRuleIndex(lines [][]string) *ruleIndex {
	x := &ruleIndex{buckets: make(map[bucketKey]*bucket), entries: make(map[string]*entry, len(lines)), refs: map[string]bool{}}
	for _, fields := range lines {
		x.add(fields)
	}
	return x
}

// add compiles and indexes one rule. An invalid allow rule is kept out of
// the buckets: it grants nothing.
func (x *ruleIndex) add(fields []string) {
	key := ruleKey(fields)
	if x.entries[key] != nil {
		return
	}
	e := &entry{rule: compileRule(fields), seq: x.next}
	x.next++
	x.entries[key] = e
	for _, r := range e.refs {
		if r != "id" && r != "tenant" { // the subject and tenant are in every key
			x.refs[r] = true
		}
	}
	if e.err != nil {
		x.problems = append(x.problems, e.err)
		if !e.deny {
			return
		}
	}
	bk := bucketKey{e.subject, e.tenant}
	b := x.buckets[bk]
	if b == nil {
		b = &bucket{exact: map[string][]*entry{}}
		x.buckets[bk] = b
	}
	if e.coll.isExact() {
		b.exact[e.coll.exact] = append(b.exact[e.coll.exact], e)
	} else {
		b.patterns = append(b.patterns, e)
	}
}

// remove drops one rule from the index.
func (x *ruleIndex) remove(fields []string) {
	key := ruleKey(fields)
	e := x.entries[key]
	if e == nil {
		return
	}
	delete(x.entries, key)
	bk := bucketKey{e.subject, e.tenant}
	b := x.buckets[bk]
	if b == nil {
		return
	}
	drop := func(es []*entry) []*entry {
		return slices.DeleteFunc(es, func(o *entry) bool { return o == e })
	}
	if e.coll.isExact() {
		if es := drop(b.exact[e.coll.exact]); len(es) > 0 {
			b.exact[e.coll.exact] = es
		} else {
			delete(b.exact, e.coll.exact)
		}
	} else {
		b.patterns = drop(b.patterns)
	}
	if len(b.exact) == 0 && len(b.patterns) == 0 {
		delete(x.buckets, bk)
	}
}

// decide compiles the decision for principal p, whose subject and roles
// expand (through the role links of its tenant) to names, on action a and
// collection coll.
func (x *ruleIndex) decide(p *authz.Principal, names []string, a authz.Action, coll string) authz.Decision {
	var matched []*entry
	tenants := []string{Everyone}
	if p.Tenant != "" {
		tenants = []string{p.Tenant, Everyone}
	}
	for _, n := range append(names, Everyone) {
		for _, t := range tenants {
			b := x.buckets[bucketKey{n, t}]
			if b == nil {
				continue
			}
			for _, r := range b.exact[coll] {
				if r.applies(a, coll) {
					matched = append(matched, r)
				}
			}
			for _, r := range b.patterns {
				if r.applies(a, coll) {
					matched = append(matched, r)
				}
			}
		}
	}
	slices.SortFunc(matched, func(a, b *entry) int { return a.seq - b.seq })

	// Deny rules first: one that covers every row decides.
	var denies []*driver.Filter
	for _, r := range matched {
		if !r.deny {
			continue
		}
		f, _ := r.cond.bind(p, bindDeny)
		if a == authz.Admin && !isFalse(f) {
			f = nil // admin has no rows: a deny that could apply, applies
		}
		if f == nil {
			reason := fmt.Sprintf("%s on %q is denied to %q by a deny rule", a, coll, r.subject)
			if r.err != nil {
				reason += " (the rule is invalid and applies as widely as it could)"
			} else if missing := missingRefs(p, r.refs); len(missing) > 0 {
				reason += " (the principal lacks attribute " + strings.Join(missing, ", ") + ")"
			}
			return authz.Decision{Allow: false, Rule: r.text, Reason: reason}
		}
		if !isFalse(f) {
			denies = append(denies, f)
		}
	}

	var allows []*driver.Filter
	var allowRules, allowSubjects []string
	var lacking []string
	all := false
	for _, r := range matched {
		if r.deny {
			continue
		}
		f, ok := r.cond.bind(p, bindAllow)
		if !ok {
			for _, m := range missingRefs(p, r.refs) {
				if !slices.Contains(lacking, m) {
					lacking = append(lacking, m)
				}
			}
			continue
		}
		if isFalse(f) || a == authz.Admin && f != nil {
			continue // admin has no rows: only an unconditional allow grants it
		}
		allowRules = append(allowRules, r.text)
		if !slices.Contains(allowSubjects, r.subject) {
			allowSubjects = append(allowSubjects, r.subject)
		}
		if f == nil {
			all = true
		}
		allows = append(allows, f)
	}
	if len(allows) == 0 {
		reason := fmt.Sprintf("no rule allows %s on %q", a, coll)
		if p.Tenant != "" {
			reason += fmt.Sprintf(" in tenant %q", p.Tenant)
		}
		if len(lacking) > 0 {
			reason += " (rules that would need principal attribute " + strings.Join(lacking, ", ") + ")"
		}
		return authz.Decision{Allow: false, Rule: "default deny", Reason: reason}
	}
	var allowF *driver.Filter
	if !all {
		allowF = fOr(dedupe(allows)...)
	}
	f := fAnd(allowF, fNot(fOr(dedupe(denies)...)))
	rule := allowRules[0]
	if len(allowRules) > 1 {
		rule += " (+" + strconv.Itoa(len(allowRules)-1) + " more)"
	}
	if isFalse(f) {
		return authz.Decision{Allow: false, Rule: rule,
			Reason: fmt.Sprintf("%s on %q: deny rules exclude every row the allow rules grant", a, coll)}
	}
	reason := fmt.Sprintf("%s on %q allowed to %s", a, coll, quoteAll(allowSubjects))
	switch {
	case len(denies) > 0:
		reason += " for the rows the rule conditions select, less those of " + strconv.Itoa(len(denies)) + " deny rule(s)"
	case f != nil:
		reason += " for the rows the rule conditions select"
	}
	return authz.Decision{Allow: true, Filter: f, Rule: rule, Reason: reason}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
		if s == Everyone {
			q[i] = "every principal"
		}
	}
	return strings.Join(q, ", ")
}

// dedupe drops repeated filters (the same condition reached through
// several roles).
func dedupe(fs []*driver.Filter) []*driver.Filter {
	if len(fs) < 2 {
		return fs
	}
	seen := make(map[string]bool, len(fs))
	out := fs[:0:0]
	for _, f := range fs {
		k := f.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

// missingRefs returns the references of refs that p cannot bind.
func missingRefs(p *authz.Principal, refs []string) []string {
	var out []string
	for _, r := range refs {
		if _, ok := (term{isRef: true, ref: r}).resolve(p); !ok {
			out = append(out, r)
		}
	}
	return out
}

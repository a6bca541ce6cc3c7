package casbinauthz

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// AnyAction in a rule stands for every action.
const AnyAction authz.Action = "*"

// Everyone as a rule's subject stands for every principal; as a rule's or a
// role link's tenant, for every tenant.
const Everyone = "*"

// Rule is one policy line:
//
//	p, Subject, Tenant, Collection, Action, allow|deny[, Condition]
type Rule struct {
	// Subject is a role, a subject ID, or Everyone.
	Subject string
	// Tenant is the tenant the rule applies in, or Everyone for all.
	Tenant string
	// Collection is a collection name or pattern (see "Collection patterns").
	Collection string
	// Action is one of the authz actions or AnyAction.
	Action authz.Action
	// Deny makes the rule a deny rule: it overrides every allow.
	Deny bool
	// Condition restricts the rule to the rows it matches; "" means all
	// rows (see "Condition language").
	Condition string
}

// fields returns the rule as the six fields of a p line.
func (r Rule) fields() []string {
	eft := "allow"
	if r.Deny {
		eft = "deny"
	}
	return []string{r.Subject, r.Tenant, r.Collection, string(r.Action), eft, r.Condition}
}

// String returns the rule as a policy line, quoted as the policy file needs.
func (r Rule) String() string { return formatLine("p", r.fields()) }

// formatLine writes one CSV policy line with ", " separators, quoting the
// fields that need it and leaving out an empty trailing condition.
func formatLine(ptype string, fields []string) string {
	if ptype == "p" && len(fields) == 6 && fields[5] == "" {
		fields = fields[:5]
	}
	var b strings.Builder
	b.WriteString(ptype)
	for _, f := range fields {
		b.WriteString(", ")
		if f == "" || strings.ContainsAny(f, ",\"#") || strings.TrimSpace(f) != f {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(f, `"`, `""`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(f)
	}
	return b.String()
}

// rule is a compiled policy line. Rules are immutable once compiled and
// shared between index generations.
type rule struct {
	text    string // the policy line, for Decision.Rule
	subject string // a name or Everyone
	tenant  string // a tenant or Everyone
	coll    pattern
	action  authz.Action // AnyAction for all
	deny    bool
	cond    *expr
	refs    []string // the attributes cond refers to
	err     error    // why the rule is invalid; see compileRule
}

// validName reports whether s may name a subject, role or tenant in a
// policy: 1 to 256 bytes, no control characters, commas or double quotes,
// no surrounding blanks.
func validName(s string) bool {
	if s == "" || len(s) > 256 || strings.TrimSpace(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || s[i] == ',' || s[i] == '"' {
			return false
		}
	}
	return true
}

func validTenant(s string) bool { return s == Everyone || validName(s) && !strings.Contains(s, "*") }

// compileRule compiles the fields of a p line. It never fails: a rule that
// cannot be understood records why in err and is compiled fail-closed. An
// invalid allow rule grants nothing (it is left out of the index). An
// invalid deny rule, and a rule whose effect is neither allow nor deny,
// denies as widely as its unreadable fields allow: an unreadable subject
// means everyone, tenant every tenant, collection every collection, action
// every action and condition every row.
func compileRule(fields []string) *rule {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	fields = append([]string(nil), fields...)
	for len(fields) < 6 {
		fields = append(fields, "")
	}
	sub, dom, obj, act, eft, cond := fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	r := &rule{text: formatLine("p", fields[:6]), subject: sub, tenant: dom, action: authz.Action(act)}
	if len(fields) > 6 {
		bad("a rule has at most 6 fields")
	}
	switch eft {
	case "allow":
	case "deny":
		r.deny = true
	default:
		r.deny = true
		bad("effect %q is neither allow nor deny", eft)
	}
	if sub != Everyone && !validName(sub) {
		r.subject = Everyone
		bad("invalid subject %q", sub)
	}
	if !validTenant(dom) {
		r.tenant = Everyone
		bad("invalid tenant %q", dom)
	}
	var err error
	if r.coll, err = parsePattern(obj); err != nil {
		r.coll = pattern{all: true}
		errs = append(errs, err)
	}
	if r.action != AnyAction && !r.action.Valid() {
		r.action = AnyAction
		bad("unknown action %q", act)
	}
	if r.cond, err = parseCond(cond); err != nil {
		r.cond = nil
		errs = append(errs, err)
	}
	r.refs = r.cond.refs()
	if len(errs) > 0 {
		r.err = &driver.Error{Code: driver.InvalidArgument, Msg: "policy rule " + r.text, Err: errors.Join(errs...)}
	}
	return r
}

// applies reports whether the rule covers action a on collection coll.
func (r *rule) applies(a authz.Action, coll string) bool {
	return (r.action == AnyAction || r.action == a) && r.coll.match(coll)
}

// roleLinkError checks the fields of a g line.
func roleLinkError(member, role, tenant string) error {
	switch {
	case !validName(member) || member == Everyone:
		return driver.Errorf(driver.InvalidArgument, "invalid role member %q", member)
	case !validName(role) || role == Everyone:
		return driver.Errorf(driver.InvalidArgument, "invalid role %q", role)
	case !validTenant(tenant):
		return driver.Errorf(driver.InvalidArgument, "invalid tenant %q", tenant)
	}
	return nil
}

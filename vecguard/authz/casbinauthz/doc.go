// Package casbinauthz is the default authz.Authorizer of vecguard:
// namespace- and row-level access control from a Casbin policy.
//
// Casbin stores the policy (any Casbin adapter, or a policy file), keeps
// the role links (RBAC with domains, one domain per tenant) and carries the
// Watcher protocol between instances. The Authorizer does not call Casbin's
// Enforce: it compiles the policy into its own index and compiles each
// decision, row filter included, once per principal shape, collection and
// action, then serves it from a bounded cache that every policy or role
// change invalidates. No Casbin type appears in this package's API.
//
//	a, err := casbinauthz.LoadFile("policies/rag.csv", nil)
//	client := vecguard.New(drv, &vecguard.Options{Authorizer: a})
//
// # Policy format
//
// A policy is CSV lines; blank lines and lines starting with '#' are
// ignored, fields are separated by commas and may be double-quoted (a
// condition holding a comma must be, and should then write its string
// literals in single quotes).
//
//	p, subject, tenant, collection, action, effect[, condition]
//	g, member, role, tenant
//
// A p line is a rule. subject is a role, a subject ID (the rule then
// applies to that principal alone) or * for every principal. tenant is a
// tenant, or * for every tenant. collection is a collection name or pattern
// (see below). action is read, write, delete, admin (create and drop
// collections, manage indexes), read_vectors (have stored vectors returned,
// on top of read), or * for all of them. effect is allow or deny.
// condition, when present, restricts the rule to some rows (see below).
//
// A g line makes member (a subject ID or a role) inherit role within tenant
// (* for every tenant). Inheritance is transitive and may form cycles. A
// principal's names are its Subject and its Roles (roles its credentials
// grant in its tenant) together with every role they inherit through the g
// lines of its tenant and of *; the rules of those names in its tenant and
// in * apply to it.
//
//	p, viewer, acme, docs, read, allow, "department == $sub.department or public == true"
//	p, viewer, acme, docs, read, deny, clearance > $sub.clearance
//	p, editor, acme, docs, write, allow, department == $sub.department
//	p, alice, acme, docs, read, allow, owner == $sub.id
//	g, editor, viewer, acme
//	g, alice, editor, acme
//
// # Collection patterns
//
// A collection name is a sequence of segments (letters and digits)
// separated by '-' or '_'. In a pattern, a segment * matches exactly one
// segment, and ** as the last segment matches any non-empty rest of the
// name; literal segments and separators match exactly. The pattern * alone
// matches every collection.
//
//	acme-*     acme-docs, acme-faq          not acme, acme-docs-v2, acme_docs, acmecorp-docs
//	acme-**    acme-docs, acme-docs-v2      not acme, acme_docs
//	*-docs     acme-docs, globex-docs       not docs, acme-hr-docs
//
// A * inside a segment is refused: acme* would match acme-evil and
// acmecorp as well as acme's own collections. Note that acme-* does match a
// collection named acme-evil: name collections so that one tenant's prefix
// is never a segment-prefix of another's, or list them exactly.
//
// # Condition language
//
// A condition is a boolean expression over payload fields:
//
//	cond  = cond "or" cond | cond "and" cond | "not" cond | "(" cond ")" | "true" | "false" | atom
//	atom  = field op value | value op field | field ["not"] "in" "[" value {"," value} "]"
//	op    = "==" | "!=" | "<" | "<=" | ">" | ">="
//	value = 'string' | "string" | integer | float | true | false | $sub.id | $sub.tenant | $sub.<attribute>
//
// not binds tighter than and, and tighter than or. field is a declared
// filterable payload field of the collection. Strings accept the escapes
// \\, \' and \". $sub.id is the principal's Subject, $sub.tenant its
// Tenant, $sub.<name> its attribute <name>; their values are bound as typed
// filter values, never spliced into text. The comparisons keep the filter
// semantics of vecguard: == and in need the field present and equal; !=
// and not in are also true when the field is absent or null; an ordering
// (<, <=, >, >=) needs a number and is false when the field is absent, so
// a deny on "clearance > 3" does not cover rows without a clearance.
// Conditions are limited to 4096 bytes, 256 nodes, 16 levels of nesting
// and 256 values in a list.
//
// A reference the principal cannot bind (no such attribute, an empty
// tenant, or a non-number under an ordering) makes the condition unknown.
// An allow rule with an unknown condition does not apply: it grants
// nothing. A deny rule with an unknown condition applies to every row it
// could apply to for some value of the reference: each comparison holding
// an unbound reference is taken as true, or as false under a not (so
// "classified == true and region != $sub.region" denies every classified
// row to a principal without a region). Missing attributes therefore never
// widen access.
//
// # Precedence
//
// For one principal, action and collection, the rules that apply are
// combined as: (OR of the allow conditions) AND NOT (OR of the deny
// conditions). A deny rule without a condition (or whose condition covers
// every row) denies the action outright, whatever the allows. No applying
// allow rule means deny. The decision's Filter is that combination (nil
// when every row is allowed); Rule names the deciding rule and Reason says
// why, for the audit log and the caller's error.
//
// admin concerns a whole collection, not rows: only an allow rule without
// a condition grants it (so "p, author, acme, docs, *, allow, owner ==
// $sub.id" does not let authors drop docs), and a deny rule with any
// condition that could hold denies it.
//
// # Tenants
//
// A principal's rules are those of its own tenant and of *; rules and role
// links of other tenants never apply to it. The guarded client adds tenant
// isolation (the collection's tenant field equals the principal's tenant)
// on top of the decision's filter for every collection that declares a
// tenant field, so no rule, not even one of tenant *, can reach another
// tenant's rows there. A principal without a tenant gets only the rules of
// tenant *, and no access to tenant-isolated collections.
//
// # Invalid rules
//
// New refuses a policy with an invalid rule, and AddRules an invalid rule.
// A policy loaded later (Reload, Watcher) is put in force with its invalid
// rules compiled fail-closed and reported: an invalid allow rule grants
// nothing; an invalid deny rule, or a rule whose effect is neither allow
// nor deny, denies as widely as its unreadable fields allow (an unreadable
// subject is every principal, tenant every tenant, collection every
// collection, action every action, condition every row). A policy that
// cannot be parsed at all is not loaded: the previous one stays in force.
//
// # Changes and caching
//
// A decision is compiled once per subject, tenant, set of roles, values of
// the attributes the rules refer to (other attributes do not split the
// cache), collection and action, and kept in a bounded cache
// (Options.CacheSize); the Filter of a cached decision is shared by the
// requests of that shape and, like every Filter, must not be modified.
//
// Every change made through AddRules, RemoveRules, AddRole, RemoveRole and
// Reload, and every change another instance reports through the Watcher,
// bumps the policy generation; cached decisions belong to one generation,
// so none survives a change (Casbin's own CachedEnforcer misses role-link
// changes). A File source writes changes through to the file; with a
// Watcher, the other instances reload. For a policy file that is edited or
// replaced outside the program, a FileWatcher reloads on change (Run polls,
// Check polls once).
//
// # Errors
//
// Authorize returns an error only when it cannot decide: a canceled
// context, no principal (Unauthenticated), a failing role manager. A
// denial is a Decision with Allow false; the guarded client turns it into
// PermissionDenied with the decision's Reason. Edits return InvalidArgument
// for an invalid rule and Unavailable when the policy store fails.
package casbinauthz

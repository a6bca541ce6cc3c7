package casbinauthz_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	fileadapter "github.com/casbin/casbin/v2/persist/file-adapter"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

const testPolicy = `# tenants acme and globex
p, viewer, acme, docs, read, allow, department == $sub.department
p, viewer, acme, docs, read, allow, public == true
p, viewer, acme, docs, read, deny, clearance > $sub.clearance
p, editor, acme, docs, write, allow, department == $sub.department
p, editor, acme, docs, delete, allow, "department == $sub.department and owner in [$sub.id, 'nobody']"
p, alice, acme, docs, read, allow, owner == $sub.id
p, admin, acme, acme-**, *, allow
p, contractor, acme, docs, read, deny
p, *, *, public-*, read, allow
p, analyst, globex, docs, read, allow
p, analyst, globex, docs, read_vectors, allow, owner == $sub.id
p, auditor, *, docs, read, allow, public == true
p, author, acme, docs, *, allow, owner == $sub.id
p, intern, acme, acme-**, *, deny, public == false
g, editor, viewer, acme
g, alice, editor, acme
g, bob, viewer, acme
g, erin, auditor, *
`

func newTestAuthorizer(t testing.TB, policy string) *casbinauthz.Authorizer {
	t.Helper()
	a, err := casbinauthz.New(casbinauthz.Text(policy), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	alice = authz.Principal{Subject: "alice", Tenant: "acme", Attributes: map[string]any{"department": "eng", "clearance": int64(2)}}
	bob   = authz.Principal{Subject: "bob", Tenant: "acme", Attributes: map[string]any{"department": "sales", "clearance": 1}}
)

func TestDecisions(t *testing.T) {
	a := newTestAuthorizer(t, testPolicy)
	tests := []struct {
		name   string
		p      authz.Principal
		act    authz.Action
		coll   string
		allow  bool
		filter string // with allow
		rule   string // substring of Decision.Rule
		reason string // substring of Decision.Reason
	}{
		{"role inherited through two links, subject rule, deny subtracts", alice, authz.Read, "docs", true,
			`((department == "eng" or public == true or owner == "alice") and not (2 < clearance))`,
			"department == $sub.department (+2 more)", `allowed to "viewer", "alice"`},
		{"direct role link", bob, authz.Read, "docs", true,
			`((department == "sales" or public == true) and not (1 < clearance))`, "p, viewer, acme, docs", "less those of 1 deny"},
		{"write through editor", alice, authz.Write, "docs", true, `department == "eng"`, "p, editor, acme, docs, write", ""},
		{"condition with a list", alice, authz.Delete, "docs", true, `(department == "eng" and owner in ["alice", "nobody"])`, "", ""},
		{"no write rule", bob, authz.Write, "docs", false, "", "default deny", `no rule allows write on "docs" in tenant "acme"`},
		{"missing attribute: allow skipped", authz.Principal{Subject: "bob", Tenant: "acme", Attributes: map[string]any{"clearance": 5}}, authz.Read, "docs", true,
			"(public == true and not (5 < clearance))", "public == true", ""},
		{"missing attribute: deny widened", authz.Principal{Subject: "bob", Tenant: "acme", Attributes: map[string]any{"department": "sales"}}, authz.Read, "docs", false, "",
			"clearance > $sub.clearance", "lacks attribute clearance"},
		{"unconditional deny overrides allows", authz.Principal{Subject: "carol", Tenant: "acme", Roles: []string{"viewer", "contractor"}, Attributes: map[string]any{"clearance": 9}}, authz.Read, "docs", false, "",
			"p, contractor, acme, docs, read, deny", `denied to "contractor"`},
		{"token role expands through role links", authz.Principal{Subject: "zed", Tenant: "acme", Roles: []string{"editor"}, Attributes: map[string]any{"department": "hr", "clearance": 0}}, authz.Read, "docs", true,
			`((department == "hr" or public == true) and not (0 < clearance))`, "", ""},
		{"links of another tenant do not apply", authz.Principal{Subject: "alice", Tenant: "globex", Attributes: alice.Attributes}, authz.Read, "docs", false, "", "default deny", `in tenant "globex"`},
		{"rules of another tenant do not apply", authz.Principal{Subject: "x", Tenant: "acme", Roles: []string{"analyst"}}, authz.Read, "docs", false, "", "default deny", ""},
		{"tenant rule", authz.Principal{Subject: "x", Tenant: "globex", Roles: []string{"analyst"}}, authz.Read, "docs", true, "true", "analyst", ""},
		{"read_vectors is its own action", authz.Principal{Subject: "x", Tenant: "globex", Roles: []string{"analyst"}}, authz.ReadVectors, "docs", true, `owner == "x"`, "", ""},
		{"read does not grant write", authz.Principal{Subject: "x", Tenant: "globex", Roles: []string{"analyst"}}, authz.Write, "docs", false, "", "", ""},
		{"role link in every tenant", authz.Principal{Subject: "erin", Tenant: "globex"}, authz.Read, "docs", true, "public == true", "auditor", ""},
		{"rule in every tenant", authz.Principal{Subject: "y", Tenant: "initech", Roles: []string{"auditor"}}, authz.Read, "docs", true, "public == true", "", ""},
		{"everyone rule without tenant", authz.Principal{Subject: "anon"}, authz.Read, "public-faq", true, "true", "p, *, *, public-*", "every principal"},
		{"everyone rule: one segment only", authz.Principal{Subject: "anon"}, authz.Read, "public-faq-v2", false, "", "", ""},
		{"pattern with any action", authz.Principal{Subject: "d", Tenant: "acme", Roles: []string{"admin"}}, authz.Admin, "acme-docs-v2", true, "true", "acme-**", ""},
		{"pattern: no prefix matching", authz.Principal{Subject: "d", Tenant: "acme", Roles: []string{"admin"}}, authz.Admin, "acmecorp-docs", false, "", "", ""},
		{"pattern: not the bare prefix", authz.Principal{Subject: "d", Tenant: "acme", Roles: []string{"admin"}}, authz.Read, "acme", false, "", "", ""},
		{"admin: a conditional allow does not grant it", authz.Principal{Subject: "w", Tenant: "acme", Roles: []string{"author"}}, authz.Admin, "docs", false, "", "default deny", ""},
		{"admin: a conditional allow still grants row actions", authz.Principal{Subject: "w", Tenant: "acme", Roles: []string{"author"}}, authz.Delete, "docs", true, `owner == "w"`, "author", ""},
		{"admin: a conditional deny denies it", authz.Principal{Subject: "d", Tenant: "acme", Roles: []string{"admin", "intern"}}, authz.Admin, "acme-docs", false, "", "intern", "deny rule"},
		{"admin: a conditional deny only narrows row actions", authz.Principal{Subject: "d", Tenant: "acme", Roles: []string{"admin", "intern"}}, authz.Read, "acme-docs", true, "not public == false", "", ""},
		{"unknown subject", authz.Principal{Subject: "mallory", Tenant: "acme"}, authz.Read, "docs", false, "", "default deny", ""},
		{"unknown action", alice, authz.Action("root"), "docs", false, "", "", "unknown action"},
		{"invalid collection", alice, authz.Read, "docs;drop", false, "", "", "invalid collection"},
		{"tenant * is no tenant", authz.Principal{Subject: "alice", Tenant: "*"}, authz.Read, "docs", false, "", "", "invalid tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // compiled, then cached
				d, err := a.Authorize(context.Background(), &tt.p, tt.act, tt.coll)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allow != tt.allow {
					t.Fatalf("Allow = %v, want %v (rule %q, reason %q)", d.Allow, tt.allow, d.Rule, d.Reason)
				}
				if tt.allow && d.Filter.String() != tt.filter {
					t.Errorf("Filter = %s, want %s", d.Filter, tt.filter)
				}
				if !tt.allow && d.Filter != nil {
					t.Errorf("a denial carries filter %s", d.Filter)
				}
				if !strings.Contains(d.Rule, tt.rule) {
					t.Errorf("Rule = %q, want it to contain %q", d.Rule, tt.rule)
				}
				if !strings.Contains(d.Reason, tt.reason) {
					t.Errorf("Reason = %q, want it to contain %q", d.Reason, tt.reason)
				}
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	a := newTestAuthorizer(t, testPolicy)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		p    *authz.Principal
		is   error
	}{
		{"nil principal", context.Background(), nil, vecguard.ErrUnauthenticated},
		{"no subject", context.Background(), &authz.Principal{Tenant: "acme"}, vecguard.ErrUnauthenticated},
		{"canceled", ctx, &alice, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authorize(tt.ctx, tt.p, authz.Read, "docs")
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

// Every kind of change invalidates the decisions cached before it,
// including role-link changes.
func TestChangesInvalidateCachedDecisions(t *testing.T) {
	ctx := context.Background()
	frank := authz.Principal{Subject: "frank", Tenant: "acme", Attributes: map[string]any{"department": "ops", "clearance": 3}}
	tests := []struct {
		name   string
		setup  func(*casbinauthz.Authorizer) error
		change func(*casbinauthz.Authorizer) error
		before bool // frank may read docs before the change
	}{
		{"AddRules", nil, func(a *casbinauthz.Authorizer) error {
			return a.AddRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read})
		}, false},
		{"RemoveRules", func(a *casbinauthz.Authorizer) error {
			return a.AddRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read})
		}, func(a *casbinauthz.Authorizer) error {
			return a.RemoveRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read})
		}, true},
		{"AddRole", nil, func(a *casbinauthz.Authorizer) error { return a.AddRole(ctx, "frank", "viewer", "acme") }, false},
		{"AddRole to an inherited role", func(a *casbinauthz.Authorizer) error {
			return a.AddRole(ctx, "frank", "team", "acme")
		}, func(a *casbinauthz.Authorizer) error { return a.AddRole(ctx, "team", "editor", "acme") }, false},
		{"RemoveRole", func(a *casbinauthz.Authorizer) error { return a.AddRole(ctx, "frank", "viewer", "acme") },
			func(a *casbinauthz.Authorizer) error { return a.RemoveRole(ctx, "frank", "viewer", "acme") }, true},
		{"RemoveRole inside the chain", func(a *casbinauthz.Authorizer) error { return a.AddRole(ctx, "frank", "editor", "acme") },
			func(a *casbinauthz.Authorizer) error { return a.RemoveRole(ctx, "editor", "viewer", "acme") }, true},
		{"AddRules deny", func(a *casbinauthz.Authorizer) error { return a.AddRole(ctx, "frank", "viewer", "acme") },
			func(a *casbinauthz.Authorizer) error {
				return a.AddRules(ctx, casbinauthz.Rule{Subject: "frank", Tenant: "*", Collection: "*", Action: casbinauthz.AnyAction, Deny: true})
			}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthorizer(t, testPolicy)
			if tt.setup != nil {
				if err := tt.setup(a); err != nil {
					t.Fatal(err)
				}
			}
			d, err := a.Authorize(ctx, &frank, authz.Read, "docs")
			if err != nil || d.Allow != tt.before {
				t.Fatalf("before: allow = %v, %v; want %v", d.Allow, err, tt.before)
			}
			gen := a.Generation()
			if err := tt.change(a); err != nil {
				t.Fatal(err)
			}
			if a.Generation() == gen {
				t.Error("the change did not bump the generation")
			}
			d, err = a.Authorize(ctx, &frank, authz.Read, "docs")
			if err != nil || d.Allow == tt.before {
				t.Fatalf("after: allow = %v, %v; want %v (reason %q)", d.Allow, err, !tt.before, d.Reason)
			}
		})
	}
}

func TestEditsAreIdempotentAndValidated(t *testing.T) {
	ctx := context.Background()
	a := newTestAuthorizer(t, testPolicy)
	r := casbinauthz.Rule{Subject: "frank", Tenant: "acme", Collection: "docs", Action: authz.Read, Condition: "owner == $sub.id"}
	if err := a.AddRules(ctx, r, r); err != nil {
		t.Fatal(err)
	}
	gen := a.Generation()
	if err := a.AddRules(ctx, r); err != nil || a.Generation() != gen {
		t.Fatalf("adding a present rule: %v, generation %d -> %d", err, gen, a.Generation())
	}
	if err := a.RemoveRules(ctx, casbinauthz.Rule{Subject: "nobody", Tenant: "acme", Collection: "docs", Action: authz.Read}); err != nil || a.Generation() != gen {
		t.Fatalf("removing an absent rule: %v", err)
	}
	if !strings.Contains(a.Policy(), "p, frank, acme, docs, read, allow, owner == $sub.id\n") {
		t.Errorf("Policy() lacks the rule:\n%s", a.Policy())
	}
	invalid := []casbinauthz.Rule{
		{Subject: "", Tenant: "acme", Collection: "docs", Action: authz.Read},
		{Subject: "x", Tenant: "", Collection: "docs", Action: authz.Read},
		{Subject: "x", Tenant: "ac*", Collection: "docs", Action: authz.Read},
		{Subject: "x,y", Tenant: "acme", Collection: "docs", Action: authz.Read},
		{Subject: `x"y`, Tenant: "acme", Collection: "docs", Action: authz.Read},
		{Subject: " x", Tenant: "acme", Collection: "docs", Action: authz.Read},
		{Subject: "x", Tenant: "acme", Collection: "acme*", Action: authz.Read},
		{Subject: "x", Tenant: "acme", Collection: "docs", Action: "reed"},
		{Subject: "x", Tenant: "acme", Collection: "docs", Action: authz.Read, Condition: "department = 'x'"},
	}
	for _, r := range invalid {
		err := a.AddRules(ctx, casbinauthz.Rule{Subject: "ok", Tenant: "acme", Collection: "docs", Action: authz.Read}, r)
		if !errors.Is(err, vecguard.ErrInvalidArgument) {
			t.Errorf("AddRules(%s) = %v, want InvalidArgument", r, err)
		}
	}
	if a.Generation() != gen || strings.Contains(a.Policy(), "p, ok,") {
		t.Error("a refused batch changed the policy")
	}
	for _, link := range [][3]string{{"", "r", "acme"}, {"m", "", "acme"}, {"m", "r", ""}, {"*", "r", "acme"}, {"m", "r", "a*"}} {
		if err := a.AddRole(ctx, link[0], link[1], link[2]); !errors.Is(err, vecguard.ErrInvalidArgument) {
			t.Errorf("AddRole(%q) = %v, want InvalidArgument", link, err)
		}
	}
}

func TestNewRefusesInvalidPolicies(t *testing.T) {
	tests := []struct {
		name, policy, msg string
	}{
		{"bad condition", "p, viewer, acme, docs, read, allow, department = 'x'", "unknown operator"},
		{"prefix pattern", "p, viewer, acme, acme*, read, allow", "whole segment"},
		{"bad effect", "p, viewer, acme, docs, read, permit", "neither allow nor deny"},
		{"bad action", "p, viewer, acme, docs, reed, allow", "unknown action"},
		{"bad tenant", "p, viewer, ac*me, docs, read, allow", "invalid tenant"},
		{"too few fields", "p, viewer, acme, docs, read", "5 or 6 fields"},
		{"too many fields", "p, viewer, acme, docs, read, allow, true, x", "5 or 6 fields"},
		{"short g line", "g, alice, viewer", "3 fields"},
		{"unknown line", "x, alice, viewer, acme", "unknown line type"},
		{"bad quoting", `p, viewer, acme, docs, read, allow, dept == "x"`, "bare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := casbinauthz.New(casbinauthz.Text(tt.policy), nil)
			if !errors.Is(err, vecguard.ErrInvalidArgument) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("New = %v, want InvalidArgument containing %q", err, tt.msg)
			}
		})
	}
	if _, err := casbinauthz.LoadFile(filepath.Join(t.TempDir(), "missing.csv"), nil); !errors.Is(err, vecguard.ErrUnavailable) {
		t.Errorf("LoadFile(missing) = %v, want Unavailable", err)
	}
	if _, err := casbinauthz.New(casbinauthz.CasbinAdapter("not an adapter"), nil); !errors.Is(err, vecguard.ErrInvalidArgument) {
		t.Errorf("CasbinAdapter(string) = %v, want InvalidArgument", err)
	}
	if _, err := casbinauthz.New(casbinauthz.Source{}, nil); !errors.Is(err, vecguard.ErrInvalidArgument) {
		t.Errorf("New(Source{}) = %v, want InvalidArgument", err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A reloaded policy with invalid rules is put in force fail-closed: an
// invalid allow grants nothing, an invalid deny denies as widely as it
// could. A policy that does not parse leaves the previous one in force.
func TestReloadFailsClosed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.csv")
	base := "p, viewer, acme, docs, read, allow\np, viewer, acme, faq, read, allow\ng, bob, viewer, acme\n"
	writeFile(t, path, base)
	a, err := casbinauthz.LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(coll string) bool {
		d, err := a.Authorize(ctx, &bob, authz.Read, coll)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	tests := []struct {
		name     string
		policy   string
		reloadOK bool
		docs     bool
		faq      bool
	}{
		{"valid", base, true, true, true},
		{"invalid allow grants nothing", base + "p, viewer, acme, news, read, allow, x = 1\n", false, true, true},
		{"invalid deny condition: every row", base + "p, viewer, acme, docs, read, deny, x = 1\n", false, false, true},
		{"invalid deny pattern: every collection", base + "p, viewer, acme, acme*, read, deny\n", false, false, false},
		{"invalid deny action: every action", base + "p, viewer, acme, docs, reed, deny\n", false, false, true},
		{"invalid effect is a deny", base + "p, viewer, acme, faq, read, alow\n", false, true, false},
		{"invalid deny subject: everyone", base + "p, , acme, docs, read, deny\n", false, false, true},
		{"invalid deny tenant: every tenant", base + "p, viewer, a*, faq, read, deny\n", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, path, tt.policy)
			err := a.Reload(ctx)
			if tt.reloadOK != (err == nil) {
				t.Fatalf("Reload = %v", err)
			}
			if err != nil && !errors.Is(err, vecguard.ErrInvalidArgument) {
				t.Fatalf("Reload = %v, want InvalidArgument", err)
			}
			if got := allowed("docs"); got != tt.docs {
				t.Errorf("docs allowed = %v, want %v", got, tt.docs)
			}
			if got := allowed("faq"); got != tt.faq {
				t.Errorf("faq allowed = %v, want %v", got, tt.faq)
			}
		})
	}
	t.Run("unparsable keeps the previous policy", func(t *testing.T) {
		writeFile(t, path, base)
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, "p, viewer, acme, docs\n")
		if err := a.Reload(ctx); !errors.Is(err, vecguard.ErrInvalidArgument) {
			t.Fatalf("Reload = %v", err)
		}
		if !allowed("docs") {
			t.Error("the previous policy is not in force")
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := a.Reload(ctx); !errors.Is(err, vecguard.ErrUnavailable) {
			t.Fatalf("Reload(missing file) = %v", err)
		}
		if !allowed("docs") {
			t.Error("the previous policy is not in force")
		}
	})
}

// A File source writes changes through, quoting what needs quoting, and
// Save rewrites it; both read back to the same policy.
func TestFileSourceRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.csv")
	writeFile(t, path, "# comment\np, editor, acme, docs, read, allow, \"tag in ['a', 'b']\"\n")
	a, err := casbinauthz.LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := casbinauthz.Rule{Subject: "editor", Tenant: "acme", Collection: "docs", Action: authz.Write, Condition: `team in ['x, y', "q\"uote"] and owner == $sub.id`}
	if err := a.AddRules(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := a.AddRole(ctx, "bob", "editor", "acme"); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		b, err := casbinauthz.LoadFile(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		p := authz.Principal{Subject: "bob", Tenant: "acme"}
		d, err := b.Authorize(ctx, &p, authz.Write, "docs")
		if err != nil || !d.Allow {
			t.Fatalf("%s: %+v %v", stage, d, err)
		}
		if want := `(team in ["x, y", "q\"uote"] and owner == "bob")`; d.Filter.String() != want {
			t.Errorf("%s: filter %s, want %s", stage, d.Filter, want)
		}
		d, _ = b.Authorize(ctx, &p, authz.Read, "docs")
		if !d.Allow || d.Filter.String() != `tag in ["a", "b"]` {
			t.Errorf("%s: read filter %s", stage, d.Filter)
		}
	}
	check("written through")
	text, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(text), "# comment\n") {
		t.Errorf("write-through lost the comment:\n%s", text)
	}
	if err := a.RemoveRole(ctx, "bob", "editor", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddRole(ctx, "bob", "editor", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx); err != nil {
		t.Fatal(err)
	}
	check("saved")
	if err := a.RemoveRules(ctx, r); err != nil {
		t.Fatal(err)
	}
	b, err := casbinauthz.LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.Policy(), "editor, acme, docs, write") {
		t.Errorf("removed rule still in the file:\n%s", b.Policy())
	}
}

// A Text source keeps edits in memory; Save stores them in the text that
// Reload returns to.
func TestTextSourceSaveAndReload(t *testing.T) {
	ctx := context.Background()
	a := newTestAuthorizer(t, "p, viewer, acme, docs, read, allow\n")
	frank := authz.Principal{Subject: "frank", Tenant: "acme"}
	allowed := func() bool {
		d, err := a.Authorize(ctx, &frank, authz.Read, "docs")
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	steps := []struct {
		name string
		do   func() error
		want bool
	}{
		{"AddRole", func() error { return a.AddRole(ctx, "frank", "viewer", "acme") }, true},
		{"Reload discards", func() error { return a.Reload(ctx) }, false},
		{"AddRole again", func() error { return a.AddRole(ctx, "frank", "viewer", "acme") }, true},
		{"Save", func() error { return a.Save(ctx) }, true},
		{"Reload keeps the saved", func() error { return a.Reload(ctx) }, true},
		{"RemoveRole", func() error { return a.RemoveRole(ctx, "frank", "viewer", "acme") }, false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := allowed(); got != s.want {
			t.Fatalf("after %s: allowed = %v, want %v", s.name, got, s.want)
		}
	}
}

// Casbin's own adapters plug in through CasbinAdapter.
func TestCasbinAdapterSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.csv")
	writeFile(t, path, "p, viewer, acme, docs, read, allow, owner == $sub.id\ng, bob, viewer, acme\n")
	a, err := casbinauthz.New(casbinauthz.CasbinAdapter(fileadapter.NewAdapter(path)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Authorize(context.Background(), &bob, authz.Read, "docs")
	if err != nil || !d.Allow || d.Filter.String() != `owner == "bob"` {
		t.Fatalf("%+v %v", d, err)
	}
	// Casbin's file adapter does not auto-save; the change stays in memory.
	if err := a.AddRules(context.Background(), casbinauthz.Rule{Subject: "viewer", Tenant: "acme", Collection: "faq", Action: authz.Read}); err != nil {
		t.Fatal(err)
	}
	if d, _ := a.Authorize(context.Background(), &bob, authz.Read, "faq"); !d.Allow {
		t.Error("added rule not in force")
	}
}

// fakeWatcher connects Authorizers in one process, as a Redis or etcd
// watcher connects processes. It calls the callbacks synchronously from
// inside Update, which must not deadlock.
type fakeWatcher struct {
	mu      sync.Mutex
	hub     *[]*fakeWatcher
	cb      func(string)
	updates int
	closed  bool
}

func (w *fakeWatcher) SetUpdateCallback(f func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cb = f
	return nil
}

func (w *fakeWatcher) Update() error {
	w.mu.Lock()
	w.updates++
	w.mu.Unlock()
	for _, o := range *w.hub {
		o.mu.Lock()
		cb := o.cb
		o.mu.Unlock()
		if cb != nil {
			cb("changed")
		}
	}
	return nil
}

func (w *fakeWatcher) Close() { w.closed = true }

func TestWatcherReloadsOtherInstances(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.csv")
	writeFile(t, path, "p, viewer, acme, docs, read, allow\n")
	var hub []*fakeWatcher
	var reloadErrs []error
	newInstance := func() (*casbinauthz.Authorizer, *fakeWatcher) {
		w := &fakeWatcher{hub: &hub}
		hub = append(hub, w)
		a, err := casbinauthz.LoadFile(path, &casbinauthz.Options{Watcher: w, OnReloadError: func(err error) { reloadErrs = append(reloadErrs, err) }})
		if err != nil {
			t.Fatal(err)
		}
		return a, w
	}
	a, wa := newInstance()
	b, _ := newInstance()
	allowed := func(x *casbinauthz.Authorizer) bool {
		d, err := x.Authorize(ctx, &bob, authz.Read, "docs")
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	if allowed(a) || allowed(b) {
		t.Fatal("bob allowed before any link")
	}
	if err := a.AddRole(ctx, "bob", "viewer", "acme"); err != nil {
		t.Fatal(err)
	}
	if wa.updates != 1 {
		t.Errorf("watcher told %d times, want 1", wa.updates)
	}
	if !allowed(a) || !allowed(b) {
		t.Fatal("the role link did not reach both instances")
	}
	if err := b.AddRules(ctx, casbinauthz.Rule{Subject: "bob", Tenant: "acme", Collection: "docs", Action: authz.Read, Deny: true}); err != nil {
		t.Fatal(err)
	}
	if allowed(a) || allowed(b) {
		t.Fatal("the deny rule did not reach both instances")
	}
	// A broken file reported by the watcher keeps the previous policy.
	writeFile(t, path, "p, broken\n")
	_ = wa.Update()
	if allowed(b) {
		t.Error("instance b lost its policy")
	}
	if len(reloadErrs) == 0 || !errors.Is(reloadErrs[0], vecguard.ErrInvalidArgument) {
		t.Errorf("reload errors = %v", reloadErrs)
	}
	if err := a.Close(); err != nil || !wa.closed {
		t.Errorf("Close = %v, watcher closed = %v", err, wa.closed)
	}
}

func TestCacheCanBeDisabled(t *testing.T) {
	a, err := casbinauthz.New(casbinauthz.Text(testPolicy), &casbinauthz.Options{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d, err := a.Authorize(context.Background(), &alice, authz.Write, "docs")
		if err != nil || d.Filter.String() != `department == "eng"` {
			t.Fatalf("%+v %v", d, err)
		}
	}
}

// Concurrent decisions and edits (run with -race): every decision matches
// either the policy before or after each edit.
func TestConcurrentAuthorizeAndEdit(t *testing.T) {
	ctx := context.Background()
	a := newTestAuthorizer(t, testPolicy)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := authz.Principal{Subject: fmt.Sprintf("u%d", i%7), Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"department": "eng", "clearance": w}}
				d, err := a.Authorize(ctx, &p, authz.Read, "docs")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allow && !strings.Contains(d.Filter.String(), `department == "eng"`) {
					t.Errorf("unexpected filter %s", d.Filter)
					return
				}
			}
		}()
	}
	for i := range 200 {
		u := fmt.Sprintf("u%d", i%7)
		r := casbinauthz.Rule{Subject: u, Tenant: "acme", Collection: "docs", Action: authz.Read, Deny: true}
		if err := a.AddRules(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.AddRole(ctx, u, "editor", "acme"); err != nil {
			t.Fatal(err)
		}
		if err := a.RemoveRules(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.RemoveRole(ctx, u, "editor", "acme"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// After the last edit the cache holds nothing stale.
	p := authz.Principal{Subject: "u1", Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"department": "eng", "clearance": 1}}
	if d, _ := a.Authorize(ctx, &p, authz.Read, "docs"); !d.Allow {
		t.Fatalf("final decision: %+v", d)
	}
}

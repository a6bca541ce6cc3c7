package casbinauthz_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"

	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

// benchPolicy returns a realistic RBAC-with-domains policy of n p rules:
// tenants of up to 100 rules each, 20 collections per tenant; per
// collection a viewer read rule with a department condition, editor write
// and delete rules, an admin rule; contractor deny rules and subject rules;
// a role graph admin > editor > viewer and 50 users per tenant spread over
// the roles.
func benchPolicy(n int) string {
	var b strings.Builder
	rules := 0
	add := func(format string, args ...any) bool {
		if rules >= n {
			return false
		}
		fmt.Fprintf(&b, format+"\n", args...)
		rules++
		return true
	}
	for t := 0; rules < n; t++ {
		ten := fmt.Sprintf("t%d", t)
		for c := 0; c < 20; c++ {
			coll := fmt.Sprintf("%s-c%d", ten, c)
			add("p, viewer, %s, %s, read, allow, department == $sub.department or public == true", ten, coll)
			add("p, editor, %s, %s, write, allow, department == $sub.department", ten, coll)
			add("p, editor, %s, %s, delete, allow, department == $sub.department and clearance <= $sub.clearance", ten, coll)
			add("p, admin, %s, %s, admin, allow", ten, coll)
		}
		for c := 0; c < 10; c++ {
			add("p, contractor, %s, %s-c%d, read, deny, classified == true", ten, ten, c)
		}
		for u := 0; u < 10; u++ {
			add("p, u%d, %s, %s-c%d, read, allow, owner == $sub.id", u, ten, ten, u)
		}
		fmt.Fprintf(&b, "g, admin, editor, %s\ng, editor, viewer, %s\n", ten, ten)
		for u := 0; u < 50; u++ {
			role := [...]string{"viewer", "viewer", "editor", "contractor", "admin"}[u%5]
			fmt.Fprintf(&b, "g, u%d, %s, %s\n", u, role, ten)
		}
	}
	return b.String()
}

type benchFixture struct {
	policy  string
	tenants int
	authz   *casbinauthz.Authorizer
	casbin  *casbin.Enforcer // built on first use
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*benchFixture{}
)

func fixture(b *testing.B, n int) *benchFixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[n]; f != nil {
		return f
	}
	f := &benchFixture{policy: benchPolicy(n), tenants: (n + 99) / 100}
	var err error
	if f.authz, err = casbinauthz.New(casbinauthz.Text(f.policy), nil); err != nil {
		b.Fatal(err)
	}
	fixtures[n] = f
	return f
}

// enforcer returns Casbin's enforcer over the fixture's policy and model.
func (f *benchFixture) enforcer(b *testing.B) *casbin.Enforcer {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f.casbin == nil {
		m, err := model.NewModelFromString(casbinauthz.ModelText)
		if err != nil {
			b.Fatal(err)
		}
		if f.casbin, err = casbin.NewEnforcer(m, stringadapter.NewAdapter(f.policy)); err != nil {
			b.Fatal(err)
		}
	}
	return f.casbin
}

// benchRequest is the i-th request of a fixed working set: 64 principals
// (users of the middle tenant with their attributes) by 4 collections.
func benchRequest(f *benchFixture, i int) (*authz.Principal, authz.Action, string) {
	ten := fmt.Sprintf("t%d", f.tenants/2)
	u := i % 64
	p := &authz.Principal{
		Subject: fmt.Sprintf("u%d", u%50), Tenant: ten,
		Attributes: map[string]any{"department": fmt.Sprintf("d%d", u%8), "clearance": int64(u % 4), "site": "x"},
	}
	if u >= 50 {
		p.Roles = []string{"viewer"}
	}
	act := [...]authz.Action{authz.Read, authz.Read, authz.Write, authz.Delete}[(i/64)%4]
	return p, act, fmt.Sprintf("%s-c%d", ten, (i/256)%4)
}

var ruleCounts = []int{10, 1000, 100000}

// BenchmarkAuthorize measures the Authorizer: cached decisions (the
// working set is compiled before the timer starts), cold compiles (a new
// attribute value each time, so every decision is compiled, cache
// insertion included), and a compile right after a policy change (index
// rebuild included).
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	for _, n := range ruleCounts {
		b.Run(fmt.Sprintf("cached/rules=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			reqs := make([]struct {
				p   *authz.Principal
				act authz.Action
				c   string
			}, 64*4*4)
			for i := range reqs {
				reqs[i].p, reqs[i].act, reqs[i].c = benchRequest(f, i)
				if _, err := f.authz.Authorize(ctx, reqs[i].p, reqs[i].act, reqs[i].c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := &reqs[i%len(reqs)]
				if _, err := f.authz.Authorize(ctx, r.p, r.act, r.c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range ruleCounts {
		b.Run(fmt.Sprintf("cold/rules=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			p, act, coll := benchRequest(f, 3)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := *p
				q.Attributes = map[string]any{"department": "d1", "clearance": int64(i), "site": "x"}
				if _, err := f.authz.Authorize(ctx, &q, act, coll); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range ruleCounts {
		b.Run(fmt.Sprintf("afterchange/rules=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			p, act, coll := benchRequest(f, 3)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.authz.AddRole(ctx, "bench-user", "viewer", "t0"); err != nil {
					b.Fatal(err)
				}
				if _, err := f.authz.Authorize(ctx, p, act, coll); err != nil {
					b.Fatal(err)
				}
				if err := f.authz.RemoveRole(ctx, "bench-user", "viewer", "t0"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCasbinEnforce is the baseline: Casbin's own Enforce over the
// same policy and role graph, for the same requests. It answers allow/deny
// only (the conditions are not evaluated and no row filter is produced).
func BenchmarkCasbinEnforce(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			f := fixture(b, n)
			e := f.enforcer(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, act, coll := benchRequest(f, i%1024)
				if _, err := e.Enforce(p.Subject, p.Tenant, coll, string(act)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallelAuthorize is cached decisions from every core at once,
// each goroutine walking the working set from its own offset.
func BenchmarkParallelAuthorize(b *testing.B) {
	ctx := context.Background()
	f := fixture(b, 1000)
	type req struct {
		p   *authz.Principal
		act authz.Action
		c   string
	}
	reqs := make([]req, 1024)
	for i := range reqs {
		reqs[i].p, reqs[i].act, reqs[i].c = benchRequest(f, i)
		if _, err := f.authz.Authorize(ctx, reqs[i].p, reqs[i].act, reqs[i].c); err != nil {
			b.Fatal(err)
		}
	}
	var mu sync.Mutex
	start := 0
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		i := start
		start += 337
		mu.Unlock()
		for pb.Next() {
			r := &reqs[i%len(reqs)]
			i++
			if _, err := f.authz.Authorize(ctx, r.p, r.act, r.c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

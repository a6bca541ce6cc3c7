package casbinauthz

import (
	"context"
	"fmt"
	"testing"

	"github.com/vecguard/vecguard/vecguard/authz"
)

func TestCacheIsBounded(t *testing.T) {
	tests := []struct {
		size, max int
	}{
		{1, 2 * cacheShards},
		{100, 100 + 2*cacheShards},
		{1000, 1000 + 2*cacheShards},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			a, err := New(Text("p, viewer, acme, docs, read, allow, owner == $sub.id\n"), &Options{CacheSize: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5000 {
				p := authz.Principal{Subject: fmt.Sprintf("user-%d", i), Tenant: "acme", Roles: []string{"viewer"}}
				d, err := a.Authorize(context.Background(), &p, authz.Read, "docs")
				if err != nil || d.Filter.String() != fmt.Sprintf("owner == %q", p.Subject) {
					t.Fatalf("%+v %v", d, err)
				}
			}
			if n := a.cache.Load().c.len(); n > tt.max || n == 0 {
				t.Errorf("cache holds %d decisions, want 1..%d", n, tt.max)
			}
		})
	}
}

// Recently used entries survive turnovers.
func TestCacheKeepsHotEntries(t *testing.T) {
	c := newDecisionCache(64)
	hot := []byte("hot")
	c.put(hot, authz.Decision{Allow: true, Rule: "hot"})
	for i := range 10000 {
		c.put(fmt.Appendf(nil, "k%d", i), authz.Decision{})
		if _, ok := c.get(hot); !ok {
			t.Fatalf("hot entry evicted after %d inserts", i)
		}
	}
}

// Keys separate every field: no two different requests share a key.
func TestCacheKeyIsInjective(t *testing.T) {
	ps := []authz.Principal{
		{Subject: "a", Tenant: "b"},
		{Subject: "ab", Tenant: ""},
		{Subject: "a", Tenant: "b", Roles: []string{"r"}},
		{Subject: "a", Tenant: "b", Roles: []string{"r", "s"}},
		{Subject: "a", Tenant: "b", Roles: []string{"rs"}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": "1"}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": int64(1)}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": 1.0}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": true}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": false}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"x": "1", "y": "2"}},
		{Subject: "a", Tenant: "b", Attributes: map[string]any{"xy": "12"}},
	}
	refs := map[string]bool{"x": true, "y": true, "xy": true}
	seen := map[string]int{}
	for i := range ps {
		for _, coll := range []string{"c", "cc"} {
			k := string(appendKey(nil, &ps[i], authz.Read, coll, refs))
			if j, dup := seen[k]; dup {
				t.Fatalf("principals %d and %d share a key", i, j)
			}
			seen[k] = i
		}
	}
	// Role order and repetition do not matter; int and int64 bind alike.
	same := [][2]authz.Principal{
		{{Subject: "a", Roles: []string{"r", "s"}}, {Subject: "a", Roles: []string{"s", "r", "s"}}},
		{{Subject: "a", Attributes: map[string]any{"x": 1}}, {Subject: "a", Attributes: map[string]any{"x": int64(1)}}},
		{{Subject: "a", Attributes: map[string]any{"x": 1, "request": "r1"}}, {Subject: "a", Attributes: map[string]any{"x": 1, "request": "r2"}}},
	}
	for _, pair := range same {
		if string(appendKey(nil, &pair[0], authz.Read, "c", refs)) != string(appendKey(nil, &pair[1], authz.Read, "c", refs)) {
			t.Errorf("%+v and %+v have different keys", pair[0], pair[1])
		}
	}
}

// Attributes no rule refers to do not fragment the cache; once a rule
// refers to one, it separates decisions.
func TestCacheKeyHoldsReferencedAttributesOnly(t *testing.T) {
	ctx := context.Background()
	a, err := New(Text("p, viewer, acme, docs, read, allow, dept == $sub.dept\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		p := authz.Principal{Subject: "bob", Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"dept": "eng", "request": i}}
		if _, err := a.Authorize(ctx, &p, authz.Read, "docs"); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.cache.Load().c.len(); n != 1 {
		t.Fatalf("%d cached decisions, want 1", n)
	}
	if err := a.AddRules(ctx, Rule{Subject: "viewer", Tenant: "acme", Collection: "docs", Action: authz.Read, Deny: true, Condition: "request_no == $sub.request"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := authz.Principal{Subject: "bob", Tenant: "acme", Roles: []string{"viewer"}, Attributes: map[string]any{"dept": "eng", "request": i}}
		d, err := a.Authorize(ctx, &p, authz.Read, "docs")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("(dept == \"eng\" and not request_no == %d)", i); d.Filter.String() != want {
			t.Fatalf("filter %s, want %s", d.Filter, want)
		}
	}
}

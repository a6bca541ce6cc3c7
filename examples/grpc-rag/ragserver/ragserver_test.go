package ragserver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
)

func TestPolicy(t *testing.T) {
	reader := &authz.Principal{Subject: "alice", Tenant: "acme", Roles: []string{RoleReader}}
	writer := &authz.Principal{Subject: "acme-indexer", Tenant: "acme", Roles: []string{RoleWriter}}
	noTenant := &authz.Principal{Subject: "x", Roles: []string{RoleReader, RoleWriter}}
	rag := &authz.Principal{Subject: "rag-server", Roles: []string{RoleReader, RoleWriter}} // a credential can name it
	ctx := context.Background()
	tests := []struct {
		ctx  context.Context
		p    *authz.Principal
		a    authz.Action
		coll string
		rule string // "" denies
	}{
		{ctx, reader, authz.Read, SharedCollection, RoleReader},
		{ctx, reader, authz.Read, "acme_handbook", RoleReader},
		{ctx, reader, authz.Read, "globex_handbook", ""},
		{ctx, reader, authz.Write, SharedCollection, ""},
		{ctx, reader, authz.ReadVectors, SharedCollection, ""},
		{ctx, writer, authz.Write, SharedCollection, RoleWriter},
		{ctx, writer, authz.Delete, "acme_handbook", RoleWriter},
		{ctx, writer, authz.Read, SharedCollection, ""},
		{ctx, writer, authz.Admin, SharedCollection, ""},
		{ctx, noTenant, authz.Read, SharedCollection, ""},
		{ctx, noTenant, authz.Read, "_handbook", ""},
		{ctx, rag, authz.Admin, SharedCollection, ""},
		{bootstrap(ctx), rag, authz.Admin, SharedCollection, "bootstrap"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.p.Subject, tc.a, tc.coll), func(t *testing.T) {
			d, err := Policy.Authorize(tc.ctx, tc.p, tc.a, tc.coll)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != (tc.rule != "") || d.Allow && d.Rule != tc.rule || !d.Allow && d.Reason == "" {
				t.Fatalf("decision %+v, want rule %q", d, tc.rule)
			}
		})
	}
}

func TestTrail(t *testing.T) {
	tr := newTrail(4)
	seq := 0
	add := func(tenant string, n int) {
		var batch []audit.Entry
		for range n {
			batch = append(batch, audit.Entry{Tenant: tenant, Operation: fmt.Sprintf("%s%d", tenant, seq)})
			seq++
		}
		tr.Handle(context.Background(), batch)
	}
	ops := func(es []audit.Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Operation)
		}
		return strings.Join(s, ",")
	}
	add("a", 2)
	add("b", 1)
	if got := ops(tr.last("a", 10)); got != "a0,a1" {
		t.Fatalf("before wrapping: %s", got)
	}
	add("a", 3) // the ring of 4 holds b2,a3,a4,a5: a0 and a1 are gone
	for _, tc := range []struct {
		tenant string
		n      int
		want   string
	}{
		{"a", 10, "a3,a4,a5"},
		{"a", 2, "a4,a5"},
		{"b", 10, "b2"},
		{"c", 10, ""},
	} {
		if got := ops(tr.last(tc.tenant, tc.n)); got != tc.want {
			t.Errorf("last(%s, %d) = %s, want %s", tc.tenant, tc.n, got, tc.want)
		}
	}
}

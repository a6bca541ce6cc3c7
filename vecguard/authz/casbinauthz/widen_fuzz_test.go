package casbinauthz_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/authz/casbinauthz"
)

// fuzzReader turns fuzz bytes into choices; past the end it reads zeros.
type fuzzReader struct {
	b []byte
	i int
}

func (r *fuzzReader) next() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

var (
	fuzzFields = []string{"tenant", "department", "clearance", "owner", "undeclared"}
	fuzzValues = []vecguard.Value{
		vecguard.String("acme"), vecguard.String("globex"), vecguard.String("eng"), vecguard.String("sales"),
		vecguard.String("alice"), vecguard.String(""), vecguard.Int(0), vecguard.Int(1), vecguard.Int(2),
		vecguard.Float(1.5), vecguard.Bool(true),
	}
)

// decodeFilter builds a caller filter of any shape from fuzz bytes: every
// node kind, fields of every kind (and one the collection lacks), values of
// every kind (some of the wrong kind for their field).
func decodeFilter(r *fuzzReader, depth int) *vecguard.Filter {
	op := r.next() % 13
	if depth >= 4 && op < 3 {
		op += 3
	}
	field := fuzzFields[r.next()%len(fuzzFields)]
	value := func() vecguard.Value { return fuzzValues[r.next()%len(fuzzValues)] }
	kids := func() []*vecguard.Filter {
		out := make([]*vecguard.Filter, r.next()%4)
		for i := range out {
			out[i] = decodeFilter(r, depth+1)
		}
		return out
	}
	switch op {
	case 0:
		return vecguard.And(kids()...)
	case 1:
		return vecguard.Or(kids()...)
	case 2:
		return vecguard.Not(decodeFilter(r, depth+1))
	case 3:
		return vecguard.Eq(field, value())
	case 4:
		return vecguard.Ne(field, value())
	case 5:
		return vecguard.In(field, value(), value())
	case 6:
		return vecguard.NotIn(field, value())
	case 7:
		return vecguard.Gt(field, value())
	case 8:
		return vecguard.Lte(field, value())
	case 9:
		return vecguard.Exists(field)
	case 10:
		return vecguard.IsNull(field)
	case 11:
		return vecguard.HasID(vecguard.NumID(uint64(r.next()%12+1)), vecguard.NumID(uint64(r.next()%12+101)))
	}
	return nil
}

// The policy gives the principal rows by department and clearance; no
// caller filter may reach a row outside them, for reading, counting,
// updating or deleting, in its own tenant or another.
const widenPolicy = `
p, analyst, acme, docs, read, allow, department == $sub.department
p, analyst, acme, docs, read, allow, owner == $sub.id
p, analyst, acme, docs, read, deny, clearance > $sub.clearance
p, analyst, acme, docs, write, allow, department == $sub.department and clearance <= $sub.clearance
p, analyst, acme, docs, delete, allow, owner == $sub.id
p, admin, *, docs, *, allow
`

func FuzzCallerFilterNeverWidens(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {12}, {1, 2, 3, 0, 0, 3, 0, 1},
		{1, 3, 4, 0, 0, 3, 1, 2, 0}, // department == sales or tenant == globex
		{2, 0, 9, 0},                // not (tenant exists)
		{11, 0, 2, 3},               // has id
		{0, 2, 1, 0, 3, 9, 0, 7, 2, 8},
		{6, 1, 5, 4, 2, 2, 4, 2},
	} {
		f.Add(seed)
	}
	analyst := authz.Principal{Subject: "alice", Tenant: "acme", Roles: []string{"analyst"}, Attributes: map[string]any{"department": "eng", "clearance": 1}}
	type row struct {
		id      uint64
		payload map[string]any
	}
	var rows []row
	for i, ten := range []string{"acme", "globex"} {
		for j := range 12 {
			p := map[string]any{"tenant": ten, "department": []string{"eng", "sales", "hr"}[j%3], "clearance": int64(j % 3), "owner": []string{"alice", "bob"}[j/6]}
			if j == 11 {
				delete(p, "clearance")
			}
			rows = append(rows, row{uint64(i*100 + j + 1), p})
		}
	}
	readable := func(r row) bool {
		c, hasC := r.payload["clearance"].(int64)
		return r.payload["tenant"] == "acme" && (r.payload["department"] == "eng" || r.payload["owner"] == "alice") && !(hasC && c > 1)
	}
	writable := func(r row) bool {
		c, hasC := r.payload["clearance"].(int64)
		return r.payload["tenant"] == "acme" && r.payload["department"] == "eng" && hasC && c <= 1
	}
	deletable := func(r row) bool { return r.payload["tenant"] == "acme" && r.payload["owner"] == "alice" }

	f.Fuzz(func(t *testing.T, data []byte) {
		caller := decodeFilter(&fuzzReader{b: data}, 0)
		if caller.Validate(&docsSpec) != nil {
			return // refused with InvalidArgument before anything runs
		}
		az, err := casbinauthz.New(casbinauthz.Text(widenPolicy), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := vecguard.New(memory.New(), &vecguard.Options{Authorizer: az})
		for _, ten := range []string{"acme", "globex"} {
			admin := as(authz.Principal{Subject: "root", Tenant: ten, Roles: []string{"admin"}})
			if ten == "acme" {
				if err := c.CreateCollection(admin, docsSpec); err != nil {
					t.Fatal(err)
				}
			}
			var pts []vecguard.Point
			for _, r := range rows {
				if r.payload["tenant"] == ten {
					pts = append(pts, vecguard.Point{ID: vecguard.NumID(r.id), Vectors: map[string][]float32{"v": {float32(r.id % 7), float32(r.id % 5)}}, Payload: r.payload})
				}
			}
			if err := c.Upsert(admin, "docs", pts); err != nil {
				t.Fatal(err)
			}
		}
		ctx := as(analyst)
		var want []uint64
		for _, r := range rows {
			if readable(r) && caller.Match(vecguard.NumID(r.id), r.payload) {
				want = append(want, r.id)
			}
		}

		// Scroll and count return exactly the rows of policy AND caller.
		var got []uint64
		req := vecguard.ScrollRequest{Filter: caller, Limit: 5, WithPayload: true}
		for {
			pg, err := c.Scroll(ctx, "docs", req)
			if err != nil {
				t.Fatalf("scroll %s: %v", caller, err)
			}
			for _, p := range pg.Points {
				got = append(got, p.ID.Num())
			}
			if pg.Cursor == "" {
				break
			}
			req.Cursor = pg.Cursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("caller filter %s: scroll = %v, want %v", caller, got, want)
		}
		if n, err := c.Count(ctx, "docs", caller); err != nil || n != int64(len(want)) {
			t.Fatalf("caller filter %s: count = %d, %v; want %d", caller, n, err, len(want))
		}
		hits, err := c.Search(ctx, "docs", vecguard.SearchRequest{Vector: []float32{1, 1}, Limit: 100, Filter: caller})
		if err != nil {
			t.Fatal(err)
		}
		var found []uint64
		for _, h := range hits {
			found = append(found, h.ID.Num())
		}
		slices.Sort(found)
		if !slices.Equal(found, want) {
			t.Fatalf("caller filter %s: search = %v, want %v", caller, found, want)
		}

		// Updates and deletes reach only rows of policy AND caller.
		sel := caller
		if sel == nil {
			sel = vecguard.And() // they need a filter; And() is every row
		}
		err = c.UpdatePayload(ctx, "docs", vecguard.PayloadUpdate{Filter: sel, Set: map[string]any{"owner": "fz"}})
		if err != nil && !errors.Is(err, vecguard.ErrPermissionDenied) {
			t.Fatalf("update: %v", err)
		}
		if err := c.DeleteByFilter(ctx, "docs", sel); err != nil {
			t.Fatalf("delete: %v", err)
		}
		after := map[uint64]map[string]any{}
		for _, ten := range []string{"acme", "globex"} {
			root := as(authz.Principal{Subject: "root", Tenant: ten, Roles: []string{"admin"}})
			pg, err := c.Scroll(root, "docs", vecguard.ScrollRequest{Limit: 100, WithPayload: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pg.Points {
				after[p.ID.Num()] = p.Payload
			}
		}
		for _, r := range rows {
			selected := caller.Match(vecguard.NumID(r.id), r.payload)
			p, kept := after[r.id]
			switch {
			case !kept && !(selected && deletable(r)):
				t.Fatalf("caller filter %s: row %d (%v) deleted", caller, r.id, r.payload)
			case kept && p["owner"] == "fz" && !(selected && writable(r)):
				t.Fatalf("caller filter %s: row %d (%v) updated", caller, r.id, r.payload)
			}
		}
		if n := c.Violations(); n != 0 {
			t.Fatalf("%d violations", n)
		}
	})
}

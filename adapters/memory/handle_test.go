package memory

import (
	"context"
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// TestHandleOfRecreatedCollection checks that a handle made for one spec
// refuses, with NotFound, to serve a collection of the same name created
// again with another spec: a guarded client holding the old spec would
// otherwise filter on the wrong tenant field.
func TestHandleOfRecreatedCollection(t *testing.T) {
	ctx := context.Background()
	base := testSpec("docs", driver.Euclid, 2)
	for _, tc := range []struct {
		name   string
		change func(s *driver.CollectionSpec)
		same   bool
	}{
		{"Same", func(*driver.CollectionSpec) {}, true},
		{"NoTenantField", func(s *driver.CollectionSpec) { s.TenantField = "" }, false},
		{"OtherTenantField", func(s *driver.CollectionSpec) { s.TenantField = "tag" }, false},
		{"FieldKind", func(s *driver.CollectionSpec) { s.Fields[1].Kind = driver.KindFloat }, false},
		{"FieldFilterable", func(s *driver.CollectionSpec) { s.Fields[3].Filterable = true }, false},
		{"MoreFields", func(s *driver.CollectionSpec) {
			s.Fields = append(s.Fields, driver.FieldSpec{Name: "x", Kind: driver.KindBool})
		}, false},
		{"Dimension", func(s *driver.CollectionSpec) { s.Vectors[0].Dim = 3 }, false},
		{"Distance", func(s *driver.CollectionSpec) { s.Vectors[1].Distance = driver.Cosine }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			old := base.Clone()
			if err := s.CreateCollection(ctx, old); err != nil {
				t.Fatal(err)
			}
			h := s.Collection(old)
			if _, err := h.Count(ctx, nil); err != nil {
				t.Fatalf("Count: %v", err)
			}
			if err := s.DropCollection(ctx, "docs"); err != nil {
				t.Fatal(err)
			}
			renewed := base.Clone()
			tc.change(renewed)
			if err := s.CreateCollection(ctx, renewed); err != nil {
				t.Fatal(err)
			}
			pts := []driver.Point{{ID: driver.NumID(1), Vectors: map[string][]float32{"v": make([]float32, renewed.Vectors[0].Dim), "w": {1, 2}},
				Payload: map[string]any{"tenant": "t2"}}}
			if err := s.Collection(renewed).Upsert(ctx, pts); err != nil {
				t.Fatalf("Upsert through a handle of the new spec: %v", err)
			}
			_, err := h.Count(ctx, driver.Eq("tenant", driver.String("t1")))
			if tc.same {
				if err != nil {
					t.Fatalf("Count through a handle of the same spec: %v", err)
				}
				return
			}
			mustCode(t, err, driver.NotFound)
			_, err = h.Search(ctx, &driver.Query{Vector: []float32{0, 0}, VectorName: "v", Limit: 1})
			mustCode(t, err, driver.NotFound)
			_, err = h.Read(ctx, &driver.ReadRequest{IDs: []driver.PointID{driver.NumID(1)}})
			mustCode(t, err, driver.NotFound)
			_, err = h.Read(ctx, &driver.ReadRequest{Limit: 1})
			mustCode(t, err, driver.NotFound)
			mustCode(t, h.Delete(ctx, &driver.Selector{IDs: []driver.PointID{driver.NumID(1)}}), driver.NotFound)
			mustCode(t, h.(driver.PayloadUpdater).UpdatePayload(ctx, &driver.Selector{IDs: []driver.PointID{driver.NumID(1)}}, map[string]any{"tenant": "t1"}, nil), driver.NotFound)
			if n, err := s.Collection(renewed).Count(ctx, driver.Eq("tenant", driver.String("t2"))); err != nil || n != 1 {
				t.Errorf("the new collection changed through the stale handle: %d rows of t2, %v", n, err)
			}
		})
	}
}

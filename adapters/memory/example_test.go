package memory_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The store used directly through the driver contract. Applications
// normally wrap it in a *vecguard.Client, which authorizes, encrypts and
// audits every call.
func Example() {
	ctx := context.Background()
	store := memory.New()
	defer store.Close()

	spec := &driver.CollectionSpec{
		Name:        "docs",
		Vectors:     []driver.VectorSpec{{Name: "text", Dim: 3, Distance: driver.Cosine}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}},
		TenantField: "tenant",
	}
	if err := store.CreateCollection(ctx, spec); err != nil {
		log.Fatal(err)
	}
	docs := store.Collection(spec)
	err := docs.Upsert(ctx, []driver.Point{
		{ID: driver.NumID(1), Vectors: map[string][]float32{"text": {1, 0, 0}}, Payload: map[string]any{"tenant": "acme"}},
		{ID: driver.NumID(2), Vectors: map[string][]float32{"text": {1, 1, 0}}, Payload: map[string]any{"tenant": "acme"}},
		{ID: driver.NumID(3), Vectors: map[string][]float32{"text": {1, 0, 0}}, Payload: map[string]any{"tenant": "globex"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	hits, err := docs.Search(ctx, &driver.Query{
		Vector: []float32{1, 0, 0}, VectorName: "text", Limit: 5,
		Filter: driver.Eq("tenant", driver.String("acme")),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.3f\n", h.ID, h.Score)
	}
	// Output:
	// 1 1.000
	// 2 0.707
}

// A persistent store: close it and open the directory again to get the
// same state back.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vecguard-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	spec := &driver.CollectionSpec{Name: "notes", Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Dot}}}
	store, err := memory.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateCollection(ctx, spec); err != nil {
		log.Fatal(err)
	}
	err = store.Collection(spec).Upsert(ctx, []driver.Point{
		{ID: driver.NumID(7), Vectors: map[string][]float32{"v": {0.5, 2}}, Payload: map[string]any{"count": 3}},
	})
	if err != nil {
		log.Fatal(err)
	}
	store.Close()

	store, err = memory.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	page, err := store.Collection(spec).Read(ctx, &driver.ReadRequest{
		IDs: []driver.PointID{driver.NumID(7)}, Payload: driver.Projection{All: true}, WithVectors: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	p := page.Points[0]
	fmt.Printf("%s %v %T(%v)\n", p.ID, p.Vectors["v"], p.Payload["count"], p.Payload["count"])
	// Output:
	// 7 [0.5 2] int64(3)
}

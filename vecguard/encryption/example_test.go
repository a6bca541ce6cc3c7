package encryption_test

import (
	"context"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/vecguard/vecguard/adapters/memory"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
	"github.com/vecguard/vecguard/vecguard/encryption/keys"
)

// An encrypted, tenant-isolated collection: callers write and read
// plaintext, the database holds ciphertext.
func ExampleNew() {
	ctx := context.Background()
	master, _ := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	kek, _ := keys.KEKFromKeyset(master)
	provider, _ := keys.NewLocal(&keys.MemStore{}, kek, nil)
	docs, err := encryption.New(provider, encryption.Config{
		Fields: map[string]encryption.FieldMode{"text": encryption.Randomized, "department": encryption.Deterministic},
	})
	if err != nil {
		panic(err)
	}
	db := memory.New()
	allowAll := authz.AuthorizerFunc(func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
		return authz.Decision{Allow: true}, nil
	})
	client := vecguard.New(db, &vecguard.Options{Authorizer: allowAll, Encryption: map[string]encryption.Protector{"docs": docs}})
	ctx = vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "alice", Tenant: "acme"})

	_ = client.CreateCollection(ctx, vecguard.CollectionSpec{
		Name:    "docs",
		Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 3, Distance: vecguard.Cosine}},
		Fields: []vecguard.FieldSpec{
			{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
			{Name: "department", Kind: vecguard.KindString, Filterable: true},
		},
		TenantField: "tenant",
	})
	_ = client.Upsert(ctx, "docs", []vecguard.Point{
		{ID: vecguard.NumID(1), Vectors: map[string][]float32{"v": {1, 0, 0}}, Payload: map[string]any{"text": "Q3 plan", "department": "sales"}},
		{ID: vecguard.NumID(2), Vectors: map[string][]float32{"v": {0, 1, 0}}, Payload: map[string]any{"text": "hiring", "department": "hr"}},
	})
	hits, _ := client.Search(ctx, "docs", vecguard.SearchRequest{
		Vector: []float32{0.9, 0.1, 0}, Filter: driver.Eq("department", driver.String("sales")), WithPayload: true,
	})
	for _, h := range hits {
		fmt.Println(h.ID, h.Payload["text"], h.Payload["department"])
	}

	// What the database holds for point 1:
	stored, _ := db.DescribeCollection(ctx, "docs")
	pg, _ := db.Collection(stored).Read(ctx, &driver.ReadRequest{IDs: []driver.PointID{driver.NumID(1)}, Payload: driver.Projection{All: true}})
	_, hasText := pg.Points[0].Payload["text"]
	fmt.Println("plaintext stored:", hasText || pg.Points[0].Payload["department"] == "sales")
	// Output:
	// 1 Q3 plan sales
	// plaintext stored: false
}

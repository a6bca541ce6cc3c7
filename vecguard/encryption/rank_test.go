package encryption

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRankVectors checks that RankVectors returns, for both vectors of each
// point, exactly the vector Open returns, and that a point it cannot
// authenticate is DataLoss.
func TestRankVectors(t *testing.T) {
	for _, cfg := range []Config{{}, {OmitExactVector: true}} {
		t.Run(fmt.Sprintf("omit=%v", cfg.OmitExactVector), func(t *testing.T) {
			e, _ := newEnc(t, cfg)
			r := rand.New(rand.NewPCG(5, 6))
			sealed, err := e.Seal(ctx, scopeA, testPoints(r, 40, 64))
			if err != nil {
				t.Fatal(err)
			}
			opened := clonePoints(sealed)
			if err := e.Open(ctx, scopeA, opened); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"body", "title"} {
				got, err := e.RankVectors(ctx, scopeA, name, clonePoints(sealed))
				if err != nil {
					t.Fatal(err)
				}
				for i := range opened {
					if !slices.Equal(got[i], opened[i].Vectors[name]) {
						t.Fatalf("point %d: ranked %s vector differs from the opened one", i, name)
					}
				}
			}
			if _, err := e.RankVectors(ctx, scopeA, "nope", clonePoints(sealed[:1])); !isDataLoss(err) {
				t.Errorf("unknown vector: %v, want DataLoss", err)
			}
			if _, err := e.RankVectors(ctx, scopeB, "body", clonePoints(sealed[:1])); !isDataLoss(err) && !cfg.OmitExactVector {
				t.Errorf("another scope: %v, want DataLoss", err)
			}
			bad := clonePoints(sealed[:1])
			delete(bad[0].Payload, FieldMeta)
			if _, err := e.RankVectors(ctx, scopeA, "body", bad); !isDataLoss(err) {
				t.Errorf("no metadata: %v, want DataLoss", err)
			}
			if !cfg.OmitExactVector {
				bad := clonePoints(sealed[:1])
				bad[0].Payload[FieldSecrets] = flipBase64(bad[0].Payload[FieldSecrets].(string), 100)
				if _, err := e.RankVectors(ctx, scopeA, "body", bad); !isDataLoss(err) {
					t.Errorf("tampered secrets: %v, want DataLoss", err)
				}
				moved := clonePoints(sealed[:2])
				moved[0].Payload[FieldSecrets] = moved[1].Payload[FieldSecrets]
				if _, err := e.RankVectors(ctx, scopeA, "body", moved); !isDataLoss(err) {
					t.Errorf("secrets of another point: %v, want DataLoss", err)
				}
			}
		})
	}
}

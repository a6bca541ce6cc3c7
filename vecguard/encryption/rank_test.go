package encryption

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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

// TestOpenRanked checks that OpenRanked, given points without their stored
// vectors, returns exactly what Open returns for the complete points; that
// every tampering Open detects outside the stored vectors is DataLoss; that
// changed stored vectors do not alter what it returns; and that without
// exact copies it is Open (the stored vectors are required).
func TestOpenRanked(t *testing.T) {
	e, _ := newEnc(t, Config{})
	r := rand.New(rand.NewPCG(7, 8))
	pts := testPoints(r, 2, 8)
	pts[1].Payload["dept"] = "other"
	sealed, err := e.Seal(ctx, scopeA, pts)
	if err != nil {
		t.Fatal(err)
	}
	if e.StoredVectorsNeeded() {
		t.Fatal("StoredVectorsNeeded with exact copies")
	}
	opened := clonePoints(sealed)
	if err := e.Open(ctx, scopeA, opened); err != nil {
		t.Fatal(err)
	}
	bare := clonePoints(sealed)
	for i := range bare {
		bare[i].Vectors = nil
	}
	if err := e.OpenRanked(ctx, scopeA, bare); err != nil {
		t.Fatal(err)
	}
	for i := range bare {
		if !reflect.DeepEqual(bare[i], opened[i]) {
			t.Errorf("point %d: OpenRanked gave %+v, Open %+v", i, bare[i], opened[i])
		}
	}
	// Stored vectors, when present anyway, are not what it returns.
	cp := clonePoints(sealed)
	cp[0].Vectors["body"][0] += 1
	if err := e.OpenRanked(ctx, scopeA, cp[:1]); err != nil || !slices.Equal(cp[0].Vectors["body"], opened[0].Vectors["body"]) {
		t.Errorf("changed stored vector: err %v, vector equal to the exact copy: %v", err, err == nil && slices.Equal(cp[0].Vectors["body"], opened[0].Vectors["body"]))
	}
	n := 0
	for _, tc := range tamperCases() {
		if strings.HasPrefix(tc.name, "vector") {
			continue // the stored vectors, which OpenRanked does not read
		}
		n++
		cp := clonePoints(sealed)
		tc.fn(&cp[0], &cp[1])
		cp[0].Vectors = nil
		if err := e.OpenRanked(ctx, scopeA, cp[:1]); !isDataLoss(err) {
			t.Errorf("%s: OpenRanked = %v, want DataLoss", tc.name, err)
		}
	}
	if n < 300 {
		t.Errorf("only %d tamper cases", n)
	}
	if err := e.OpenRanked(ctx, scopeB, clonePoints(bare[:0])); err != nil {
		t.Errorf("no points: %v", err)
	}
	other := clonePoints(sealed[:1])
	other[0].Vectors = nil
	if err := e.OpenRanked(ctx, scopeB, other); !isDataLoss(err) {
		t.Errorf("another scope: %v, want DataLoss", err)
	}

	// Without exact copies the stored vectors are the plaintext's only copy.
	// (o shares e's keys.)
	o, err := New(e.keys, Config{OmitExactVector: true, Fields: e.cfg.Fields})
	if err != nil {
		t.Fatal(err)
	}
	if !o.StoredVectorsNeeded() {
		t.Fatal("StoredVectorsNeeded without exact copies")
	}
	sealed, err = o.Seal(ctx, scopeA, pts)
	if err != nil {
		t.Fatal(err)
	}
	bare = clonePoints(sealed)
	for i := range bare {
		bare[i].Vectors = nil
	}
	if err := o.OpenRanked(ctx, scopeA, bare); !isDataLoss(err) {
		t.Errorf("no exact copies, no stored vectors: %v, want DataLoss", err)
	}
	cp = clonePoints(sealed)
	cp[0].Vectors["body"][0] += 1
	if err := o.OpenRanked(ctx, scopeA, cp[:1]); !isDataLoss(err) {
		t.Errorf("no exact copies, changed stored vector: %v, want DataLoss", err)
	}
	// A point sealed without exact copies, read by an Encryptor that seals
	// them, is refused rather than opened without its vectors.
	if err := e.Open(ctx, scopeA, clonePoints(sealed[:1])); err != nil {
		t.Fatalf("Open of a point without exact copies, same keys: %v", err)
	}
	cp = clonePoints(sealed[:1])
	cp[0].Vectors = nil
	if err := e.OpenRanked(ctx, scopeA, cp); !isDataLoss(err) || !errors.Is(err, ErrNoExactCopy) {
		t.Errorf("point without exact copies: %v, want DataLoss with ErrNoExactCopy", err)
	}
	if _, err := e.RankVectors(ctx, scopeA, "body", cp); !isDataLoss(err) || !errors.Is(err, ErrNoExactCopy) {
		t.Errorf("ranking a point without exact copies or stored vectors: %v, want DataLoss with ErrNoExactCopy", err)
	}
}

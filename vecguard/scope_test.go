package vecguard

import (
	"testing"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// TestWithoutConjunct: the policy's repetition of the tenant condition is
// dropped, nothing else is, and the result ANDed with the condition
// matches exactly what the policy ANDed with it matches.
func TestWithoutConjunct(t *testing.T) {
	tenant := driver.Eq("tenant", driver.String("t1"))
	lang := driver.Eq("lang", driver.String("en"))
	tests := []struct {
		name       string
		rows, want *driver.Filter
	}{
		{"the same condition", driver.Eq("tenant", driver.String("t1")), nil},
		{"another tenant", driver.Eq("tenant", driver.String("t2")), driver.Eq("tenant", driver.String("t2"))},
		{"another kind of value", driver.Eq("tenant", driver.Int(1)), driver.Eq("tenant", driver.Int(1))},
		{"another field", lang, lang},
		{"in an And", driver.And(tenant, lang), driver.And(lang)},
		{"in an And, second", driver.And(lang, tenant), driver.And(lang)},
		{"twice in an And", driver.And(tenant, tenant), nil},
		{"under an Or: kept", driver.Or(tenant, lang), driver.Or(tenant, lang)},
		{"negated: kept", driver.Not(tenant), driver.Not(tenant)},
		{"nested And: kept", driver.And(driver.And(tenant), lang), driver.And(driver.And(tenant), lang)},
	}
	docs := []map[string]any{
		{"tenant": "t1", "lang": "en"}, {"tenant": "t1", "lang": "de"}, {"tenant": "t2", "lang": "en"},
		{"tenant": int64(1)}, {"lang": "en"}, {},
	}
	for _, tt := range tests {
		got := withoutConjunct(tt.rows, tenant)
		if !got.Equal(tt.want) {
			t.Errorf("%s: withoutConjunct(%v) = %v, want %v", tt.name, tt.rows, got, tt.want)
		}
		for i, d := range docs {
			id := driver.NumID(uint64(i + 1))
			if driver.And(tenant, got).Match(id, d) != driver.And(tenant, tt.rows).Match(id, d) {
				t.Errorf("%s: document %v matched differently", tt.name, d)
			}
		}
	}
}

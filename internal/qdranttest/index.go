package qdranttest

import (
	"github.com/qdrant/go-client/qdrant"
)

// valueIndex is the inverted index of a keyword or integer payload index
// on a top-level key: which points hold each value (a list holds each of
// its elements). Like Qdrant, a filtered search uses it to visit only the
// points that can match a must condition on the key, instead of every
// point; the full filter is still evaluated on each of them, so results do
// not depend on the index.
type valueIndex struct {
	typ   qdrant.PayloadSchemaType
	byStr map[string]map[pid]struct{}
	byInt map[int64]map[pid]struct{}
}

func newValueIndex(typ qdrant.PayloadSchemaType) *valueIndex {
	return &valueIndex{typ: typ, byStr: map[string]map[pid]struct{}{}, byInt: map[int64]map[pid]struct{}{}}
}

func (x *valueIndex) visit(v *qdrant.Value, fn func(s string, n int64, isStr bool)) {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_StringValue:
		if x.typ == qdrant.PayloadSchemaType_Keyword {
			fn(k.StringValue, 0, true)
		}
	case *qdrant.Value_IntegerValue:
		if x.typ == qdrant.PayloadSchemaType_Integer {
			fn("", k.IntegerValue, false)
		}
	case *qdrant.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			if _, nested := e.GetKind().(*qdrant.Value_ListValue); !nested {
				x.visit(e, fn)
			}
		}
	}
}

func (x *valueIndex) add(id pid, v *qdrant.Value) {
	x.visit(v, func(s string, n int64, isStr bool) {
		if isStr {
			if x.byStr[s] == nil {
				x.byStr[s] = map[pid]struct{}{}
			}
			x.byStr[s][id] = struct{}{}
		} else {
			if x.byInt[n] == nil {
				x.byInt[n] = map[pid]struct{}{}
			}
			x.byInt[n][id] = struct{}{}
		}
	})
}

func (x *valueIndex) del(id pid, v *qdrant.Value) {
	x.visit(v, func(s string, n int64, isStr bool) {
		if isStr {
			delete(x.byStr[s], id)
			if len(x.byStr[s]) == 0 {
				delete(x.byStr, s)
			}
		} else {
			delete(x.byInt[n], id)
			if len(x.byInt[n]) == 0 {
				delete(x.byInt, n)
			}
		}
	})
}

// setIndex (re)builds the value index of key, or drops it for types that
// have none here.
func (c *collection) setIndex(key string, typ qdrant.PayloadSchemaType) {
	delete(c.valueIdx, key)
	if typ != qdrant.PayloadSchemaType_Keyword && typ != qdrant.PayloadSchemaType_Integer {
		return
	}
	if p, err := parsePath(key); err != nil || len(p.items) > 0 {
		return
	}
	x := newValueIndex(typ)
	for id, p := range c.points {
		if v, ok := p.payload[key]; ok {
			x.add(id, v)
		}
	}
	c.valueIdx[key] = x
}

// reindex updates the value indexes for a point replaced (old, may be nil)
// by p (may be nil).
func (c *collection) reindex(old, p *point) {
	for key, x := range c.valueIdx {
		if old != nil {
			if v, ok := old.payload[key]; ok {
				x.del(old.id, v)
			}
		}
		if p != nil {
			if v, ok := p.payload[key]; ok {
				x.add(p.id, v)
			}
		}
	}
}

// candidates returns the points a filter can match according to the value
// indexes: the smallest set named by a must condition that matches
// keywords or integers on an indexed key. ok is false when no condition
// can use an index (every point is a candidate).
func (c *collection) candidates(f *qdrant.Filter) (ids map[pid]struct{}, ok bool) {
	for _, cond := range f.GetMust() {
		var set map[pid]struct{}
		var found bool
		switch v := cond.GetConditionOneOf().(type) {
		case *qdrant.Condition_Filter:
			set, found = c.candidates(v.Filter)
		case *qdrant.Condition_Field:
			set, found = c.fieldCandidates(v.Field)
		}
		if found && (!ok || len(set) < len(ids)) {
			ids, ok = set, true
		}
	}
	return ids, ok
}

func (c *collection) fieldCandidates(fc *qdrant.FieldCondition) (map[pid]struct{}, bool) {
	x, ok := c.valueIdx[fc.GetKey()]
	if !ok || fc.Match == nil || fc.Range != nil || fc.ValuesCount != nil || fc.IsEmpty != nil || fc.IsNull != nil ||
		fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil || fc.DatetimeRange != nil {
		return nil, false
	}
	union := func(sets ...map[pid]struct{}) map[pid]struct{} {
		if len(sets) == 1 {
			return sets[0]
		}
		out := map[pid]struct{}{}
		for _, s := range sets {
			for id := range s {
				out[id] = struct{}{}
			}
		}
		return out
	}
	switch m := fc.Match.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		if x.typ == qdrant.PayloadSchemaType_Keyword {
			return union(x.byStr[m.Keyword]), true
		}
	case *qdrant.Match_Integer:
		if x.typ == qdrant.PayloadSchemaType_Integer {
			return union(x.byInt[m.Integer]), true
		}
	case *qdrant.Match_Keywords:
		if x.typ == qdrant.PayloadSchemaType_Keyword {
			var sets []map[pid]struct{}
			for _, s := range m.Keywords.GetStrings() {
				sets = append(sets, x.byStr[s])
			}
			return union(sets...), true
		}
	case *qdrant.Match_Integers:
		if x.typ == qdrant.PayloadSchemaType_Integer {
			var sets []map[pid]struct{}
			for _, n := range m.Integers.GetIntegers() {
				sets = append(sets, x.byInt[n])
			}
			return union(sets...), true
		}
	}
	return nil, false
}

package casbinauthz

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"sync"

	"github.com/vecguard/vecguard/vecguard/authz"
)

// DefaultCacheSize is the number of compiled decisions an Authorizer keeps
// when Options.CacheSize is 0.
const DefaultCacheSize = 10000

const cacheShards = 16

// decisionCache is a bounded map from decision keys to compiled decisions.
// Each shard keeps two generations of entries: new entries go into hot;
// when hot is full it becomes cold and the old cold is dropped; a hit in
// cold moves the entry back to hot. Entries used since the last turnover
// survive it, so the cache holds at most 2*perShard entries per shard and
// keeps the recently used ones. A cache belongs to one policy generation and
// is dropped with it.
type decisionCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu        sync.RWMutex
	hot, cold map[string]authz.Decision
}

// newDecisionCache returns a cache of at most about size entries, or nil
// (no caching) when size < 0.
func newDecisionCache(size int) *decisionCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	per := (size + 2*cacheShards - 1) / (2 * cacheShards)
	c := &decisionCache{seed: maphash.MakeSeed(), perShard: per}
	for i := range c.shards {
		c.shards[i].hot = make(map[string]authz.Decision)
	}
	return c
}

func (c *decisionCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

func (c *decisionCache) get(key []byte) (authz.Decision, bool) {
	if c == nil {
		return authz.Decision{}, false
	}
	s := c.shard(key)
	s.mu.RLock()
	d, ok := s.hot[string(key)]
	if ok {
		s.mu.RUnlock()
		return d, true
	}
	d, ok = s.cold[string(key)]
	s.mu.RUnlock()
	if ok {
		s.mu.Lock()
		s.insert(string(key), d, c.perShard)
		s.mu.Unlock()
	}
	return d, ok
}

func (c *decisionCache) put(key []byte, d authz.Decision) {
	if c == nil {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	s.insert(string(key), d, c.perShard)
	s.mu.Unlock()
}

func (s *cacheShard) insert(key string, d authz.Decision, per int) {
	s.hot[key] = d
	if len(s.hot) >= per {
		s.cold = s.hot
		s.hot = make(map[string]authz.Decision, per)
	}
}

// len returns the number of entries (tests).
func (c *decisionCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.hot) + len(s.cold)
		s.mu.RUnlock()
	}
	return n
}

// appendKey appends the cache key of a request: the subject, tenant,
// action and collection, the sorted distinct roles and the sorted
// attributes that some rule refers to (refs), with their kinds and values.
// Other attributes cannot change a decision and stay out of the key, so
// per-request attributes do not fragment the cache. Every string is
// length-prefixed, so no two different requests share a key.
func appendKey(b []byte, p *authz.Principal, a authz.Action, coll string, refs map[string]bool) []byte {
	b = appendStr(b, p.Subject)
	b = appendStr(b, p.Tenant)
	b = appendStr(b, string(a))
	b = appendStr(b, coll)
	roles := p.Roles
	if !sortedUnique(roles) {
		var arr [16]string
		roles = append(arr[:0], roles...)
		slices.Sort(roles)
		roles = slices.Compact(roles)
	}
	b = binary.AppendUvarint(b, uint64(len(roles)))
	for _, r := range roles {
		b = appendStr(b, r)
	}
	var arr [16]string
	names := arr[:0]
	for k := range p.Attributes {
		if refs[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendStr(b, k)
		switch v := p.Attributes[k].(type) {
		case string:
			b = append(b, 's')
			b = appendStr(b, v)
		case int64:
			b = append(b, 'i')
			b = binary.AppendVarint(b, v)
		case int:
			b = append(b, 'i')
			b = binary.AppendVarint(b, int64(v))
		case float64:
			b = append(b, 'f')
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case bool:
			if v {
				b = append(b, 't')
			} else {
				b = append(b, 'b')
			}
		default:
			b = append(b, '?') // unsupported: never binds, whatever its value
		}
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

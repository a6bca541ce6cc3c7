package casbinauthz

import (
	"fmt"
	"strings"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// pattern is a compiled collection pattern (see the package doc, "Collection
// patterns"). A collection name is a sequence of segments separated by '-'
// or '_'. In a pattern, "*" stands for exactly one whole segment and "**",
// only as the last segment, for one or more characters of any kind; the
// separators and literal segments must match exactly. The pattern "*" (or
// "**") alone matches every collection. A '*' inside a segment ("acme*") is
// refused: it would also match "acme-evil" and "acmecorp".
type pattern struct {
	all   bool
	exact string   // when parts is nil and !all
	parts []string // literal segments, "*" or (last) "**"
	seps  []byte   // seps[i] separates parts[i] and parts[i+1]
}

func isSep(c byte) bool { return c == '-' || c == '_' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parsePattern compiles a collection name or pattern.
func parsePattern(s string) (pattern, error) {
	if s == "*" || s == "**" {
		return pattern{all: true}, nil
	}
	if !strings.Contains(s, "*") {
		if !driver.ValidName(s) {
			return pattern{}, fmt.Errorf("collection %q is not a valid collection name or pattern", s)
		}
		return pattern{exact: s}, nil
	}
	if len(s) > driver.MaxNameLen {
		return pattern{}, fmt.Errorf("collection pattern longer than %d characters", driver.MaxNameLen)
	}
	var p pattern
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !isSep(s[i]) {
			continue
		}
		seg := s[start:i]
		switch {
		case seg == "*":
		case seg == "**":
			if i != len(s) {
				return pattern{}, fmt.Errorf("collection pattern %q: ** may only be the last segment", s)
			}
		case seg == "":
			return pattern{}, fmt.Errorf("collection pattern %q has an empty segment", s)
		case strings.IndexFunc(seg, func(r rune) bool { return r != '*' && (r > 0x7f || !isAlnum(byte(r))) }) >= 0:
			return pattern{}, fmt.Errorf("collection pattern %q has an invalid character", s)
		case strings.Contains(seg, "*"):
			return pattern{}, fmt.Errorf("collection pattern %q: * must stand for a whole segment (write %s-* for one segment or %s-** for any suffix; %q would also match %q)",
				s, strings.Trim(seg, "*"), strings.Trim(seg, "*"), seg, strings.Trim(seg, "*")+"-evil")
		default:
			if len(p.parts) == 0 && !(seg[0] >= 'a' && seg[0] <= 'z' || seg[0] >= 'A' && seg[0] <= 'Z') {
				return pattern{}, fmt.Errorf("collection pattern %q must start with a letter or *", s)
			}
		}
		p.parts = append(p.parts, seg)
		if i < len(s) {
			p.seps = append(p.seps, s[i])
		}
		start = i + 1
	}
	return p, nil
}

// match reports whether the collection name matches the pattern.
func (p *pattern) match(name string) bool {
	if p.all {
		return true
	}
	if p.parts == nil {
		return name == p.exact
	}
	pos := 0
	for i, part := range p.parts {
		if i > 0 {
			if pos >= len(name) || name[pos] != p.seps[i-1] {
				return false
			}
			pos++
		}
		switch part {
		case "**":
			return pos < len(name)
		case "*":
			end := pos
			for end < len(name) && !isSep(name[end]) {
				end++
			}
			if end == pos {
				return false
			}
			pos = end
		default:
			if !strings.HasPrefix(name[pos:], part) {
				return false
			}
			pos += len(part)
			if pos < len(name) && !isSep(name[pos]) {
				return false
			}
		}
	}
	return pos == len(name)
}

func (p *pattern) isExact() bool { return !p.all && p.parts == nil }

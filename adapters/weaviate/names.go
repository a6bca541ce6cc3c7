package weaviate

import (
	"strings"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// Weaviate class and property names are restricted (a class starts with a
// capital letter; both allow only ASCII letters, digits and '_'), Weaviate
// compares them case-insensitively in places and lowercases the first letter
// of property names. vecguard names are mapped onto them with an escape that
// leaves only lowercase letters, digits and '_', so two different vecguard
// names never meet in Weaviate, and the mapping is reversed exactly:
//
//	'a'-'z', '0'-'9'  themselves
//	'A'-'Z'           '_' + the lowercase letter
//	'_'               "__"
//	'-'               "_0" (collection names only)
//
// A collection named n is the class ClassPrefix + escape(n): "docs" is
// "Vg_docs", "myDocs" is "Vg_my_docs", "my_docs" is "Vg_my__docs". Classes
// without the prefix are not vecguard's and are not listed.
//
// A field keeps its name as its property name when the name is already
// lowercase letters, digits and '_' starting with a letter, is not one
// Weaviate reserves ("id") and does not start with "vg"; any other field name
// f becomes "vgf_" + escape(f): "userId" is "vgf_user_id", "_vg_iv" is
// "vgf___vg__iv". The adapter's own properties start with "vgw_" and cannot
// clash with either form. No property starts with '_': Weaviate keeps no
// null-state index for such names.

// ClassPrefix starts the Weaviate class name of every vecguard collection.
const ClassPrefix = "Vg_"

// Internal properties of the adapter.
const (
	propKey     = "vgw_key"     // sortable point ID: scroll order and ID filters
	propPayload = "vgw_payload" // JSON of undeclared payload keys and declared null keys
	escapedProp = "vgf_"        // prefix of escaped field names
)

func escapeName(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte('_')
			b.WriteByte(c - 'A' + 'a')
		case c == '_':
			b.WriteString("__")
		case c == '-':
			b.WriteString("_0")
		default:
			// Not reachable for validated names; keep the mapping injective anyway.
			b.WriteString("_1")
			const hexdigits = "0123456789abcdef"
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}

func unescapeName(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '_':
			if i+1 >= len(s) {
				return "", false
			}
			i++
			switch n := s[i]; {
			case n >= 'a' && n <= 'z':
				b.WriteByte(n - 'a' + 'A')
			case n == '_':
				b.WriteByte('_')
			case n == '0':
				b.WriteByte('-')
			case n == '1':
				if i+2 >= len(s) {
					return "", false
				}
				v, ok := unhex2(s[i+1], s[i+2])
				if !ok {
					return "", false
				}
				b.WriteByte(v)
				i += 2
			default:
				return "", false
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

func unhex2(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

// className returns the Weaviate class of a vecguard collection.
func className(collection string) string { return ClassPrefix + escapeName(collection) }

// collectionName reverses className; ok is false for classes that are not
// vecguard collections.
func collectionName(class string) (string, bool) {
	if !strings.HasPrefix(class, ClassPrefix) {
		return "", false
	}
	n, ok := unescapeName(class[len(ClassPrefix):])
	if !ok || !driver.ValidName(n) || className(n) != class {
		return "", false
	}
	return n, true
}

// propertyName returns the Weaviate property of a payload field.
func propertyName(field string) string {
	if plainProperty(field) {
		return field
	}
	return escapedProp + escapeName(field)
}

// plainProperty reports whether a field name can be its own property name.
func plainProperty(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' || s == "id" || strings.HasPrefix(s, "vg") {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '_':
		default:
			return false
		}
	}
	return true
}

// fieldName reverses propertyName; ok is false for properties that are not
// payload fields (the adapter's own, or foreign ones).
func fieldName(prop string) (string, bool) {
	if strings.HasPrefix(prop, escapedProp) {
		f, ok := unescapeName(prop[len(escapedProp):])
		if !ok || f == "" || propertyName(f) != prop {
			return "", false
		}
		return f, true
	}
	if plainProperty(prop) {
		return prop, true
	}
	return "", false
}

package main

import (
	"strings"
	"testing"
)

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:50051": true,
		"[::1]:50051":     true,
		"localhost:50051": true,
		"0.0.0.0:50051":   false,
		":50051":          false,
		"10.0.0.7:50051":  false,
		"rag.example:443": false,
		"127.0.0.1":       false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v", addr, got)
		}
	}
}

func TestOpenStore(t *testing.T) {
	if d, err := openStore("memory", ""); err != nil || d == nil {
		t.Fatalf("memory: %v", err)
	}
	for _, tc := range []struct{ store, addr, want string }{
		{"weaviate", "", "module of its own"},
		{"milvus", "", "module of its own"},
		{"pinecone", "", "unknown store"},
		{"qdrant", "no-port", "missing port"},
		{"qdrant", "localhost:http", "invalid Qdrant port"},
	} {
		if _, err := openStore(tc.store, tc.addr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("openStore(%q, %q) = %v, want %q", tc.store, tc.addr, err, tc.want)
		}
	}
}

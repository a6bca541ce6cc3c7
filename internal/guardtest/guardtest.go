// Package guardtest holds the test doubles that the adapters' transparent
// (interceptor) tests share: an Auditor that keeps its records and a gRPC
// server interceptor that keeps the methods reaching the server.
package guardtest

import (
	"context"
	"sync"

	"google.golang.org/grpc"

	"github.com/vecguard/vecguard/vecguard/audit"
)

// Methods records the full method names of the RPCs that reach a server.
type Methods struct {
	mu      sync.Mutex
	methods []string
}

// Intercept is a grpc.UnaryServerInterceptor that records the method.
func (m *Methods) Intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	m.mu.Lock()
	m.methods = append(m.methods, info.FullMethod)
	m.mu.Unlock()
	return h(ctx, req)
}

// Take returns the methods recorded since the last Take and forgets them.
func (m *Methods) Take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.methods
	m.methods = nil
	return out
}

// Auditor keeps a copy of every audit record, in order.
type Auditor struct {
	mu   sync.Mutex
	recs []audit.Record
}

var _ audit.Auditor = (*Auditor)(nil)

// Audit implements audit.Auditor.
func (a *Auditor) Audit(_ context.Context, r *audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, *r)
	return nil
}

// Ops returns the operations of the records kept, in order.
func (a *Auditor) Ops() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.recs))
	for i, r := range a.recs {
		out[i] = r.Operation
	}
	return out
}

// Records returns a copy of the records kept, in order.
func (a *Auditor) Records() []audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Record(nil), a.recs...)
}

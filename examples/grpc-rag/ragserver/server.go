package ragserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/examples/grpc-rag/ragpb"
	"github.com/vecguard/vecguard/internal/toyembed"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcauth"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
	"github.com/vecguard/vecguard/vecguard/limits"
)

// Config configures a Server.
type Config struct {
	// Driver is the vector database: memory.New() or another adapter.
	Driver driver.Driver
	// Authenticator establishes the caller of each call, e.g.
	// Credentials.Authenticator.
	Authenticator grpcauth.Authenticator
	// Tenants get a handbook collection each.
	Tenants []string
	// Budget is every principal's budget; Budgets overrides it per subject.
	Budget  limits.Budget
	Budgets map[string]limits.Budget
	// AuditOut receives the audit log as JSON lines (nil: discarded).
	AuditOut io.Writer
	// AuditSalt keys the HMAC of redacted audit values (nil: random).
	AuditSalt []byte
	// Logger receives authentication failures and internal errors (nil:
	// slog.Default()). It never sees a credential.
	Logger *slog.Logger
	// ServerOptions are added to the gRPC server's (e.g. grpc.Creds).
	ServerOptions []grpc.ServerOption
}

// Server is the retrieval service.
type Server struct {
	ragpb.UnimplementedRetrievalServer
	client *vecguard.Client
	audit  *audit.Logger
	trail  *trail
	grpc   *grpc.Server
	log    *slog.Logger
}

// New builds the service and creates its collections.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Driver == nil || cfg.Authenticator == nil {
		return nil, errors.New("ragserver: Driver and Authenticator are required")
	}
	s := &Server{trail: newTrail(1000), log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	out := cfg.AuditOut
	if out == nil {
		out = io.Discard
	}
	var err error
	s.audit, err = audit.New(audit.Multi(audit.NewJSONSink(out), s.trail), &audit.Options{Salt: cfg.AuditSalt})
	if err != nil {
		return nil, err
	}
	s.client = vecguard.New(cfg.Driver, &vecguard.Options{
		Authorizer: Policy,
		Auditor:    s.audit,
		Limiter: limits.NewMemory(cfg.Budget, &limits.Options{BudgetFor: func(subject, _ string) (limits.Budget, bool) {
			b, ok := cfg.Budgets[subject]
			return b, ok
		}}),
	})
	if err := s.createCollections(ctx, cfg.Tenants); err != nil {
		s.Close()
		return nil, err
	}

	onFailure := grpcauth.WithFailureHook(func(ctx context.Context, err error, st *status.Status) {
		method, _ := grpc.Method(ctx)
		s.log.WarnContext(ctx, "authentication failed", "method", method, "code", st.Code().String(), "error", err)
	})
	onError := grpcerr.WithHook(func(ctx context.Context, err error, st *status.Status) {
		if st.Code() == codes.Internal {
			method, _ := grpc.Method(ctx)
			s.log.ErrorContext(ctx, "internal error", "method", method, "error", err)
		}
	})
	opts := append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(cfg.Authenticator, onFailure), grpcauth.NotHealthCheck),
			grpcerr.UnaryServerInterceptor(onError),
		),
		grpc.ChainStreamInterceptor(
			selector.StreamServerInterceptor(grpcauth.StreamServerInterceptor(cfg.Authenticator, onFailure), grpcauth.NotHealthCheck),
			grpcerr.StreamServerInterceptor(onError),
		),
	}, cfg.ServerOptions...)
	s.grpc = grpc.NewServer(opts...)
	ragpb.RegisterRetrievalServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, health.NewServer())
	return s, nil
}

func (s *Server) createCollections(ctx context.Context, tenants []string) error {
	ctx = bootstrap(ctx)
	vectors := []vecguard.VectorSpec{{Name: "text", Dim: toyembed.Dim, Distance: vecguard.Cosine}}
	specs := []vecguard.CollectionSpec{{
		Name:        SharedCollection,
		Vectors:     vectors,
		Fields:      []vecguard.FieldSpec{{Name: "tenant", Kind: vecguard.KindString, Filterable: true}},
		TenantField: "tenant",
	}}
	for _, t := range tenants {
		specs = append(specs, vecguard.CollectionSpec{Name: HandbookCollection(t), Vectors: vectors})
	}
	for _, spec := range specs {
		err := s.client.CreateCollection(ctx, spec)
		if err != nil && !errors.Is(err, vecguard.ErrAlreadyExists) {
			return err
		}
	}
	return nil
}

// Serve serves gRPC on lis until Stop.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// Stop stops serving, waiting for calls under way, and closes the client
// and the audit log (writing the entries still queued).
func (s *Server) Stop() {
	s.grpc.GracefulStop()
	s.Close()
}

// Close closes the client and the audit log.
func (s *Server) Close() {
	s.client.Close()
	if err := s.audit.Close(); err != nil {
		s.log.Error("closing the audit log", "error", err)
	}
}

// Limits on requests, checked before anything is embedded.
const (
	maxDocuments = 100
	maxTextBytes = 16 << 10
	maxTopK      = 20
)

// AddDocuments implements ragpb.RetrievalServer.
func (s *Server) AddDocuments(ctx context.Context, req *ragpb.AddDocumentsRequest) (*ragpb.AddDocumentsResponse, error) {
	docs := req.GetDocuments()
	if len(docs) == 0 || len(docs) > maxDocuments {
		return nil, status.Errorf(codes.InvalidArgument, "send 1 to %d documents", maxDocuments)
	}
	points := make([]vecguard.Point, 0, len(docs))
	for _, d := range docs {
		if d.GetId() == 0 || len(d.GetText()) > maxTextBytes || len(d.GetTitle()) > 256 {
			return nil, status.Errorf(codes.InvalidArgument, "each document needs an id, a title of at most 256 bytes and a text of at most %d bytes", maxTextBytes)
		}
		points = append(points, vecguard.Point{
			ID:      vecguard.NumID(d.GetId()),
			Vectors: map[string][]float32{"text": toyembed.Embed(d.GetTitle() + " " + d.GetText())},
			Payload: map[string]any{"title": d.GetTitle(), "text": d.GetText()},
		})
	}
	// The client fills the tenant field from the principal and refuses
	// points of another tenant; the error goes back through grpcerr.
	if err := s.client.Upsert(ctx, req.GetCollection(), points); err != nil {
		return nil, err
	}
	return &ragpb.AddDocumentsResponse{Added: int32(len(points))}, nil
}

// Search implements ragpb.RetrievalServer.
func (s *Server) Search(ctx context.Context, req *ragpb.SearchRequest) (*ragpb.SearchResponse, error) {
	k := int(req.GetTopK())
	if k == 0 {
		k = 3
	}
	if k < 0 || k > maxTopK || len(req.GetQuery()) > maxTextBytes {
		return nil, status.Errorf(codes.InvalidArgument, "top_k must be 1 to %d and the query at most %d bytes", maxTopK, maxTextBytes)
	}
	hits, err := s.client.Search(ctx, req.GetCollection(), vecguard.SearchRequest{
		Vector:        toyembed.Embed(req.GetQuery()),
		Limit:         k,
		PayloadFields: []string{"title", "text"},
	})
	if err != nil {
		return nil, err
	}
	resp := &ragpb.SearchResponse{}
	for _, h := range hits {
		title, _ := h.Payload["title"].(string)
		text, _ := h.Payload["text"].(string)
		resp.Hits = append(resp.Hits, &ragpb.Hit{Id: h.ID.Num(), Title: title, Text: text, Score: h.Score})
	}
	return resp, nil
}

// AuditTrail implements ragpb.RetrievalServer. It is the service's own
// authorization, outside vecguard: auditors read their own tenant's trail.
func (s *Server) AuditTrail(req *ragpb.AuditTrailRequest, stream grpc.ServerStreamingServer[ragpb.AuditEntry]) error {
	ctx := stream.Context()
	p, ok := authz.FromContext(ctx)
	if !ok || p.Tenant == "" || !slices.Contains(p.Roles, RoleAuditor) {
		return status.Error(codes.PermissionDenied, "the audit trail needs the auditor role")
	}
	n := int(req.GetLimit())
	if n <= 0 || n > 1000 {
		n = 20
	}
	// Wait until every entry written so far has reached the trail.
	if err := s.audit.Flush(ctx); err != nil {
		return err
	}
	for _, e := range s.trail.last(p.Tenant, n) {
		err := stream.Send(&ragpb.AuditEntry{
			Time: e.Time.UTC().Format(time.RFC3339), Subject: e.Subject, Tenant: e.Tenant,
			Operation: e.Operation, Collection: e.Collection, Decision: e.Decision, Rule: e.Rule,
			Reason: e.Reason, ResultCount: int32(e.ResultCount), Code: e.Code, PolicyFilter: e.PolicyFilter,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

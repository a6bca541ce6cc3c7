package milvus

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vecguard/vecguard/adapters/milvus/internal/milvusexpr"
	"github.com/vecguard/vecguard/adapters/milvus/internal/milvustest"
	"github.com/vecguard/vecguard/internal/guardtest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

// policy: admin may do anything; everyone else reads and writes the rows
// of their tenant, and "reader" only reads.
var policy = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
	switch {
	case p.Subject == "admin":
		return authz.Decision{Allow: true, Rule: "admin"}, nil
	case a == authz.Admin:
		return authz.Decision{Rule: "no-admin", Reason: "not an administrator"}, nil
	case p.Subject == "reader" && a != authz.Read:
		return authz.Decision{Rule: "read-only"}, nil
	}
	return authz.Decision{Allow: true, Rule: "tenant"}, nil
})

type transparentRig struct {
	rec   *guardtest.Methods
	log   *guardtest.Auditor
	guard *vecguard.Client
	app   *milvusclient.Client
	spec  *driver.CollectionSpec
}

func as(subject, tenant string) context.Context {
	return vecguard.WithPrincipal(context.Background(), vecguard.Principal{Subject: subject, Tenant: tenant})
}

// newRig starts a test server, a guard over a driver of its own, and an
// application client behind the interceptors, and creates the tenant
// collection "docs" through the guard.
func newRig(t *testing.T, withAdmin bool) *transparentRig {
	t.Helper()
	r := &transparentRig{rec: &guardtest.Methods{}, log: &guardtest.Auditor{}}
	srv := milvustest.Start(t, &milvustest.Options{UnaryInterceptor: r.rec.Intercept})
	ctx := t.Context()
	d, err := Open(ctx, &milvusclient.ClientConfig{Address: srv.Addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	r.guard = vecguard.New(d, &vecguard.Options{Authorizer: policy, Auditor: r.log})
	var opts *InterceptorOptions
	if withAdmin {
		opts = &InterceptorOptions{Authorizer: policy, Auditor: r.log}
	}
	r.app, err = milvusclient.New(ctx, &milvusclient.ClientConfig{
		Address: srv.Addr(),
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(r.guard, opts)),
			grpc.WithChainStreamInterceptor(StreamClientInterceptor(r.guard)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.app.Close(context.Background()) })
	r.spec = &driver.CollectionSpec{
		Name:    "docs",
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 2, Distance: driver.Euclid}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "color", Kind: driver.KindString, Filterable: true},
			{Name: "size", Kind: driver.KindInt, Filterable: true},
		},
		TenantField: "tenant",
	}
	if err := r.guard.CreateCollection(as("admin", ""), *r.spec); err != nil {
		t.Fatal(err)
	}
	r.rec.Take()
	return r
}

// insert writes rows as the application does: keys, vectors, colors (""
// for null) and sizes, and no tenant (the guard sets the caller's).
func (r *transparentRig) insert(t *testing.T, ctx context.Context, ids []uint64, vecs [][]float32, colors []string, extra []string) {
	t.Helper()
	keys := make([]string, len(ids))
	var cs []string
	valid := make([]bool, len(ids))
	sizes := make([]int64, len(ids))
	payload := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(driver.NumID(id))
		if colors[i] != "" {
			cs = append(cs, colors[i])
			valid[i] = true
		}
		sizes[i] = int64(id)
		payload[i] = []byte(`{"extra":"` + extra[i] + `","n":2.0}`)
	}
	colorCol, err := column.NewNullableColumnVarChar("color", cs, valid)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.app.Insert(ctx, milvusclient.NewColumnBasedInsertOption("docs",
		column.NewColumnVarChar("_vg_id", keys), column.NewColumnFloatVector("v", 2, vecs), colorCol,
		column.NewColumnInt64("size", sizes), column.NewColumnJSONBytes("_vg_payload", payload)))
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
}

func keysOfColumn(t *testing.T, col column.Column) []string {
	t.Helper()
	var out []string
	for i := range col.Len() {
		s, err := col.GetAsString(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func nkeys(ids ...uint64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = keyOf(driver.NumID(id))
	}
	return out
}

func TestTransparentData(t *testing.T) {
	r := newRig(t, false)
	alice, bob := as("alice", "t1"), as("bob", "t2")
	r.insert(t, alice, []uint64{1, 2, 3, 4}, [][]float32{{0, 0}, {1, 0}, {0, 2}, {3, 0}}, []string{"red", "", "blue", "red"}, []string{"a", "b", "c", "d"})
	r.insert(t, bob, []uint64{10, 11}, [][]float32{{0, 0}, {0, 1}}, []string{"red", "green"}, []string{"x", "y"})
	// The guard's driver writes with Upsert: an Insert at the server would
	// be the application's, sent on unguarded.
	if got := r.rec.Take(); slices.Contains(got, milvuspb.MilvusService_Insert_FullMethodName) {
		t.Errorf("the application's Insert reached the server: %v", got)
	}

	t.Run("Search", func(t *testing.T) {
		rs, err := r.app.Search(alice, milvusclient.NewSearchOption("docs", 10, []entity.Vector{entity.FloatVector{0, 0}}).
			WithANNSField("v").WithFilter("color != {c}").WithTemplateParam("c", "blue").WithOutputFields("color", "_vg_payload"))
		if err != nil {
			t.Fatal(err)
		}
		// Alice's rows only; the null color (2) does not match != as in Milvus.
		if got := keysOfColumn(t, rs[0].IDs); !slices.Equal(got, nkeys(1, 4)) {
			t.Errorf("keys %v, want %v", got, nkeys(1, 4))
		}
		if s := rs[0].Scores; len(s) != 2 || s[0] != 0 || math.Abs(float64(s[1]-9)) > 1e-5 {
			t.Errorf("scores %v, want the squared distances 0 and 9", s)
		}
		if c, _ := rs[0].GetColumn("color").GetAsString(1); c != "red" {
			t.Errorf("color %q", c)
		}
		raw, _ := rs[0].GetColumn("_vg_payload").Get(0)
		if b, _ := raw.([]byte); string(b) != `{"extra":"a","n":2.0}` {
			t.Errorf("payload %s", b)
		}
	})
	t.Run("Query", func(t *testing.T) {
		rs, err := r.app.Query(alice, milvusclient.NewQueryOption("docs").WithFilter("color is null or size > 2").WithOutputFields("size", "v"))
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOfColumn(t, rs.GetColumn("_vg_id")); !slices.Equal(got, nkeys(2, 3, 4)) {
			t.Errorf("keys %v", got)
		}
		if v, _ := rs.GetColumn("v").Get(2); !slices.Equal([]float32(v.(entity.FloatVector)), []float32{3, 0}) {
			t.Errorf("vector %v", v)
		}
		rs, err = r.app.Query(alice, milvusclient.NewQueryOption("docs").WithLimit(2).WithOffset(1).WithOutputFields("color"))
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOfColumn(t, rs.GetColumn("_vg_id")); !slices.Equal(got, nkeys(2, 3)) {
			t.Errorf("limited query: keys %v", got)
		}
		rs, err = r.app.Query(bob, milvusclient.NewQueryOption("docs").WithFilter("size >= 0").WithOutputFields("count(*)"))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := rs.GetColumn("count(*)").GetAsInt64(0); n != 2 {
			t.Errorf("bob counts %d", n)
		}
	})
	t.Run("Get", func(t *testing.T) {
		rs, err := r.app.Get(alice, milvusclient.NewQueryOption("docs").WithIDs(column.NewColumnVarChar("_vg_id", nkeys(3, 10, 1))).WithOutputFields("color"))
		if err != nil {
			t.Fatal(err)
		}
		// Bob's point 10 is not Alice's to read.
		if got := keysOfColumn(t, rs.GetColumn("_vg_id")); !slices.Equal(got, nkeys(1, 3)) {
			t.Errorf("keys %v", got)
		}
	})
	t.Run("HybridSearch", func(t *testing.T) {
		reqs := []*milvusclient.AnnRequest{
			milvusclient.NewAnnRequest("v", 3, entity.FloatVector{0, 0}),
			milvusclient.NewAnnRequest("v", 3, entity.FloatVector{3, 0}).WithFilter("size > {s}").WithTemplateParam("s", int64(1)),
		}
		rs, err := r.app.HybridSearch(alice, milvusclient.NewHybridSearchOption("docs", 2, reqs...).WithReranker(milvusclient.NewRRFReranker()).WithOutputFields("size"))
		if err != nil {
			t.Fatal(err)
		}
		// Ranks: 1, 2, 3 near (0, 0); 4, 2, 3 near (3, 0) among sizes > 1.
		// Points 2 and 3 are in both lists.
		if got := keysOfColumn(t, rs[0].IDs); !slices.Equal(got, nkeys(2, 3)) {
			t.Errorf("fused keys %v, want %v", got, nkeys(2, 3))
		}
		_, err = r.app.HybridSearch(alice, milvusclient.NewHybridSearchOption("docs", 2, reqs...).WithReranker(milvusclient.NewWeightedReranker([]float64{0.5, 0.5})))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("the weighted ranker: %v, want InvalidArgument", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if _, err := r.app.Delete(alice, milvusclient.NewDeleteOption("docs").WithExpr(`color == "red"`)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.app.Delete(alice, milvusclient.NewDeleteOption("docs").WithStringIDs("_vg_id", nkeys(2, 11))); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ctx  context.Context
			want int64
		}{{alice, 1}, {bob, 2}} {
			rs, err := r.app.Query(c.ctx, milvusclient.NewQueryOption("docs").WithOutputFields("count(*)"))
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := rs.GetColumn("count(*)").GetAsInt64(0); n != c.want {
				t.Errorf("count %d, want %d: a delete crossed tenants", n, c.want)
			}
		}
	})
	t.Run("Upsert", func(t *testing.T) {
		_, err := r.app.Upsert(bob, milvusclient.NewColumnBasedInsertOption("docs",
			column.NewColumnVarChar("_vg_id", nkeys(3)), column.NewColumnFloatVector("v", 2, [][]float32{{9, 9}})))
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("Bob overwriting Alice's point: %v, want PermissionDenied", err)
		}
	})
	ops := r.log.Ops()
	for _, want := range []string{"upsert", "search", "scroll", "count", "get", "delete"} {
		if !slices.Contains(ops, want) {
			t.Errorf("no %s in the audit log %v", want, ops)
		}
	}
}

func TestTransparentRefused(t *testing.T) {
	r := newRig(t, false)
	ctx := as("admin", "")
	schema := entity.NewSchema().WithName("other").
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName("vec").WithDataType(entity.FieldTypeFloatVector).WithDim(2))
	errs := map[string]error{
		"CreateCollection": r.app.CreateCollection(ctx, milvusclient.NewCreateCollectionOption("other", schema)),
		"CreateAlias":      r.app.CreateAlias(ctx, milvusclient.NewCreateAliasOption("docs", "alias")),
		"CreateRole":       r.app.CreateRole(ctx, milvusclient.NewCreateRoleOption("r")),
	}
	_, errs["CreateIndex"] = r.app.CreateIndex(ctx, milvusclient.NewCreateIndexOption("docs", "size", index.NewInvertedIndex()))
	for name, err := range errs {
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", name, err)
		}
	}
	if got := r.rec.Take(); len(got) != 0 {
		t.Errorf("refused RPCs reached the server: %v", got)
	}
	// Every refusal is audited as a denial of the caller.
	for name := range errs {
		found := false
		for _, rec := range r.log.Records() {
			if strings.HasSuffix(rec.Operation, "/"+name) {
				found = true
				if rec.Allowed || rec.Code != driver.PermissionDenied || rec.Subject != "admin" || rec.Class != audit.ClassAdmin {
					t.Errorf("%s: audit record %+v, want a denial of admin", name, rec)
				}
			}
		}
		if !found {
			t.Errorf("%s: refusal not audited", name)
		}
	}
	before := len(r.log.Records())
	if _, err := StreamClientInterceptor(r.guard)(ctx, &grpc.StreamDesc{}, nil, "/milvus.proto.milvus.MilvusService/Nope", nil); status.Code(err) != codes.PermissionDenied {
		t.Errorf("stream: %v, want PermissionDenied", err)
	}
	if recs := r.log.Records()[before:]; len(recs) != 1 || recs[0].Allowed || recs[0].Class != audit.ClassAdmin {
		t.Errorf("stream: audit records %+v, want one refusal", recs)
	}
	for _, expr := range []string{`color like "r%"`, `_vg_id > "n"`, `_vg_payload["extra"] == "a"`, `json_contains(_vg_payload["x"], 1)`} {
		_, err := r.app.Query(as("alice", "t1"), milvusclient.NewQueryOption("docs").WithFilter(expr).WithOutputFields("color"))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", expr, err)
		}
	}
}

// TestTransparentAdmin checks the admin gate: an administrator's admin RPC
// is recorded and sent on; anyone else's is refused.
func TestTransparentAdmin(t *testing.T) {
	r := newRig(t, true)
	_, err := r.app.DescribeIndex(as("alice", "t1"), milvusclient.NewDescribeIndexOption("docs", "v"))
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("DescribeIndex by a non-administrator: %v", err)
	}
	if got := r.rec.Take(); len(got) != 0 {
		t.Errorf("a refused admin RPC reached the server: %v", got)
	}
	desc, err := r.app.DescribeIndex(as("admin", ""), milvusclient.NewDescribeIndexOption("docs", "v"))
	if err != nil || desc.Name() != "v" {
		t.Fatalf("DescribeIndex by the administrator: %v, %v", desc, err)
	}
	if got := r.rec.Take(); !slices.Contains(got, milvuspb.MilvusService_DescribeIndex_FullMethodName) {
		t.Errorf("the administrator's DescribeIndex did not reach the server: %v", got)
	}
	ops := r.log.Ops()
	if n := strings.Count(strings.Join(ops, ","), "describe_index"); n != 2 {
		t.Errorf("%d describe_index audit records, want 2 (one denied, one allowed): %v", n, ops)
	}
}

// TestTransparentCollections checks the collection RPCs an application
// makes around its data calls.
func TestTransparentCollections(t *testing.T) {
	r := newRig(t, false)
	alice := as("alice", "t1")
	coll, err := r.app.DescribeCollection(alice, milvusclient.NewDescribeCollectionOption("docs"))
	if err != nil {
		t.Fatal(err)
	}
	if coll.Schema.PKFieldName() != keyField || len(coll.Schema.Fields) != 6 {
		t.Errorf("schema: key %s, %d fields", coll.Schema.PKFieldName(), len(coll.Schema.Fields))
	}
	if has, err := r.app.HasCollection(alice, milvusclient.NewHasCollectionOption("docs")); err != nil || !has {
		t.Errorf("HasCollection = %v, %v", has, err)
	}
	if has, err := r.app.HasCollection(alice, milvusclient.NewHasCollectionOption("nope")); err != nil || has {
		t.Errorf("HasCollection of a missing collection = %v, %v", has, err)
	}
	names, err := r.app.ListCollections(alice, milvusclient.NewListCollectionOption())
	if err != nil || !slices.Equal(names, []string{"docs"}) {
		t.Errorf("ListCollections = %v, %v", names, err)
	}
	task, err := r.app.LoadCollection(alice, milvusclient.NewLoadCollectionOption("docs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Await(alice); err != nil {
		t.Errorf("waiting for the load: %v", err)
	}
	if err := r.app.DropCollection(alice, milvusclient.NewDropCollectionOption("docs")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("DropCollection by a tenant: %v", err)
	}
	if err := r.app.DropCollection(as("admin", ""), milvusclient.NewDropCollectionOption("docs")); err != nil {
		t.Errorf("DropCollection by the administrator: %v", err)
	}
	if got := r.rec.Take(); slices.Contains(got, milvuspb.MilvusService_LoadCollection_FullMethodName) {
		t.Errorf("the application's LoadCollection reached the server: %v", got)
	}
}

// TestTransparentTable checks that every RPC of the service has a
// treatment in the package documentation's table that matches the code.
func TestTransparentTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		if f := strings.Fields(strings.TrimPrefix(l, "//")); len(f) >= 2 && strings.HasPrefix(f[0], "MilvusService/") {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	sd := milvuspb.MilvusService_ServiceDesc
	for _, m := range sd.Methods {
		full := "/" + sd.ServiceName + "/" + m.MethodName
		_, isEnforced := enforced[full]
		want := "refused"
		switch {
		case isEnforced:
			want = "enforced"
		case adminRPCs[full] != "":
			want = "admin"
		case passThrough[full]:
			want = "sent on"
		}
		if got := lines["MilvusService/"+m.MethodName]; !strings.HasPrefix(got, want) {
			t.Errorf("the table says %s is %q, the code %s", m.MethodName, got, want)
		}
	}
	if len(lines) != len(sd.Methods) {
		t.Errorf("the table has %d rows, the service %d methods", len(lines), len(sd.Methods))
	}
}

// callerRows are rows for the reverse-translation checks, with nulls.
func callerRows() []driver.Point {
	var rows []driver.Point
	colors := []any{nil, "red", "blue", ""}
	sizes := []any{nil, int64(1), int64(2), int64(-3)}
	for i := range 24 {
		p := map[string]any{"tenant": "t"}
		if c := colors[i%4]; c != nil {
			p["color"] = c
		}
		if s := sizes[(i/4)%4]; s != nil {
			p["size"] = s
		}
		rows = append(rows, driver.Point{ID: driver.NumID(uint64(i)), Payload: p})
	}
	return rows
}

// checkCallerFilter compares callerFilter's filter with Milvus's rules on
// callerRows; it reports whether the expression was translated.
func checkCallerFilter(t *testing.T, spec *driver.CollectionSpec, expr string, tv map[string]*schemapb.TemplateValue) bool {
	t.Helper()
	f, err := callerFilter(spec, expr, tv)
	if err != nil || isBlank(expr) {
		return err == nil // a blank expression is every row: no filter
	}
	n, _ := milvusexpr.Parse(expr)
	vals, _ := milvusexpr.TemplateValues(tv)
	n, _ = milvusexpr.Bind(n, vals)
	for _, r := range callerRows() {
		row := milvusexpr.RowFunc(func(col string) any {
			if col == keyField {
				return keyOf(r.ID)
			}
			return r.Payload[col]
		})
		if got, want := f.Match(r.ID, r.Payload), milvusexpr.Eval(n, row); got != want {
			t.Fatalf("%s on row %v: the filter gives %v, Milvus's rules %v", expr, r.ID, got, want)
		}
	}
	return true
}

func TestCallerFilter(t *testing.T) {
	spec := &driver.CollectionSpec{Name: "c", Vectors: []driver.VectorSpec{{Name: "v", Dim: 1, Distance: driver.Dot}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}, {Name: "color", Kind: driver.KindString, Filterable: true}, {Name: "size", Kind: driver.KindInt, Filterable: true}},
		TenantField: "tenant"}
	str := func(s string) *schemapb.TemplateValue {
		return &schemapb.TemplateValue{Val: &schemapb.TemplateValue_StringVal{StringVal: s}}
	}
	ok := []struct {
		expr string
		tv   map[string]*schemapb.TemplateValue
	}{
		{`color == "red"`, nil}, {`color != "red"`, nil}, {`not (color == "red")`, nil},
		{`color is null or color != {c}`, map[string]*schemapb.TemplateValue{"c": str("red")}},
		{`not (color == "red" and size > 1)`, nil}, {`color not in ["red", ""]`, nil},
		{`size > 1.5 or size <= -3`, nil}, {`size == 1.5`, nil}, {`size != 2.0`, nil}, {`not (size in [1, 2.5])`, nil},
		{`_vg_id in ["n0000000000000001", "bad"]`, nil}, {`not (_vg_id == "n0000000000000002")`, nil},
		{`_vg_id is null or color is not null`, nil}, {`!(tenant != "t")`, nil},
	}
	for _, tc := range ok {
		if !checkCallerFilter(t, spec, tc.expr, tc.tv) {
			t.Errorf("%s was not translated", tc.expr)
		}
	}
	for _, bad := range []string{`color like "r%"`, `color > "a"`, `_vg_id < "n"`, `_vg_payload["a"] == 1`, `nosuch == 1`, `color == 1`, `v == 1`, `color ==`} {
		if _, err := callerFilter(spec, bad, nil); !strings.Contains(driver.CodeOf(err).String(), "invalid argument") {
			t.Errorf("%s: %v, want InvalidArgument", bad, err)
		}
	}
	if f, err := callerFilter(spec, "  ", nil); f != nil || err != nil {
		t.Errorf("a blank expression: %v, %v", f, err)
	}
}

// FuzzCallerFilter checks the reverse translation by meaning: on rows with
// nulls, the filter selects exactly what Milvus's rules select.
func FuzzCallerFilter(f *testing.F) {
	for _, s := range []string{`color == "red"`, `not (color != "" or size < 2)`, `size in [1, -3] and not (color is null)`,
		`_vg_id in ["n0000000000000003"] || !(size >= 1.5)`, `not (not (color not in ["blue"]))`} {
		f.Add(s)
	}
	spec := &driver.CollectionSpec{Name: "c", Vectors: []driver.VectorSpec{{Name: "v", Dim: 1, Distance: driver.Dot}},
		Fields:      []driver.FieldSpec{{Name: "tenant", Kind: driver.KindString, Filterable: true}, {Name: "color", Kind: driver.KindString, Filterable: true}, {Name: "size", Kind: driver.KindInt, Filterable: true}},
		TenantField: "tenant"}
	f.Fuzz(func(t *testing.T, expr string) {
		checkCallerFilter(t, spec, expr, nil)
	})
}

type fixedKeys struct{ k *encryption.Keyring }

func (f fixedKeys) Keyring(context.Context, encryption.Scope) (*encryption.Keyring, error) {
	return f.k, nil
}

// TestTransparentEncryption checks that an encrypted collection behind the
// interceptors stores ciphertext and answers the application in plaintext.
func TestTransparentEncryption(t *testing.T) {
	srv := milvustest.Start(t, nil)
	ctx := t.Context()
	d, err := Open(ctx, &milvusclient.ClientConfig{Address: srv.Addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	root, err := encryption.HKDFRootKey([]byte("transparent test root key, 32 b!"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encryption.New(fixedKeys{kr}, encryption.Config{Fields: map[string]encryption.FieldMode{"note": encryption.Randomized}})
	if err != nil {
		t.Fatal(err)
	}
	guard := vecguard.New(d, &vecguard.Options{Authorizer: policy, Encryption: map[string]encryption.Protector{"secret": enc}})
	spec := driver.CollectionSpec{Name: "secret", Vectors: []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{{Name: "note", Kind: driver.KindString}}}
	if err := guard.CreateCollection(as("admin", ""), spec); err != nil {
		t.Fatal(err)
	}
	app, err := milvusclient.New(ctx, &milvusclient.ClientConfig{Address: srv.Addr(), DialOptions: []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(guard, nil)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	alice := as("alice", "")
	const note = "the plaintext note"
	vec := []float32{0.1, 0.9, -0.3, 0.4}
	_, err = app.Insert(alice, milvusclient.NewColumnBasedInsertOption("secret",
		column.NewColumnVarChar("_vg_id", nkeys(7)), column.NewColumnFloatVector("v", 4, [][]float32{vec}), column.NewColumnVarChar("note", []string{note})))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := app.Search(alice, milvusclient.NewSearchOption("secret", 1, []entity.Vector{entity.FloatVector(vec)}).WithOutputFields("note", "v"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rs[0].GetColumn("note").GetAsString(0); got != note {
		t.Errorf("note %q, want the plaintext", got)
	}
	if v, _ := rs[0].GetColumn("v").Get(0); !slices.Equal([]float32(v.(entity.FloatVector)), vec) {
		t.Errorf("vector %v, want the plaintext vector", v)
	}
	stored, err := d.DescribeCollection(ctx, "secret")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := d.Collection(stored).Read(ctx, &driver.ReadRequest{Limit: 10, Payload: driver.Projection{All: true}, WithVectors: true})
	if err != nil || len(pg.Points) != 1 {
		t.Fatalf("reading the stored point: %v", err)
	}
	if slices.Equal(pg.Points[0].Vectors["v"], vec) || strings.Contains(strings.Join(keysOfPayload(pg.Points[0].Payload), ","), note) {
		t.Errorf("the stored point holds the plaintext")
	}
}

// keysOfPayload returns the string values of a payload.
func keysOfPayload(p map[string]any) []string {
	var out []string
	for _, v := range p {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestRPCClass(t *testing.T) {
	tests := map[string]audit.Class{
		milvuspb.MilvusService_Search_FullMethodName:             audit.ClassRead,
		milvuspb.MilvusService_Query_FullMethodName:              audit.ClassRead,
		milvuspb.MilvusService_DescribeCollection_FullMethodName: audit.ClassRead,
		milvuspb.MilvusService_Insert_FullMethodName:             audit.ClassWrite,
		milvuspb.MilvusService_Upsert_FullMethodName:             audit.ClassWrite,
		milvuspb.MilvusService_Delete_FullMethodName:             audit.ClassDelete,
		milvuspb.MilvusService_CreateCollection_FullMethodName:   audit.ClassAdmin,
		milvuspb.MilvusService_DropCollection_FullMethodName:     audit.ClassAdmin,
		milvuspb.MilvusService_CreateRole_FullMethodName:         audit.ClassAdmin,
		"/milvus.proto.milvus.MilvusService/SomethingNew":        audit.ClassAdmin,
	}
	for method, want := range tests {
		if got := rpcClass(method); got != want {
			t.Errorf("rpcClass(%q) = %v, want %v", method, got, want)
		}
	}
}

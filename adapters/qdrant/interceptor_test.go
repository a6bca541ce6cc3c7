package qdrant

import (
	"context"
	"encoding/base64"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/internal/guardtest"
	"github.com/vecguard/vecguard/internal/qdranttest"
	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/encryption"
)

type transparent struct {
	srv   *qdranttest.Server
	app   *qc.Client // an unchanged client behind the guard
	guard *vecguard.Client
	drv   *Driver // the guard's driver, for checks behind its back
	rec   *guardtest.Methods
	audit *guardtest.Auditor
}

func newTransparent(t *testing.T) *transparent {
	t.Helper()
	rec := &guardtest.Methods{}
	srv := qdranttest.Start(t, &qdranttest.Options{UnaryInterceptor: rec.Intercept})
	d, err := Open(&qc.Config{Host: srv.Host(), Port: srv.Port(), PoolSize: 1, SkipCompatibilityCheck: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	al := &guardtest.Auditor{}
	guard := vecguard.New(d, &vecguard.Options{
		Authorizer: authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, a authz.Action, _ string) (authz.Decision, error) {
			if a == authz.Admin && !slices.Contains(p.Roles, "admin") {
				return authz.Decision{Reason: "admins only"}, nil
			}
			return authz.Decision{Allow: true, Rule: "test"}, nil
		}),
		Auditor: al,
	})
	tr := &transparent{srv: srv, guard: guard, drv: d, rec: rec, audit: al}
	tr.app = tr.dial(t, guard)
	return tr
}

// dial returns an unchanged client behind guard.
func (tr *transparent) dial(t *testing.T, guard *vecguard.Client) *qc.Client {
	t.Helper()
	app, err := qc.NewClient(&qc.Config{
		Host: tr.srv.Host(), Port: tr.srv.Port(), PoolSize: 1, SkipCompatibilityCheck: true,
		GrpcOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(guard)),
			grpc.WithChainStreamInterceptor(StreamClientInterceptor(guard)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

func as(ctx context.Context, tenant string, roles ...string) context.Context {
	return vecguard.WithPrincipal(ctx, vecguard.Principal{Subject: "user-" + tenant, Tenant: tenant, Roles: roles})
}

var docsSpec = vecguard.CollectionSpec{
	Name:    "docs",
	Vectors: []vecguard.VectorSpec{{Name: "v", Dim: 2, Distance: vecguard.Dot}},
	Fields: []vecguard.FieldSpec{
		{Name: "tenant", Kind: vecguard.KindString, Filterable: true},
		{Name: "color", Kind: vecguard.KindString, Filterable: true},
		{Name: "n", Kind: vecguard.KindInt, Filterable: true},
	},
	TenantField: "tenant",
}

func qpoint(id uint64, x, y float32, payload map[string]any) *qc.PointStruct {
	return &qc.PointStruct{
		Id:      qc.NewIDNum(id),
		Vectors: qc.NewVectorsMap(map[string]*qc.Vector{"v": qc.NewVectorDense([]float32{x, y})}),
		Payload: qc.NewValueMap(payload),
	}
}

func nums(ids []*qc.PointId) []uint64 {
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = id.GetNum()
	}
	return out
}

func retrievedIDs(ps []*qc.RetrievedPoint) []uint64 {
	ids := make([]*qc.PointId, len(ps))
	for i, p := range ps {
		ids[i] = p.GetId()
	}
	return nums(ids)
}

func scoredIDs(ps []*qc.ScoredPoint) []uint64 {
	ids := make([]*qc.PointId, len(ps))
	for i, p := range ps {
		ids[i] = p.GetId()
	}
	return nums(ids)
}

// TestTransparentTenantIsolation runs an unchanged client's calls for two
// tenants and checks that each sees and changes only its own points.
func TestTransparentTenantIsolation(t *testing.T) {
	tr := newTransparent(t)
	ctx := t.Context()
	a, b := as(ctx, "a"), as(ctx, "b")
	if err := tr.guard.CreateCollection(as(ctx, "ops", "admin"), docsSpec); err != nil {
		t.Fatal(err)
	}
	// Tenant a writes 1..6, tenant b 7..9; neither names its tenant.
	var pa, pb []*qc.PointStruct
	for i := uint64(1); i <= 6; i++ {
		pa = append(pa, qpoint(i, float32(i), 1, map[string]any{"color": []string{"red", "blue"}[i%2], "n": int64(i)}))
	}
	for i := uint64(7); i <= 9; i++ {
		pb = append(pb, qpoint(i, float32(i), 1, map[string]any{"color": "red", "n": int64(i)}))
	}
	if _, err := tr.app.Upsert(a, &qc.UpsertPoints{CollectionName: "docs", Points: pa}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.app.Upsert(b, &qc.UpsertPoints{CollectionName: "docs", Points: pb}); err != nil {
		t.Fatal(err)
	}
	// Tenant b may not overwrite a's point 1.
	_, err := tr.app.Upsert(b, &qc.UpsertPoints{CollectionName: "docs", Points: []*qc.PointStruct{qpoint(1, 0, 0, nil)}})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("b overwriting a's point: %v, want PermissionDenied", err)
	}

	red := &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeyword("color", "red")}}
	if n, err := tr.app.Count(a, &qc.CountPoints{CollectionName: "docs"}); err != nil || n != 6 {
		t.Errorf("a counts %d, %v; want 6", n, err)
	}
	if n, err := tr.app.Count(a, &qc.CountPoints{CollectionName: "docs", Filter: red}); err != nil || n != 3 {
		t.Errorf("a counts %d red, %v; want 3", n, err)
	}
	got, err := tr.app.Scroll(a, &qc.ScrollPoints{CollectionName: "docs", Limit: qc.PtrOf(uint32(100))})
	if err != nil {
		t.Fatal(err)
	}
	if ids := retrievedIDs(got); !slices.Equal(ids, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("a scrolls %v", ids)
	}
	if got[0].GetPayload()["tenant"].GetStringValue() != "a" {
		t.Errorf("the guard did not fill the tenant field: %v", got[0].GetPayload())
	}
	hits, err := tr.app.Query(b, &qc.QueryPoints{CollectionName: "docs", Query: qc.NewQueryDense([]float32{1, 0}), WithPayload: qc.NewWithPayload(true)})
	if err != nil {
		t.Fatal(err)
	}
	if ids := scoredIDs(hits); !slices.Equal(ids, []uint64{9, 8, 7}) {
		t.Errorf("b queries %v, want [9 8 7]", ids)
	}
	pts, err := tr.app.Get(b, &qc.GetPoints{CollectionName: "docs", Ids: []*qc.PointId{qc.NewIDNum(1), qc.NewIDNum(8)}})
	if err != nil {
		t.Fatal(err)
	}
	if ids := retrievedIDs(pts); !slices.Equal(ids, []uint64{8}) {
		t.Errorf("b gets %v, want [8]", ids)
	}
	// a's point as b's example is as good as missing.
	_, err = tr.app.Query(b, &qc.QueryPoints{CollectionName: "docs", Query: qc.NewQueryRecommend(&qc.RecommendInput{Positive: []*qc.VectorInput{qc.NewVectorInputID(qc.NewIDNum(1))}})})
	if status.Code(err) != codes.NotFound {
		t.Errorf("b recommending from a's point: %v, want NotFound", err)
	}
	hits, err = tr.app.Query(a, &qc.QueryPoints{CollectionName: "docs", Query: qc.NewQueryNearest(qc.NewVectorInputID(qc.NewIDNum(6))), Limit: qc.PtrOf(uint64(2))})
	if err != nil {
		t.Fatal(err)
	}
	if ids := scoredIDs(hits); !slices.Equal(ids, []uint64{5, 4}) {
		t.Errorf("a's nearest to 6: %v, want [5 4] (6 itself excluded, b's points hidden)", ids)
	}

	// Writes by filter touch only the caller's rows.
	if _, err := tr.app.SetPayload(b, &qc.SetPayloadPoints{CollectionName: "docs", Payload: qc.NewValueMap(map[string]any{"color": "green"}),
		PointsSelector: qc.NewPointsSelectorFilter(red)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.app.Delete(b, &qc.DeletePoints{CollectionName: "docs", Points: qc.NewPointsSelectorFilter(&qc.Filter{})}); err != nil {
		t.Fatal(err)
	}
	c := tr.drv.Collection(mustDescribe(t, tr.drv, "docs"))
	if n, err := c.Count(ctx, nil); err != nil || n != 6 {
		t.Errorf("after b deleted everything it may, %d points remain, %v; want a's 6", n, err)
	}
	if n, err := c.Count(ctx, driver.Eq("color", driver.String("red"))); err != nil || n != 3 {
		t.Errorf("b's update changed a's points: %d red, %v; want 3", n, err)
	}
	if ops := tr.audit.Ops(); !slices.Contains(ops, "upsert") || !slices.Contains(ops, "scroll") || !slices.Contains(ops, "recommend") {
		t.Errorf("audit records %v", ops)
	}
}

func mustDescribe(t *testing.T, d *Driver, name string) *driver.CollectionSpec {
	t.Helper()
	s, err := d.DescribeCollection(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTransparentScroll pages through a tenant's points with Qdrant's
// offsets: inclusive offset, next_page_offset the first ID of the next page.
func TestTransparentScroll(t *testing.T) {
	tr := newTransparent(t)
	ctx := t.Context()
	if err := tr.guard.CreateCollection(as(ctx, "ops", "admin"), docsSpec); err != nil {
		t.Fatal(err)
	}
	var pts []*qc.PointStruct
	for i := uint64(0); i < 20; i++ {
		pts = append(pts, qpoint(i, 1, 1, map[string]any{"n": int64(i)}))
	}
	u := qpoint(0, 1, 1, nil)
	u.Id = qc.NewIDUUID("00000000-0000-0000-0000-000000000000")
	pts = append(pts, u)
	tenantOf := func(i int) string { return []string{"a", "b"}[i%2] }
	for i, p := range pts {
		if _, err := tr.app.Upsert(as(ctx, tenantOf(i)), &qc.UpsertPoints{CollectionName: "docs", Points: []*qc.PointStruct{p}}); err != nil {
			t.Fatal(err)
		}
	}
	a := as(ctx, "a")
	var got []string
	var offset *qc.PointId
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("scroll does not end")
		}
		res, next, err := tr.app.ScrollAndOffset(a, &qc.ScrollPoints{CollectionName: "docs", Limit: qc.PtrOf(uint32(3)), Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res {
			got = append(got, p.GetId().String())
		}
		if next == nil {
			break
		}
		offset = next
	}
	want := []string{"num:0", "num:2", "num:4", "num:6", "num:8", "num:10", "num:12", "num:14", "num:16", "num:18", `uuid:"00000000-0000-0000-0000-000000000000"`}
	if !slices.Equal(got, want) {
		t.Errorf("scroll\n got %v\nwant %v", got, want)
	}
	// An offset that is not a stored ID starts at the next one.
	res, err := tr.app.Scroll(a, &qc.ScrollPoints{CollectionName: "docs", Limit: qc.PtrOf(uint32(2)), Offset: qc.NewIDNum(5)})
	if err != nil {
		t.Fatal(err)
	}
	if ids := retrievedIDs(res); !slices.Equal(ids, []uint64{6, 8}) {
		t.Errorf("scroll from 5: %v, want [6 8]", ids)
	}
}

// TestTransparentRefused checks that refused RPCs fail with
// PermissionDenied and never reach Qdrant.
func TestTransparentRefused(t *testing.T) {
	tr := newTransparent(t)
	ctx := as(t.Context(), "a", "admin")
	if err := tr.guard.CreateCollection(ctx, docsSpec); err != nil {
		t.Fatal(err)
	}
	tr.rec.Take()
	pc, cc := tr.app.GetPointsClient(), tr.app.GetCollectionsClient()
	calls := map[string]func() error{
		"Facet": func() error {
			_, err := pc.Facet(ctx, &qc.FacetCounts{CollectionName: "docs", Key: "color"})
			return err
		},
		"UpdateVectors": func() error {
			_, err := pc.UpdateVectors(ctx, &qc.UpdatePointVectors{CollectionName: "docs"})
			return err
		},
		"CreateFieldIndex": func() error {
			_, err := pc.CreateFieldIndex(ctx, &qc.CreateFieldIndexCollection{CollectionName: "docs", FieldName: "x"})
			return err
		},
		"ClearPayload": func() error {
			_, err := pc.ClearPayload(ctx, &qc.ClearPayloadPoints{CollectionName: "docs"})
			return err
		},
		"Discover": func() error {
			_, err := pc.Discover(ctx, &qc.DiscoverPoints{CollectionName: "docs"})
			return err
		},
		"UpdateCollection": func() error {
			_, err := cc.Update(ctx, &qc.UpdateCollection{CollectionName: "docs"})
			return err
		},
		"ListAliases": func() error {
			_, err := cc.ListAliases(ctx, &qc.ListAliasesRequest{})
			return err
		},
		"Snapshots": func() error {
			_, err := tr.app.ListSnapshots(ctx, "docs")
			return err
		},
		"BatchWithClear": func() error {
			_, err := tr.app.UpdateBatch(ctx, &qc.UpdateBatchPoints{CollectionName: "docs", Operations: []*qc.PointsUpdateOperation{
				qc.NewPointsUpdateClearPayload(&qc.PointsUpdateOperation_ClearPayload{Points: qc.NewPointsSelectorFilter(&qc.Filter{})}),
			}})
			return err
		},
	}
	for name, call := range calls {
		before := len(tr.audit.Records())
		if err := call(); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", name, err)
		}
		// Every refusal is audited as a denial of the caller.
		recs := tr.audit.Records()[before:]
		if len(recs) != 1 {
			t.Errorf("%s: %d audit records, want 1", name, len(recs))
			continue
		}
		r := recs[0]
		if r.Allowed || r.Code != driver.PermissionDenied || r.Subject != "user-a" || !strings.HasPrefix(r.Operation, "/qdrant.") {
			t.Errorf("%s: audit record %+v, want a denial of user-a", name, r)
		}
		if name != "ListAliases" && r.Collection != "docs" {
			t.Errorf("%s: audited collection %q, want docs", name, r.Collection)
		}
	}
	if m := tr.rec.Take(); len(m) > 0 {
		t.Errorf("refused RPCs reached the server: %v", m)
	}
	// An option transparent mode cannot honour is refused and audited too.
	before := len(tr.audit.Records())
	_, err := tr.app.Query(ctx, &qc.QueryPoints{CollectionName: "docs", Prefetch: []*qc.PrefetchQuery{{}}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("query with prefetch: %v, want InvalidArgument", err)
	}
	if recs := tr.audit.Records()[before:]; len(recs) != 1 || recs[0].Allowed || recs[0].Code != driver.InvalidArgument ||
		recs[0].Operation != qc.Points_Query_FullMethodName || recs[0].Class != audit.ClassRead {
		t.Errorf("query with prefetch: audit records %+v, want one refusal", recs)
	}
	// A stream is refused and audited.
	before = len(tr.audit.Records())
	if _, err := StreamClientInterceptor(tr.guard)(ctx, &grpc.StreamDesc{}, nil, "/qdrant.Points/Nope", nil); status.Code(err) != codes.PermissionDenied {
		t.Errorf("stream: %v, want PermissionDenied", err)
	}
	if recs := tr.audit.Records()[before:]; len(recs) != 1 || recs[0].Allowed || recs[0].Operation != "/qdrant.Points/Nope" {
		t.Errorf("stream: audit records %+v, want one refusal", recs)
	}
	// No principal: the guard refuses.
	_, err = tr.app.Count(t.Context(), &qc.CountPoints{CollectionName: "docs"})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("a call without a principal: %v, want Unauthenticated", err)
	}
	// The health check is sent on.
	if _, err := tr.app.HealthCheck(t.Context()); err != nil {
		t.Errorf("health check: %v", err)
	}
}

// TestTransparentCollections creates, describes, lists and drops through
// the unchanged client.
func TestTransparentCollections(t *testing.T) {
	tr := newTransparent(t)
	admin, user := as(t.Context(), "a", "admin"), as(t.Context(), "a")
	spec := docsSpec
	spec.Name = "made"
	req := &qc.CreateCollection{CollectionName: "made",
		VectorsConfig: qc.NewVectorsConfigMap(map[string]*qc.VectorParams{"v": {Size: 2, Distance: qc.Distance_Dot}}),
		Metadata:      map[string]*qc.Value{metadataKey: encodeSpec(&spec)}}
	if err := tr.app.CreateCollection(user, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("create by a non-admin: %v, want PermissionDenied", err)
	}
	if err := tr.app.CreateCollection(admin, req); err != nil {
		t.Fatal(err)
	}
	if got := mustDescribe(t, tr.drv, "made"); got.TenantField != "tenant" || len(got.Fields) != 3 {
		t.Errorf("created %+v", got)
	}
	info, err := tr.app.GetCollectionInfo(user, "made")
	if err != nil {
		t.Fatal(err)
	}
	if info.PointsCount != nil || !info.GetPayloadSchema()["tenant"].GetParams().GetKeywordIndexParams().GetIsTenant() {
		t.Errorf("collection info %v", info)
	}
	if ok, err := tr.app.CollectionExists(user, "made"); err != nil || !ok {
		t.Errorf("exists: %v, %v", ok, err)
	}
	if ok, err := tr.app.CollectionExists(user, "nosuch"); err != nil || ok {
		t.Errorf("exists nosuch: %v, %v", ok, err)
	}
	names, err := tr.app.ListCollections(user)
	if err != nil || !slices.Equal(names, []string{"made"}) {
		t.Errorf("list: %v, %v", names, err)
	}
	// A tenant-isolated collection holds every tenant's rows: a tenant's
	// admin may not drop it, a platform operator (no tenant) may.
	if err := tr.app.DeleteCollection(admin, "made"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("drop by a tenant's admin: %v, want PermissionDenied", err)
	}
	operator := as(t.Context(), "", "admin")
	if err := tr.app.DeleteCollection(operator, "made"); err != nil {
		t.Fatal(err)
	}
	// Qdrant answers result=false for a missing collection, which the
	// go-client reports as an error of its own, not a status error.
	res, err := tr.app.GetCollectionsClient().Delete(operator, &qc.DeleteCollection{CollectionName: "made"})
	if err != nil || res.GetResult() {
		t.Errorf("dropping a missing collection: result %v, %v; want false and no error, as Qdrant answers", res.GetResult(), err)
	}
}

// TestTransparentTable checks that every RPC of the Points and Collections
// services has a treatment, and that the package documentation's table
// names each one.
func TestTransparentTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sd := range []grpc.ServiceDesc{qc.Points_ServiceDesc, qc.Collections_ServiceDesc} {
		for _, m := range sd.Methods {
			n++
			full := "/" + sd.ServiceName + "/" + m.MethodName
			_, isEnforced := enforced[full]
			isRefused := slices.Contains(refused, full)
			if isEnforced == isRefused {
				t.Errorf("%s: enforced %v, refused %v; want exactly one", full, isEnforced, isRefused)
			}
			want := "refused"
			if isEnforced {
				want = "enforced"
			}
			line := ""
			for _, l := range strings.Split(string(doc), "\n") {
				if f := strings.Fields(strings.TrimPrefix(l, "//")); len(f) >= 2 && f[0] == full[1:] {
					line = l
				}
			}
			if !strings.Contains(line, want) {
				t.Errorf("the documentation's table does not list %s as %s", full, want)
			}
		}
	}
	if n != 42 {
		t.Errorf("%d RPCs, want 28 + 14", n)
	}
}

// TestFromQdrantFilter checks the reverse translation by meaning: the
// vecguard filter matches the corpus points Qdrant's filter selects.
func TestFromQdrantFilter(t *testing.T) {
	f := func(cs ...*qc.Condition) *qc.Filter { return &qc.Filter{Must: cs} }
	cases := map[string]*qc.Filter{
		"Empty":        {},
		"Keyword":      f(qc.NewMatchKeyword("s", "a")),
		"Integer":      f(qc.NewMatchInt("i", 2)),
		"Bool":         f(qc.NewMatchBool("b", true)),
		"Keywords":     f(qc.NewMatchKeywords("s", "a", "b")),
		"Integers":     f(qc.NewMatchInts("i", 1, -7)),
		"Except":       f(qc.NewMatchExcept("s", "a")),
		"ExceptInts":   f(qc.NewMatchExceptInts("i", 1)),
		"Range":        f(qc.NewRange("f", &qc.Range{Gt: qc.PtrOf(1.0), Lte: qc.PtrOf(2.5)})),
		"IsEmpty":      f(qc.NewIsEmpty("s")),
		"NotIsEmpty":   {MustNot: []*qc.Condition{qc.NewIsEmpty("b")}},
		"HasID":        f(qc.NewHasID(qc.NewIDNum(2), qc.NewIDNum(3))),
		"Should":       {Should: []*qc.Condition{qc.NewMatchKeyword("s", "b"), qc.NewMatchBool("b", true)}},
		"MustNot":      {MustNot: []*qc.Condition{qc.NewMatchKeyword("s", "a"), qc.NewMatchInt("i", 2)}},
		"EmptyShould":  {Should: []*qc.Condition{}, Must: []*qc.Condition{{}}},
		"Nested":       f(qc.NewFilterAsCondition(&qc.Filter{Should: []*qc.Condition{qc.NewMatchKeyword("s", "a"), qc.NewIsEmpty("i")}})),
		"MinShould":    {MinShould: &qc.MinShould{MinCount: 2, Conditions: []*qc.Condition{qc.NewMatchKeyword("s", "a"), qc.NewMatchBool("b", true), qc.NewMatchInt("i", 1)}}},
		"MinShouldAll": {MinShould: &qc.MinShould{MinCount: 4, Conditions: []*qc.Condition{qc.NewMatchKeyword("s", "a")}}},
		"All": {Must: []*qc.Condition{qc.NewRange("f", &qc.Range{Gte: qc.PtrOf(0.0)})}, Should: []*qc.Condition{qc.NewMatchKeyword("s", "a"), qc.NewMatchKeyword("s", "")},
			MustNot: []*qc.Condition{qc.NewHasID(qc.NewIDNum(5))}},
	}
	for name, qf := range cases {
		t.Run(name, func(t *testing.T) {
			vf, err := fromQdrantFilter(qf)
			if err != nil {
				t.Fatal(err)
			}
			if err := vf.Validate(testSchema); err != nil {
				t.Fatalf("translation %v is not valid: %v", vf, err)
			}
			for _, p := range corpus() {
				payload, _ := toPayload(p.Payload)
				want, err := qdranttest.Match(qf, pointID(p.ID), payload)
				if err != nil {
					t.Fatal(err)
				}
				if got := vf.Match(p.ID, p.Payload); got != want {
					t.Errorf("point %v %v: vecguard %v (%v), qdrant %v", p.ID, p.Payload, got, vf, want)
				}
			}
		})
	}
	for name, qf := range map[string]*qc.Filter{
		"Text":        f(qc.NewMatchText("s", "a")),
		"Geo":         f(qc.NewGeoRadius("s", 1, 2, 3)),
		"ValuesCount": f(qc.NewValuesCount("s", &qc.ValuesCount{Gt: qc.PtrOf(uint64(1))})),
		"NestedCond":  f(qc.NewNestedFilter("s", &qc.Filter{})),
		"HasVector":   f(qc.NewHasVector("v")),
		"Path":        f(qc.NewMatchKeyword("a.b", "x")),
		"NoBounds":    f(qc.NewRange("f", &qc.Range{})),
	} {
		if _, err := fromQdrantFilter(qf); driver.CodeOf(err) != driver.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestCursorBefore(t *testing.T) {
	for _, tc := range []struct {
		in   driver.PointID
		want string // the ID the cursor names, "" for none
	}{
		{driver.NumID(0), ""},
		{driver.NumID(10), "9"},
		{driver.MustParseUUID("00000000-0000-0000-0000-000000000000"), "18446744073709551615"},
		{driver.MustParseUUID("00000000-0000-0000-0000-000000000100"), "00000000-0000-0000-0000-0000000000ff"},
	} {
		got := cursorBefore(tc.in)
		want := ""
		if tc.want != "" {
			want = "c1." + b64(tc.want)
		}
		if got != want {
			t.Errorf("cursorBefore(%v) = %q, want %q", tc.in, got, want)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// FuzzFromQdrantFilter decodes arbitrary bytes as a Qdrant filter (what an
// application may send) and translates it: the translation never panics,
// and where it succeeds with a filter valid for the schema it selects the
// corpus points Qdrant's filter selects. Two documented differences are
// left out of the comparison: is_null (served as absent or null) and
// match integer on a float field (vecguard compares numbers by value).
func FuzzFromQdrantFilter(f *testing.F) {
	seeds := []*qc.Filter{
		{Must: []*qc.Condition{qc.NewMatchKeyword("s", "a"), qc.NewRange("f", &qc.Range{Gt: qc.PtrOf(1.0)})}},
		{Should: []*qc.Condition{qc.NewMatchInts("i", 1, 2), qc.NewIsEmpty("b")}, MustNot: []*qc.Condition{qc.NewHasID(qc.NewIDNum(3))}},
		{MinShould: &qc.MinShould{MinCount: 1, Conditions: []*qc.Condition{qc.NewMatchExcept("s", "a"), qc.NewMatchBool("b", false)}}},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var qf qc.Filter
		if proto.Unmarshal(data, &qf) != nil {
			return
		}
		vf, err := fromQdrantFilter(&qf)
		if err != nil {
			if driver.CodeOf(err) != driver.InvalidArgument {
				t.Fatalf("error with code %s: %v", driver.CodeOf(err), err)
			}
			return
		}
		if vf.Validate(testSchema) != nil || hasApproximation(&qf) {
			return
		}
		for _, p := range corpus() {
			payload, _ := toPayload(p.Payload)
			want, err := qdranttest.Match(&qf, pointID(p.ID), payload)
			if err != nil {
				return
			}
			if got := vf.Match(p.ID, p.Payload); got != want {
				t.Fatalf("point %v: vecguard %v (%v), qdrant %v (%v)", p.ID, got, vf, want, &qf)
			}
		}
	})
}

// hasApproximation reports whether a filter uses is_null, or match
// integer on the float field.
func hasApproximation(f *qc.Filter) bool {
	var conds []*qc.Condition
	conds = append(conds, f.GetMust()...)
	conds = append(conds, f.GetShould()...)
	conds = append(conds, f.GetMustNot()...)
	conds = append(conds, f.GetMinShould().GetConditions()...)
	for _, c := range conds {
		switch v := c.GetConditionOneOf().(type) {
		case *qc.Condition_IsNull:
			return true
		case *qc.Condition_Filter:
			if hasApproximation(v.Filter) {
				return true
			}
		case *qc.Condition_Field:
			if v.Field.IsNull != nil {
				return true
			}
			switch v.Field.GetMatch().GetMatchValue().(type) {
			case *qc.Match_Integer, *qc.Match_Integers, *qc.Match_ExceptIntegers:
				if v.Field.GetKey() == "f" {
					return true
				}
			}
		}
	}
	return false
}

type fixedKeys struct{ k *encryption.Keyring }

func (f fixedKeys) Keyring(context.Context, encryption.Scope) (*encryption.Keyring, error) {
	return f.k, nil
}

// TestTransparentEncryption checks that an unchanged client's writes are
// stored encrypted and its reads come back in plaintext.
func TestTransparentEncryption(t *testing.T) {
	root, err := encryption.HKDFRootKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := encryption.NewKeyring(1, map[uint32]encryption.RootKey{1: root})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encryption.New(fixedKeys{kr}, encryption.Config{Fields: map[string]encryption.FieldMode{
		"color": encryption.Deterministic, "note": encryption.Randomized,
	}})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTransparent(t)
	tr.guard = vecguard.New(tr.drv, &vecguard.Options{
		Authorizer: authz.AuthorizerFunc(func(context.Context, *authz.Principal, authz.Action, string) (authz.Decision, error) {
			return authz.Decision{Allow: true}, nil
		}),
		Encryption: map[string]encryption.Protector{"docs": enc},
	})
	app := tr.dial(t, tr.guard)
	ctx := as(t.Context(), "a")
	if err := tr.guard.CreateCollection(ctx, docsSpec); err != nil {
		t.Fatal(err)
	}
	p := qpoint(1, 0.6, 0.8, map[string]any{"color": "red", "note": "the secret note"})
	if _, err := app.Upsert(ctx, &qc.UpsertPoints{CollectionName: "docs", Points: []*qc.PointStruct{p, qpoint(2, 0.8, 0.6, map[string]any{"color": "blue"})}}); err != nil {
		t.Fatal(err)
	}
	// Behind the guard's back: no plaintext vector, color or note.
	stored, err := tr.drv.Collection(mustDescribe(t, tr.drv, "docs")).Read(t.Context(), &driver.ReadRequest{IDs: []driver.PointID{driver.NumID(1)}, Payload: driver.Projection{All: true}, WithVectors: true})
	if err != nil || len(stored.Points) != 1 {
		t.Fatalf("raw read: %v, %v", stored, err)
	}
	sp := stored.Points[0]
	if v := sp.Vectors["v"]; len(v) != 2 || (v[0] == 0.6 && v[1] == 0.8) {
		t.Errorf("the stored vector is the plaintext: %v", v)
	}
	for k, v := range sp.Payload {
		if s, ok := v.(string); ok && (strings.Contains(s, "secret") || s == "red") {
			t.Errorf("stored payload %q holds plaintext", k)
		}
	}
	// Through the guard: plaintext, and filters on the deterministic field work.
	got, err := app.Scroll(ctx, &qc.ScrollPoints{CollectionName: "docs", Filter: &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeyword("color", "red")}},
		WithVectors: qc.NewWithVectors(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetPayload()["note"].GetStringValue() != "the secret note" {
		t.Fatalf("scroll through the guard: %v", got)
	}
	v := got[0].GetVectors().GetVectors().GetVectors()["v"].GetDense().GetData()
	if len(v) != 2 || math.Abs(float64(v[0])-0.6) > 1e-6 || math.Abs(float64(v[1])-0.8) > 1e-6 {
		t.Errorf("decrypted vector %v, want [0.6 0.8]", v)
	}
	hits, err := app.Query(ctx, &qc.QueryPoints{CollectionName: "docs", Query: qc.NewQueryDense([]float32{0.6, 0.8})})
	if err != nil || len(hits) != 2 || hits[0].GetId().GetNum() != 1 {
		t.Errorf("query through the guard: %v, %v", hits, err)
	}
}

// TestTransparentBatch serves a QueryBatch through the guard: every query
// is filtered to the caller's tenant, a query without a collection name
// takes the batch's, and the caller's request message is left unchanged.
func TestTransparentBatch(t *testing.T) {
	tr := newTransparent(t)
	ctx := t.Context()
	a, b := as(ctx, "a"), as(ctx, "b")
	if err := tr.guard.CreateCollection(as(ctx, "ops", "admin"), docsSpec); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		ctx context.Context
		ids []uint64
	}{{a, []uint64{1, 2, 3}}, {b, []uint64{7, 8, 9}}} {
		var ps []*qc.PointStruct
		for _, id := range w.ids {
			ps = append(ps, qpoint(id, float32(id), 1, map[string]any{"color": "red"}))
		}
		if _, err := tr.app.Upsert(w.ctx, &qc.UpsertPoints{CollectionName: "docs", Points: ps}); err != nil {
			t.Fatal(err)
		}
	}
	named := &qc.QueryPoints{CollectionName: "docs", Query: qc.NewQuery(1, 1), Limit: qc.PtrOf(uint64(10))}
	unnamed := &qc.QueryPoints{Query: qc.NewQuery(1, 0), Limit: qc.PtrOf(uint64(10))}
	res, err := tr.app.QueryBatch(b, &qc.QueryBatchPoints{CollectionName: "docs", QueryPoints: []*qc.QueryPoints{named, unnamed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	for i, r := range res {
		ids := scoredIDs(r.GetResult())
		slices.Sort(ids)
		if !slices.Equal(ids, []uint64{7, 8, 9}) {
			t.Errorf("query %d of b's batch found %v, want [7 8 9]", i, ids)
		}
	}
	if unnamed.GetCollectionName() != "" {
		t.Errorf("the guard changed the caller's request: collection %q", unnamed.GetCollectionName())
	}
}

func TestRPCClass(t *testing.T) {
	tests := map[string]audit.Class{
		qc.Points_Facet_FullMethodName:            audit.ClassRead,
		qc.Points_Discover_FullMethodName:         audit.ClassRead,
		qc.Points_UpdateVectors_FullMethodName:    audit.ClassWrite,
		qc.Points_OverwritePayload_FullMethodName: audit.ClassWrite,
		qc.Points_ClearPayload_FullMethodName:     audit.ClassWrite,
		qc.Points_CreateFieldIndex_FullMethodName: audit.ClassWrite,
		qc.Points_DeleteVectors_FullMethodName:    audit.ClassDelete,
		qc.Collections_Update_FullMethodName:      audit.ClassAdmin,
		qc.Collections_ListAliases_FullMethodName: audit.ClassAdmin,
		qc.Snapshots_Create_FullMethodName:        audit.ClassAdmin,
		"/qdrant.Points/SomethingNew":             audit.ClassAdmin,
		"not a method":                            audit.ClassAdmin,
	}
	for method, want := range tests {
		if got := rpcClass(method); got != want {
			t.Errorf("rpcClass(%q) = %v, want %v", method, got, want)
		}
	}
}

package drivertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/audit/tlogfile"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
)

// The audit cases check what the guarded client writes to its audit log
// over this driver: exactly one record per operation with the right
// fields, no plaintext value anywhere in any sink's output, and a refused
// operation when no sink can record it.
func testAudit(t *testing.T, newHarness HarnessMaker) {
	t.Helper()
	t.Run("OneRecordPerOperation", func(t *testing.T) { testAuditRecords(t, newHarness) })
	t.Run("FailClosed", func(t *testing.T) { testAuditFailClosed(t, newHarness) })
}

// auditCanary starts every secret the audit cases use: payload strings,
// filter string values, policy values. None may reach a sink.
const auditCanary = "CANARY7f3a"

// auditVector is a vector whose component texts must not reach a sink.
var auditVector = []float32{0.7071234, 0.1357913, 0.2468024, 0.9182736}

func auditSpec() *driver.CollectionSpec {
	return &driver.CollectionSpec{
		Name:    uniqueName("audit"),
		Vectors: []driver.VectorSpec{{Name: "v", Dim: 4, Distance: driver.Cosine}},
		Fields: []driver.FieldSpec{
			{Name: "tenant", Kind: driver.KindString, Filterable: true},
			{Name: "label", Kind: driver.KindString, Filterable: true},
			{Name: "body", Kind: driver.KindString},
		},
		TenantField: "tenant",
	}
}

func auditPoints() []driver.Point {
	pts := make([]driver.Point, 3)
	for i := range pts {
		v := append([]float32(nil), auditVector...)
		v[i] += 0.1
		pts[i] = driver.Point{
			ID:      driver.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"v": v},
			Payload: map[string]any{"label": auditCanary + "-label-" + strconv.Itoa(i), "body": auditCanary + "-body"},
		}
	}
	return pts
}

// auditAuthorizer grants everything to "auditor", with a policy row filter
// whose value is a canary, and nothing to anyone else.
var auditAuthorizer = authz.AuthorizerFunc(func(_ context.Context, p *authz.Principal, _ authz.Action, _ string) (authz.Decision, error) {
	if p.Subject != "auditor" {
		return authz.Decision{Rule: "default", Reason: "not granted"}, nil
	}
	return authz.Decision{Allow: true, Rule: "auditor-all", Filter: driver.Ne("label", driver.String(auditCanary+"-policy"))}, nil
})

var auditSalt = []byte("drivertest audit salt, 32 bytes!")

func testAuditRecords(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	skey, vkey, err := tlogfile.GenerateKey("drivertest.audit")
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "audit.log")
	flog, err := tlogfile.Open(logPath, skey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	var kept []audit.Entry
	keep := audit.SinkFunc(func(_ context.Context, b []audit.Entry) error { kept = append(kept, b...); return nil })
	sink := audit.Multi(flog, audit.NewJSONSink(&lines), keep)
	sink.RequireAll = true
	logger, err := audit.New(sink, &audit.Options{Salt: auditSalt})
	if err != nil {
		t.Fatal(err)
	}
	c := vecguard.New(f.drv, &vecguard.Options{Authorizer: auditAuthorizer, Auditor: logger, RecordResultIDs: true})
	spec := auditSpec()
	f.dropLater(t, spec.Name)
	ctx := f.as("auditor", "t1")
	red := logger.Redactor()
	filterValue := auditCanary + "-filter"

	type opCase struct {
		op, class string
		call      func() error
		results   int // -1: not checked
		callerHas bool
	}
	ops := []opCase{
		{"create_collection", "ADMIN", func() error { return c.CreateCollection(ctx, *spec) }, -1, false},
		{"describe_collection", "READ", func() error { _, err := c.DescribeCollection(ctx, spec.Name); return err }, -1, false},
		{"list_collections", "READ", func() error { _, err := c.ListCollections(ctx); return err }, -1, false},
		{"upsert", "WRITE", func() error { return c.Upsert(ctx, spec.Name, auditPoints()) }, 3, false},
		{"search", "READ", func() error {
			_, err := c.Search(ctx, spec.Name, vecguard.SearchRequest{Vector: auditVector, Limit: 2, WithPayload: true,
				Filter: driver.Ne("label", driver.String(filterValue))})
			return err
		}, 2, true},
		{"recommend", "READ", func() error {
			_, err := c.Recommend(ctx, spec.Name, vecguard.RecommendRequest{Positive: []driver.PointID{driver.NumID(1)}, Limit: 5})
			return err
		}, 2, false},
		{"get", "READ", func() error {
			_, err := c.Get(ctx, spec.Name, []driver.PointID{driver.NumID(1), driver.NumID(2)}, vecguard.ReadOptions{WithPayload: true})
			return err
		}, 2, false},
		{"scroll", "READ", func() error {
			_, err := c.Scroll(ctx, spec.Name, vecguard.ScrollRequest{Limit: 10, WithPayload: true})
			return err
		}, 3, false},
		{"count", "READ", func() error {
			_, err := c.Count(ctx, spec.Name, driver.In("label", driver.String(filterValue)))
			return err
		}, 0, true},
		{"update_payload", "WRITE", func() error {
			return c.UpdatePayload(ctx, spec.Name, vecguard.PayloadUpdate{IDs: []driver.PointID{driver.NumID(1)},
				Set: map[string]any{"body": auditCanary + "-new-body"}})
		}, -1, false},
		{"delete", "DELETE", func() error { return c.Delete(ctx, spec.Name, []driver.PointID{driver.NumID(2)}) }, -1, false},
		{"delete_by_filter", "DELETE", func() error {
			return c.DeleteByFilter(ctx, spec.Name, driver.Eq("label", driver.String(filterValue)))
		}, -1, true},
		// A tenant-isolated collection is dropped by an operator (no tenant).
		{"drop_collection", "ADMIN", func() error { return c.DropCollection(f.as("auditor", ""), spec.Name) }, -1, false},
	}
	for _, oc := range ops {
		before := len(kept)
		if err := oc.call(); err != nil {
			t.Fatalf("%s: %v", oc.op, err)
		}
		if n := len(kept) - before; n != 1 {
			t.Fatalf("%s wrote %d audit records, want 1", oc.op, n)
		}
		e := kept[len(kept)-1]
		tenant := "t1"
		if oc.op == "drop_collection" {
			tenant = ""
		}
		if e.Operation != oc.op || string(e.Class) != oc.class || e.Decision != "allow" || e.Subject != "auditor" ||
			e.Tenant != tenant || e.Code != "" || e.Error != "" || e.Time.IsZero() {
			t.Errorf("%s: record %+v", oc.op, e)
		}
		if oc.op != "list_collections" && e.Collection != spec.Name {
			t.Errorf("%s: collection %q", oc.op, e.Collection)
		}
		if oc.results >= 0 && e.ResultCount != oc.results {
			t.Errorf("%s: result count %d, want %d", oc.op, e.ResultCount, oc.results)
		}
		if oc.callerHas && !strings.Contains(e.CallerFilter, red.Hash(filterValue)) {
			t.Errorf("%s: caller filter %q does not show the value's hash", oc.op, e.CallerFilter)
		}
		switch oc.op {
		case "search":
			if e.TopK != 2 || len(e.ResultIDs) != 2 || !strings.Contains(e.PolicyFilter, red.Hash("t1")) ||
				!strings.Contains(e.PolicyFilter, red.Hash(auditCanary+"-policy")) {
				t.Errorf("search record %+v", e)
			}
		case "upsert", "scroll", "get":
			if e.Rule != "auditor-all" {
				t.Errorf("%s: rule %q", oc.op, e.Rule)
			}
		}
	}
	// A denied operation is recorded too.
	before := len(kept)
	if _, err := c.Count(f.as("nobody", "t1"), spec.Name, nil); err == nil {
		t.Fatal("count by a principal without grants succeeded")
	}
	if len(kept) != before+1 || kept[before].Decision != "deny" || kept[before].Code == "" {
		t.Fatalf("denial record: %+v", kept[before:])
	}
	total := len(kept)
	if err := logger.Close(); err != nil {
		t.Fatal(err)
	}

	// The tamper-evident log verifies and holds every record.
	rep, err := tlogfile.VerifyFile(logPath, vkey, nil)
	if err != nil {
		t.Fatalf("audit log does not verify: %v", err)
	}
	if rep.Size != int64(total) || rep.Unsigned != 0 {
		t.Fatalf("audit log: %s, want %d records", rep, total)
	}
	if n := strings.Count(lines.String(), "\n"); n != total {
		t.Fatalf("JSON sink has %d lines, want %d", n, total)
	}
	// No plaintext value anywhere in any sink's output.
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"file log": string(raw), "JSON sink": lines.String()} {
		if strings.Contains(out, auditCanary) {
			t.Errorf("the %s shows a plaintext value", name)
		}
		for _, x := range auditVector {
			for _, s := range []string{strconv.FormatFloat(float64(x), 'g', -1, 32), strconv.FormatFloat(float64(x), 'g', 6, 32)} {
				if strings.Contains(out, s) {
					t.Errorf("the %s shows a vector component (%s)", name, s)
				}
			}
		}
	}
}

func testAuditFailClosed(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	spec := auditSpec()
	f.mustCreate(t, spec)
	setup := vecguard.New(f.drv, &vecguard.Options{Authorizer: auditAuthorizer})
	ctx := f.as("auditor", "t1")
	if err := setup.Upsert(ctx, spec.Name, auditPoints()); err != nil {
		t.Fatal(err)
	}
	failing := audit.SinkFunc(func(context.Context, []audit.Entry) error { return errors.New("audit disk gone") })
	var recorded int
	working := audit.SinkFunc(func(_ context.Context, b []audit.Entry) error { recorded += len(b); return nil })

	t.Run("NoSinkCanRecord", func(t *testing.T) {
		logger, _ := audit.New(audit.Multi(failing, failing), &audit.Options{Salt: auditSalt, ErrorHandler: func(error) {}})
		defer logger.Close()
		c := vecguard.New(f.drv, &vecguard.Options{Authorizer: auditAuthorizer, Auditor: logger})
		res, err := c.Search(ctx, spec.Name, vecguard.SearchRequest{Vector: auditVector, Limit: 3})
		if !errors.Is(err, vecguard.ErrUnavailable) || res != nil {
			t.Fatalf("search with no working sink: %v, %d results", err, len(res))
		}
		// The log is now known to fail: writes are refused before they run.
		err = c.Upsert(ctx, spec.Name, []driver.Point{{ID: driver.NumID(9), Vectors: map[string][]float32{"v": auditVector}}})
		if !errors.Is(err, vecguard.ErrUnavailable) {
			t.Fatalf("upsert with no working sink: %v", err)
		}
		if err := c.Delete(ctx, spec.Name, []driver.PointID{driver.NumID(1)}); !errors.Is(err, vecguard.ErrUnavailable) {
			t.Fatalf("delete with no working sink: %v", err)
		}
		n, err := f.drv.Collection(spec).Count(f.ctx, nil)
		if err != nil || n != 3 {
			t.Fatalf("the collection changed under a failed audit log: %d points, %v", n, err)
		}
	})
	t.Run("OneSinkRecords", func(t *testing.T) {
		logger, _ := audit.New(audit.Multi(failing, working), &audit.Options{Salt: auditSalt, ErrorHandler: func(error) {}})
		defer logger.Close()
		c := vecguard.New(f.drv, &vecguard.Options{Authorizer: auditAuthorizer, Auditor: logger})
		if _, err := c.Count(ctx, spec.Name, nil); err != nil {
			t.Fatalf("count with one working sink: %v", err)
		}
		if recorded != 1 {
			t.Fatalf("%d records, want 1", recorded)
		}
	})
}

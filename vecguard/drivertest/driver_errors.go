package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vecguard/vecguard/vecguard/driver"
)

// testContext checks that every operation honours a done context: it
// returns Canceled (or DeadlineExceeded) and changes nothing.
func testContext(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	s, c := f.create(t, "ctx", standardSpec())
	pts := standardPoints(51, s)
	f.upsert(t, c, pts)
	canceled, cancel := context.WithCancel(f.ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(f.ctx, time.Unix(1, 0))
	defer cancel2()
	cases := []struct {
		name string
		ctx  context.Context
		code driver.Code
		std  error
	}{
		{"Canceled", canceled, driver.Canceled, context.Canceled},
		{"DeadlineExceeded", expired, driver.DeadlineExceeded, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Errorf("%s with a done context: no error", what)
					return
				}
				if f.codeOf(err) != tc.code && !errors.Is(err, tc.std) {
					t.Errorf("%s with a done context: got %v (code %s), want code %s", what, err, f.codeOf(err), tc.code)
				}
			}
			other := s.Clone()
			other.Name = uniqueName("ctxnew")
			f.dropLater(t, other.Name)
			check("CreateCollection", f.drv.CreateCollection(tc.ctx, other))
			_, err := f.drv.DescribeCollection(tc.ctx, s.Name)
			check("DescribeCollection", err)
			_, err = f.drv.ListCollections(tc.ctx)
			check("ListCollections", err)
			check("DropCollection", f.drv.DropCollection(tc.ctx, s.Name))
			f.checkCollectionOpsCtx(t, tc.ctx, c, s, check)

			if _, err := f.drv.DescribeCollection(f.ctx, s.Name); err != nil {
				t.Errorf("DescribeCollection after a cancelled drop: %v", err)
			}
			if _, err := f.drv.DescribeCollection(f.ctx, other.Name); f.codeOf(err) != driver.NotFound {
				t.Errorf("a create with a done context created the collection (DescribeCollection: %v)", err)
			}
			f.checkStored(t, s, c, pts)
		})
	}
}

package milvus

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/vecguard/vecguard/vecguard"
	"github.com/vecguard/vecguard/vecguard/audit"
	"github.com/vecguard/vecguard/vecguard/authz"
	"github.com/vecguard/vecguard/vecguard/driver"
	"github.com/vecguard/vecguard/vecguard/grpcerr"
)

// InterceptorOptions configures the interceptors. The zero value (or nil)
// is valid: the admin RPCs that are sent on to Milvus are then refused.
type InterceptorOptions struct {
	// Authorizer gates the admin RPCs that are sent on to Milvus unchanged
	// (see the table in the package doc): the caller's principal needs
	// authz.Admin on the collection the request names, or on "" for the
	// RPCs that name none (users, roles, privileges, databases). Give it
	// the guard's authorizer.
	Authorizer authz.Authorizer
	// Auditor records each such RPC (class ADMIN) before it is sent on; if
	// it fails, the RPC is refused. Give it the guard's auditor.
	Auditor audit.Auditor
}

// UnaryClientInterceptor returns an interceptor that puts an unchanged
// *milvusclient.Client behind guard, a vecguard.Client over this package's
// driver. Add it, with StreamClientInterceptor, to the client's
// ClientConfig.DialOptions:
//
//	guard := vecguard.New(milvusDriver, &vecguard.Options{Authorizer: az, Auditor: al})
//	app, err := milvusclient.New(ctx, &milvusclient.ClientConfig{
//		Address: "localhost:19530",
//		DialOptions: []grpc.DialOption{
//			grpc.WithChainUnaryInterceptor(milvus.UnaryClientInterceptor(guard, &milvus.InterceptorOptions{Authorizer: az, Auditor: al})),
//			grpc.WithChainStreamInterceptor(milvus.StreamClientInterceptor(guard)),
//		},
//	})
//
// The data RPCs are served by guard (over its own driver and connection)
// instead of being sent on: the principal comes from the call's context
// (vecguard.WithPrincipal, or a server interceptor of package grpcauth),
// and guard authorizes, AND-s the policy with the caller's expression,
// re-checks, encrypts, decrypts and audits them exactly as it does its own
// calls. The application sees the collection as the driver lays it out
// (_vg_id keys, declared fields as columns, _vg_payload). The package doc
// lists every RPC and its treatment; RPCs it does not list are refused
// with PermissionDenied without reaching Milvus. Errors are gRPC status
// errors (package grpcerr).
func UnaryClientInterceptor(guard *vecguard.Client, opts *InterceptorOptions) grpc.UnaryClientInterceptor {
	ic := &interceptor{guard: guard, specs: map[string]*driver.CollectionSpec{}}
	if opts != nil {
		ic.opts = *opts
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		switch {
		case passThrough[method]:
			return invoker(ctx, method, req, reply, cc, callOpts...)
		case adminRPCs[method] != "":
			if err := ic.gate(ctx, method, req); err != nil {
				return grpcerr.Error(err)
			}
			return invoker(ctx, method, req, reply, cc, callOpts...)
		}
		h, ok := enforced[method]
		if !ok {
			return grpcerr.Error(ic.refuse(ctx, method, req, errNotServed))
		}
		resp, err := h(ctx, ic, req)
		if err != nil {
			err = ic.refuse(ctx, method, req, err)
			c := driver.CodeOf(err)
			if c == driver.NotFound || c == driver.FailedPrecondition || c == driver.InvalidArgument {
				ic.forget(collectionOf(req))
			}
			if c != driver.NotFound || method != milvuspb.MilvusService_DescribeCollection_FullMethodName {
				return grpcerr.Error(err)
			}
			// milvusclient recognizes a missing collection (HasCollection,
			// its schema cache) by Milvus's code in the reply's status.
			resp = &milvuspb.DescribeCollectionResponse{Status: merr.Status(merr.WrapErrCollectionNotFound(collectionOf(req)))}
		}
		out, ok := reply.(proto.Message)
		if !ok {
			return status.Error(codes.Internal, "vecguard: unexpected reply type")
		}
		proto.Reset(out)
		proto.Merge(out, resp)
		return nil
	}
}

// StreamClientInterceptor refuses every streaming call: no Milvus RPC the
// guard knows is a stream. The refusal is audited through guard.
func StreamClientInterceptor(guard *vecguard.Client) grpc.StreamClientInterceptor {
	ic := &interceptor{guard: guard}
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, grpcerr.Error(ic.refuse(ctx, method, nil, errNotServed))
	}
}

var errNotServed = driver.Errorf(driver.PermissionDenied, "the RPC is not allowed through the guard")

// refuse returns the error of a failed RPC. guard.Refuse records the ones
// the interceptor made itself (an RPC outside the table, an option
// transparent mode cannot honour); the guard's own are audited already.
func (ic *interceptor) refuse(ctx context.Context, method string, req any, err error) error {
	return ic.guard.Refuse(ctx, method, rpcClass(method), collectionOf(req), err)
}

// rpcClass is the audit class of a Milvus RPC the guard refuses.
func rpcClass(method string) audit.Class {
	_, name, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	has := func(prefixes ...string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
	}
	switch {
	case has("Delete"):
		return audit.ClassDelete
	case has("Insert", "Upsert"):
		return audit.ClassWrite
	case has("Search", "HybridSearch", "Query", "Get", "Describe", "Show", "List", "Has", "Check"):
		return audit.ClassRead
	}
	return audit.ClassAdmin // unknown, and administration: the strictest class
}

type interceptor struct {
	guard *vecguard.Client
	opts  InterceptorOptions

	mu    sync.Mutex
	specs map[string]*driver.CollectionSpec // the collections' specs, as the guard described them
}

// spec returns the spec of a collection. The first call for a name asks
// the guard (which authorizes the caller to read the collection); later
// calls use the cached spec, and the guard authorizes the operation itself.
func (ic *interceptor) spec(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	ic.mu.Lock()
	s := ic.specs[name]
	ic.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return ic.describe(ctx, name)
}

// describe asks the guard for a spec and caches it.
func (ic *interceptor) describe(ctx context.Context, name string) (*driver.CollectionSpec, error) {
	s, err := ic.guard.DescribeCollection(ctx, name)
	if err != nil {
		return nil, err
	}
	ic.mu.Lock()
	ic.specs[name] = s
	ic.mu.Unlock()
	return s, nil
}

func (ic *interceptor) forget(name string) {
	ic.mu.Lock()
	delete(ic.specs, name)
	ic.mu.Unlock()
}

// requestError reports a request that does not fit a cached spec. It asks
// the guard first, so that a caller without rights learns nothing about
// the collection from the request's errors.
func (ic *interceptor) requestError(ctx context.Context, name string, err error) error {
	ic.forget(name)
	if _, derr := ic.describe(ctx, name); derr != nil {
		return derr
	}
	return err
}

func collectionOf(req any) string {
	if r, ok := req.(interface{ GetCollectionName() string }); ok {
		return r.GetCollectionName()
	}
	return ""
}

// gate authorizes an admin RPC that is sent on, and records it.
func (ic *interceptor) gate(ctx context.Context, method string, req any) error {
	if ic.opts.Authorizer == nil {
		return ic.guard.Refuse(ctx, method, audit.ClassAdmin, collectionOf(req),
			driver.Errorf(driver.PermissionDenied, "admin RPCs are not allowed through this guard"))
	}
	p, ok := vecguard.PrincipalFrom(ctx)
	if !ok {
		return driver.Errorf(driver.Unauthenticated, "no principal")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	coll := collectionOf(req)
	rec := &audit.Record{
		Time: time.Now(), Subject: p.Subject, Tenant: p.Tenant, Roles: p.Roles,
		Operation: adminRPCs[method], Class: audit.ClassAdmin, System: "milvus", Collection: coll,
	}
	d, err := ic.opts.Authorizer.Authorize(ctx, &p, authz.Admin, coll)
	switch {
	case err != nil:
		rec.Reason = "authorizer failed"
		err = driver.Wrap(driver.PermissionDenied, err, "authorizer failed")
	case !d.Allow:
		rec.Rule, rec.Reason = d.Rule, d.Reason
		err = driver.Errorf(driver.PermissionDenied, "admin action denied")
	default:
		rec.Allowed, rec.Rule = true, d.Rule
	}
	if err != nil {
		rec.Code, rec.Err = driver.CodeOf(err), err.Error()
	}
	if ic.opts.Auditor != nil {
		if aerr := ic.opts.Auditor.Audit(ctx, rec); aerr != nil {
			return driver.Wrap(driver.Unavailable, aerr, "audit failed: the operation is refused")
		}
	}
	return err
}

// passThrough are the RPCs sent on unchanged: they touch no collection.
var passThrough = map[string]bool{
	milvuspb.MilvusService_Connect_FullMethodName:     true,
	milvuspb.MilvusService_CheckHealth_FullMethodName: true,
	milvuspb.MilvusService_GetVersion_FullMethodName:  true,
}

// adminRPCs are sent on to Milvus after the admin gate; the value is the
// operation name in the audit record.
var adminRPCs = map[string]string{
	milvuspb.MilvusService_ReleaseCollection_FullMethodName:       "release_collection",
	milvuspb.MilvusService_CreateIndex_FullMethodName:             "create_index",
	milvuspb.MilvusService_DescribeIndex_FullMethodName:           "describe_index",
	milvuspb.MilvusService_DropIndex_FullMethodName:               "drop_index",
	milvuspb.MilvusService_AlterIndex_FullMethodName:              "alter_index",
	milvuspb.MilvusService_AlterCollection_FullMethodName:         "alter_collection",
	milvuspb.MilvusService_AlterCollectionField_FullMethodName:    "alter_collection_field",
	milvuspb.MilvusService_Flush_FullMethodName:                   "flush",
	milvuspb.MilvusService_ManualCompaction_FullMethodName:        "compact",
	milvuspb.MilvusService_GetCollectionStatistics_FullMethodName: "collection_statistics",
	milvuspb.MilvusService_CreateCredential_FullMethodName:        "create_user",
	milvuspb.MilvusService_UpdateCredential_FullMethodName:        "update_user",
	milvuspb.MilvusService_DeleteCredential_FullMethodName:        "drop_user",
	milvuspb.MilvusService_ListCredUsers_FullMethodName:           "list_users",
	milvuspb.MilvusService_CreateRole_FullMethodName:              "create_role",
	milvuspb.MilvusService_DropRole_FullMethodName:                "drop_role",
	milvuspb.MilvusService_OperateUserRole_FullMethodName:         "grant_role",
	milvuspb.MilvusService_SelectRole_FullMethodName:              "describe_role",
	milvuspb.MilvusService_SelectUser_FullMethodName:              "describe_user",
	milvuspb.MilvusService_OperatePrivilege_FullMethodName:        "grant_privilege",
	milvuspb.MilvusService_OperatePrivilegeV2_FullMethodName:      "grant_privilege",
	milvuspb.MilvusService_SelectGrant_FullMethodName:             "describe_grants",
	milvuspb.MilvusService_CreatePrivilegeGroup_FullMethodName:    "create_privilege_group",
	milvuspb.MilvusService_DropPrivilegeGroup_FullMethodName:      "drop_privilege_group",
	milvuspb.MilvusService_ListPrivilegeGroups_FullMethodName:     "list_privilege_groups",
	milvuspb.MilvusService_OperatePrivilegeGroup_FullMethodName:   "alter_privilege_group",
	milvuspb.MilvusService_BackupRBAC_FullMethodName:              "backup_rbac",
	milvuspb.MilvusService_RestoreRBAC_FullMethodName:             "restore_rbac",
}

// handler serves one RPC through the guard and returns its reply.
type handler func(ctx context.Context, ic *interceptor, req any) (proto.Message, error)

// unary adapts a typed function to a handler.
func unary[Req, Resp proto.Message](fn func(context.Context, *interceptor, Req) (Resp, error)) handler {
	return func(ctx context.Context, ic *interceptor, req any) (proto.Message, error) {
		r, ok := req.(Req)
		if !ok {
			return nil, driver.Errorf(driver.Internal, "unexpected request type")
		}
		return fn(ctx, ic, r)
	}
}

// enforced are the RPCs the guard serves. Every other method, except the
// pass-through and admin ones, is refused.
var enforced = map[string]handler{
	milvuspb.MilvusService_Search_FullMethodName:       unary(searchRPC),
	milvuspb.MilvusService_HybridSearch_FullMethodName: unary(hybridSearchRPC),
	milvuspb.MilvusService_Query_FullMethodName:        unary(queryRPC),
	milvuspb.MilvusService_Insert_FullMethodName:       unary(insertRPC),
	milvuspb.MilvusService_Upsert_FullMethodName:       unary(upsertRPC),
	milvuspb.MilvusService_Delete_FullMethodName:       unary(deleteRPC),

	milvuspb.MilvusService_DescribeCollection_FullMethodName: unary(describeCollectionRPC),
	milvuspb.MilvusService_HasCollection_FullMethodName:      unary(hasCollectionRPC),
	milvuspb.MilvusService_ShowCollections_FullMethodName:    unary(showCollectionsRPC),
	milvuspb.MilvusService_DropCollection_FullMethodName:     unary(dropCollectionRPC),
	milvuspb.MilvusService_LoadCollection_FullMethodName:     unary(loadCollectionRPC),
	milvuspb.MilvusService_GetLoadState_FullMethodName:       unary(getLoadStateRPC),
	milvuspb.MilvusService_GetLoadingProgress_FullMethodName: unary(getLoadingProgressRPC),
}

// The collection RPCs.

func describeCollectionRPC(ctx context.Context, ic *interceptor, req *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	spec, err := ic.describe(ctx, req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	sch := buildSchema(spec).ProtoMessage()
	for i, f := range sch.Fields {
		f.FieldID = int64(100 + i)
	}
	return &milvuspb.DescribeCollectionResponse{
		Status:           merr.Success(),
		Schema:           sch,
		CollectionName:   spec.Name,
		ShardsNum:        1,
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
		Properties:       []*commonpb.KeyValuePair{{Key: specProperty, Value: encodeSpec(spec)}},
		DbName:           "default",
	}, nil
}

func hasCollectionRPC(ctx context.Context, ic *interceptor, req *milvuspb.HasCollectionRequest) (*milvuspb.BoolResponse, error) {
	_, err := ic.describe(ctx, req.GetCollectionName())
	switch {
	case err == nil:
		return &milvuspb.BoolResponse{Status: merr.Success(), Value: true}, nil
	case driver.CodeOf(err) == driver.NotFound:
		return &milvuspb.BoolResponse{Status: merr.Success()}, nil
	}
	return nil, err
}

func showCollectionsRPC(ctx context.Context, ic *interceptor, req *milvuspb.ShowCollectionsRequest) (*milvuspb.ShowCollectionsResponse, error) {
	names, err := ic.guard.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	resp := &milvuspb.ShowCollectionsResponse{Status: merr.Success(), CollectionNames: names}
	for range names {
		resp.CollectionIds = append(resp.CollectionIds, 0)
		resp.CreatedTimestamps = append(resp.CreatedTimestamps, 0)
		resp.CreatedUtcTimestamps = append(resp.CreatedUtcTimestamps, 0)
	}
	return resp, nil
}

func dropCollectionRPC(ctx context.Context, ic *interceptor, req *milvuspb.DropCollectionRequest) (*commonpb.Status, error) {
	ic.forget(req.GetCollectionName())
	if err := ic.guard.DropCollection(ctx, req.GetCollectionName()); err != nil {
		return nil, err
	}
	return merr.Success(), nil
}

// loadCollectionRPC answers success to a caller who may read the
// collection, without sending it on: the driver keeps its collections
// loaded and loads them again when Milvus has released them.
func loadCollectionRPC(ctx context.Context, ic *interceptor, req *milvuspb.LoadCollectionRequest) (*commonpb.Status, error) {
	if _, err := ic.describe(ctx, req.GetCollectionName()); err != nil {
		return nil, err
	}
	return merr.Success(), nil
}

func getLoadStateRPC(ctx context.Context, ic *interceptor, req *milvuspb.GetLoadStateRequest) (*milvuspb.GetLoadStateResponse, error) {
	if _, err := ic.describe(ctx, req.GetCollectionName()); err != nil {
		return nil, err
	}
	return &milvuspb.GetLoadStateResponse{Status: merr.Success(), State: commonpb.LoadState_LoadStateLoaded}, nil
}

func getLoadingProgressRPC(ctx context.Context, ic *interceptor, req *milvuspb.GetLoadingProgressRequest) (*milvuspb.GetLoadingProgressResponse, error) {
	if _, err := ic.describe(ctx, req.GetCollectionName()); err != nil {
		return nil, err
	}
	return &milvuspb.GetLoadingProgressResponse{Status: merr.Success(), Progress: 100, RefreshProgress: 100}, nil
}

// unsupportedRequest refuses a request option transparent mode cannot
// serve through the guard.
func unsupportedRequest(what string) error {
	return driver.Errorf(driver.InvalidArgument, "transparent mode does not support %s", what)
}

func checkPartitions(names []string, one string) error {
	for _, p := range append(names, one) {
		if p != "" && p != "_default" {
			return unsupportedRequest("partitions")
		}
	}
	return nil
}

// kvs returns key-value pairs as a map.
func kvs(pairs []*commonpb.KeyValuePair) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}

// hasRangeParams reports whether search params ask for a range search.
func hasRangeParams(params string) bool {
	return strings.Contains(params, "radius") || strings.Contains(params, "range_filter")
}

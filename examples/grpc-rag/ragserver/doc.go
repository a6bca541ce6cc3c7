// Package ragserver is the retrieval service of the grpc-rag example: a
// gRPC service (package ragpb) that embeds and searches documents through
// a guarded vecguard client.
//
// It shows how the pieces fit in a service:
//
//  1. grpcauth's interceptors establish the caller's Principal from a
//     bearer token (one issuer and signing key per tenant) or an API key,
//     and skip health checks;
//  2. the handlers pass the call's context to the vecguard.Client, which
//     authorizes (Policy), isolates tenants, enforces budgets, searches,
//     re-checks the results and writes one audit record per operation;
//  3. grpcerr's interceptors turn vecguard errors into status codes:
//     PermissionDenied for denials, ResourceExhausted with a retry-after for
//     spent budgets;
//  4. the audit log's entries go to a JSON-lines writer and to an in-memory
//     trail that auditors read through the AuditTrail call.
package ragserver

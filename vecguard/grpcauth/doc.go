// Package grpcauth establishes the Principal of each gRPC call, so that
// the guarded client (package vecguard) knows on whose behalf it runs.
//
// An Authenticator reads one kind of credential from a call — a bearer
// token (Bearer), an API key header (APIKey), a mutual-TLS client
// certificate (ClientCertificate) — and has a verifier of package authn
// check it. Chain combines them. UnaryServerInterceptor and
// StreamServerInterceptor put the principal into the call's context, where
// vecguard.Client finds it; AuthFunc offers the same as a go-grpc-middleware
// auth.AuthFunc.
//
//	a := grpcauth.Chain(
//		grpcauth.ClientCertificate(certMapper),   // services, over mTLS
//		grpcauth.Bearer(jwtVerifier),             // users, with tokens of the IdP
//		grpcauth.APIKey(apiKeys, ""),             // scripts, with "x-api-key"
//	)
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(
//			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(a), grpcauth.NotHealthCheck),
//			grpcerr.UnaryServerInterceptor(),
//		),
//		grpc.ChainStreamInterceptor(
//			selector.StreamServerInterceptor(grpcauth.StreamServerInterceptor(a), grpcauth.NotHealthCheck),
//			grpcerr.StreamServerInterceptor(),
//		),
//	)
//
// # Chains
//
// A chain asks its authenticators in order. The first that finds its kind
// of credential decides: credentials that are present but invalid fail the
// call and never fall through to the next authenticator. An authorization
// header of another scheme than Bearer is not a bearer credential.
//
// # Skipping calls
//
// The interceptors authenticate every call. To let some calls through —
// health checks for load balancers — wrap them with go-grpc-middleware's
// selector and a Matcher such as NotHealthCheck, as above.
//
// # Tenants
//
// The principal's tenant comes from the verified credential only: the
// token's claims (with issuers bound to tenants, see authn.Issuer), the API
// key's configured principal, the certificate (with CAs bound to tenants,
// see authn.CertOptions). No request field or header can name it.
//
// # Errors
//
// A call without credentials fails with codes.Unauthenticated ("no
// credentials"), one with invalid credentials with codes.Unauthenticated
// and a fixed reason ("token expired", "invalid API key", ...). An
// authenticator may also deny (PermissionDenied) or fail to reach its keys
// (Unavailable). Messages never carry a credential or any part of one.
// Errors of the guarded client inside handlers are mapped by package
// grpcerr: a denial is codes.PermissionDenied, a spent budget
// codes.ResourceExhausted with a retry-after.
package grpcauth

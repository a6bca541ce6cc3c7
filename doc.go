// Module vecguard is an embeddable guard between a Go retrieval (RAG)
// service and its vector database.
//
// Applications hold a *vecguard.Client (package
// github.com/vecguard/vecguard/vecguard) built over a driver — the embedded
// store in adapters/memory, or the Qdrant, Milvus and Weaviate adapters. The
// client decides who may read and write which collections and rows
// (package authz), encrypts what the database stores (package encryption),
// and records every operation in a tamper-evident audit log (package audit).
//
// Layout:
//
//	vecguard/            the guarded client, Principal, filters, typed errors
//	vecguard/driver      the driver contract and the shared data model
//	vecguard/drivertest  the conformance suite every adapter runs
//	vecguard/authz       the Authorizer interface and its Casbin implementation
//	vecguard/encryption  searchable vector encryption, payload encryption, keys
//	vecguard/audit       audit records, sinks, the Merkle-tree log
//	adapters/            one package per database
//	examples/            runnable programs
//	internal/            test servers and helpers
package vecguard

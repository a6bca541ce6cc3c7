// Package sap implements Scale-And-Perturb (SAP), the approximate
// distance-comparison-preserving encryption of Fuchsbauer, Ghosal, Hauke and
// O'Neill ("Approximate Distance-Comparison-Preserving Symmetric
// Encryption", SCN 2022), with a fully specified, platform-independent noise
// sampler.
//
// A key is an AES-256 key K for the noise PRF plus a scaling factor s > 0
// and an approximation factor β > 0. A vector m of dimension d is encrypted
// under a 16-byte IV as
//
//	c = s·m + λ,   λ = x·u/‖u‖,   u ~ N(0, I_d),   x = (s·β/4)·x′^(1/d),   x′ ~ U(0, 1)
//
// where u and x′ come from a keyed PRF over the IV, so λ is uniform in the
// d-ball of radius s·β/4 and decryption recomputes it: m = (c − λ)/s. Since
// ‖λ‖ ≤ sβ/4, ciphertext distances are s times plaintext distances, give or
// take sβ/2, which is the β-DCP property: if ‖x−y‖ < ‖x−z‖ − β then
// ‖C(x)−C(y)‖ < ‖C(x)−C(z)‖. Queries are encrypted with the same key.
//
// This package is the scheme alone: no authentication, no key management.
// A ciphertext decrypted under the wrong key or IV is garbage, not an error;
// package encryption adds tags, key derivation and the per-point metadata.
// The scheme hides exact values, not geometry: see the threat model in
// package encryption.
//
// # Specification
//
// Every floating-point operation below is one IEEE 754 binary64 operation
// rounded to nearest-even on its own; no operation is fused (no
// fused multiply-add) and no extended precision is used. "float32(y)" rounds
// a binary64 y to binary32, nearest-even. With these rules, and the exp and
// ln below instead of a math library's, every conforming implementation
// produces the same bits on every platform. (The Go source wraps products
// in float64(...) conversions for this reason: Go may otherwise fuse them.)
//
// Keystream. AES-256 in counter mode with key K. The first counter block is
// the 16-byte IV; each following block is the previous one plus 1 as a
// 128-bit big-endian integer (mod 2^128). The keystream is read as
// consecutive 32-bit little-endian words w0, w1, w2, ... Two uniform maps are
// used:
//
//	U32(w)       = (w + 0.5) · 2^-32               in (0, 1), for a 32-bit word
//	U53(w0, w1)  = ((W >> 11) + 0.5) · 2^-53       W = w0 | w1<<32, in (0, 1)
//
// Radius. x′ = U53(w0, w1) from the first two words, and
// x = (s·β·0.25) · exp(ln(x′) / d), evaluated as r = s·β; r = r·0.25;
// x = r·exp(ln(x′)/d).
//
// Gaussians. u[0..d−1] are drawn in index order from the following words
// with a 256-layer ziggurat (Marsaglia and Tsang, 2000) for
// f(z) = exp(−z²/2). Each attempt takes the next word w and splits it into
//
//	layer i = w & 255,   sign = (w >> 8) & 1,   position U = w >> 9  (23 bits)
//
// and sets z = U·zigScale[i]. If U < zigK[i] the attempt succeeds with z.
// Otherwise (the slow path):
//
//   - layer 0 (the base): if z < R the attempt succeeds with z. Otherwise
//     z comes from the tail beyond R: repeat { a = ln(U32(next word)) / −R;
//     b = −ln(U32(next word)); } until b + b > a·a, and z = R + a; the attempt
//     succeeds.
//   - layer i ≥ 1: y = zigFLo[i] + U32(next word)·zigFDiff[i]; the attempt
//     succeeds with z if y < exp(−0.5·(z·z)), and fails otherwise.
//
// A successful attempt yields u[j] = z with its sign bit set to sign (z is
// never negative before this); a failed attempt is followed by a new attempt
// for the same j. R = 3.6541528853610084 and V = 0.0049286732339746606 (the
// area of each layer) define the tables zigK (uint32), zigScale, zigFLo and
// zigFDiff, which are normative as committed in ziggurat_tables.go and are
// computed by genZiggurat (ziggurat_gen_test.go) with these exp and ln only:
//
//	x[0] = R;  x[j] = sqrt(−2·ln(f(x[j−1]) + V/x[j−1])) for j = 1..254;  x[255] = 0
//	layer 0:  width w = V/f(R);  zigScale[0] = w·2^-23;  zigK[0] = floor((R/w)·2^23)
//	layer i:  zigScale[i] = x[i−1]·2^-23;  zigK[i] = floor((x[i]/x[i−1])·2^23);
//	          zigFLo[i] = f(x[i−1]);  zigFDiff[i] = f(x[i]) − zigFLo[i]  (f(x[255]) taken as 1)
//
// where f(v) = exp(−0.5·(v·v)).
//
// Norm. ‖u‖² is four partial sums: sum k (k = 0..3) adds u[j]·u[j] for the
// j ≡ k (mod 4) in increasing j, from 0; then ‖u‖² = (sum0 + sum1) +
// (sum2 + sum3). With f = x / sqrt(‖u‖²) (sqrt correctly rounded),
// λ[j] = f·u[j].
//
// Encryption: c[j] = float32(s·m[j] + λ[j]) with m[j] widened exactly to
// binary64. Decryption: m[j] = float32((c[j] − λ[j]) / s).
//
// exp and ln. exp(v) for v in [−700, 700]: k = floor(v·(1/ln 2) + 0.5),
// r = (v − k·ln2Hi) − k·ln2Lo, then with c_j = 1/j! (j = 0..13, rounded to
// nearest), r2 = r·r, r4 = r2·r2, r8 = r4·r4 and q_j = c_2j + c_2j+1·r:
// p = ((q0 + q1·r2) + (q2 + q3·r2)·r4) + ((q4 + q5·r2) + q6·r4)·r8, and the
// result is p·2^k. ln(v) for v > 0: write v = m·2^e with m in [1, 2)
// (subnormals are first scaled by 2^54), and if m > √2 halve m and add 1 to
// e; t = (m−1)/(m+1), t2 = t·t, p = 1/21, then p = p·t2 + 1/(2j+1) for
// j = 9 down to 0; the result is e·ln2Hi + (e·ln2Lo + (t·p)·2). The
// constants ln2Hi = 0x1.62e42fee00000p-1, ln2Lo = 0x1.a39ef35793c76p-33,
// 1/ln 2 = 0x1.71547652b82fep+0 and √2 = 0x1.6a09e667f3bcdp+0 are exact
// binary64 values (mathx.go).
//
// # Known answers
//
// testdata/sap_kat.json holds known-answer cases, generated by this package
// (go test -run TestKnownAnswers -update-kat) and checked bit for bit by
// TestKnownAnswers. It is one JSON object {"scheme": "vecguard-sap-v1",
// "cases": [...]}, one case a line, each with the fields
//
//	name            a description
//	key             the 32-byte PRF key, hex
//	scale, beta     s and β as hexadecimal floating-point strings ("0x1.8p+01")
//	iv              the 16-byte IV, hex
//	keystream_head  the first 16 keystream words, 8 hex digits each
//	plaintext       m, binary32 values as hexadecimal floating-point strings
//	noise           λ, binary64 values as hexadecimal floating-point strings
//	ciphertext      c = Encrypt(m), binary32
//	decrypted       Decrypt(c), binary32 (equal to m up to rounding)
//
// A conforming implementation reproduces keystream_head, noise, ciphertext
// and decrypted exactly. The cases cover dimensions 1 to 384, a zero vector,
// and an IV whose stream draws from the ziggurat's tail.
//
// # Performance
//
// The keystream costs 4 bytes of AES-CTR per coordinate (plus about 1.5%
// for the slow path), and a coordinate's fast path is a table lookup, an
// integer comparison and a multiplication. BENCHMARKS.md compares
// encryption with AES-GCM sealing the same bytes.
package sap

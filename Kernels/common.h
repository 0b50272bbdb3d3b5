// Shared by every kernel (prepended to each source before it is built).
// ACT_EXPR is the fused activation as an expression of `v`, chosen by the codegen's
// activation table and passed with -D; without one the value passes through.
#ifndef ACT_EXPR
#define ACT_EXPR v
#endif

// The capsule squashing factor for a squared norm: |s|^2/(1+|s|^2) / sqrt(|s|^2 + 1e-7).
inline float squash_scale(float sq) { return (sq / (1.0f + sq)) / sqrt(sq + 1e-7f); }

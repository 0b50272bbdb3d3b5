// Shared by every kernel (prepended to each source before it is built).
// ACT_EXPR is the fused activation as an expression of `v`, chosen by the codegen's
// activation table and passed with -D; without one the value passes through.
#ifndef ACT_EXPR
#define ACT_EXPR v
#endif

// The capsule squashing factor for a squared norm: |s|^2/(1+|s|^2) / sqrt(|s|^2 + 1e-7).
inline float squash_scale(float sq) { return (sq / (1.0f + sq)) / sqrt(sq + 1e-7f); }

// Kernels with NR-wide register tiles (-D NR): `vec` is one tile row, VLOAD/VSTORE move it.
#ifdef NR
#if NR == 4
typedef float4 vec;
#define VLOAD vload4
#define VSTORE vstore4
#elif NR == 8
typedef float8 vec;
#define VLOAD vload8
#define VSTORE vstore8
#elif NR == 16
typedef float16 vec;
#define VLOAD vload16
#define VSTORE vstore16
#else
#error NR must be 4, 8 or 16
#endif
#endif

// Element i of a block [outer, part, inner] lies at this index of a tensor [outer, total,
// inner] in which the block starts at `offset` of the middle axis (concat and slice).
inline size_t block_index(int i, int part, int total, int offset, int inner) {
  const int block = part * inner;
  return (size_t)(i / block) * total * inner + offset * inner + i % block;
}

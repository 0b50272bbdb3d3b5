// GEMM for CPUs: C[M][N] = act(A[M][K] B[N][K]^T + bias), B packed by the host as
// [ceil(N/NR)][K][NR]. Each work-item (alone in its work-group) keeps an MR x NR register
// tile, MR rows of one vector each: a packed B vector loaded serves MR rows, an A value
// loaded serves NR columns. Used by dense (B is the weight). Work-items next to each other
// share a B panel (K*NR floats, kept in L2) and stream A: measured 1.7x faster at 2048
// than sharing A rows and streaming B.
// -D: M N K MR NR HAS_BIAS ACT_EXPR
// global: (ceil(M/MR), ceil(N/NR)), local: (1, 1)
#define KU 4

__kernel void gemm_cpu(__global const float* restrict a, __global const float* restrict b,
                       __global const float* restrict bias, __global float* restrict c) {
  const int m0 = get_global_id(0) * MR, nb = get_global_id(1);
  // Rows past the end repeat the last one; their results are not stored.
  const __global float* ar[MR];
  vec acc[MR];
  for (int r = 0; r < MR; r++) {
    ar[r] = a + (size_t)min(m0 + r, M - 1) * K;
    acc[r] = (vec)(0.0f);
  }
  const __global float* bp = b + (size_t)nb * K * NR;
  int k = 0;
  for (; k + KU <= K; k += KU) {
    #pragma unroll
    for (int u = 0; u < KU; u++) {
      const vec bv = VLOAD(0, bp + (k + u) * NR);
      #pragma unroll
      for (int r = 0; r < MR; r++) acc[r] = fma((vec)(ar[r][k + u]), bv, acc[r]);
    }
  }
  for (; k < K; k++) {
    const vec bv = VLOAD(0, bp + k * NR);
    #pragma unroll
    for (int r = 0; r < MR; r++) acc[r] = fma((vec)(ar[r][k]), bv, acc[r]);
  }
  const int n0 = nb * NR;
  float bs[NR];
  for (int j = 0; j < NR; j++) bs[j] = HAS_BIAS && n0 + j < N ? bias[n0 + j] : 0.0f;
  for (int r = 0; r < MR && m0 + r < M; r++) {
    float t[NR];
    VSTORE(acc[r], 0, t);
    __global float* cr = c + (size_t)(m0 + r) * N + n0;
    for (int j = 0; j < NR && n0 + j < N; j++) {
      const float v = t[j] + bs[j];
      cr[j] = ACT_EXPR;
    }
  }
}

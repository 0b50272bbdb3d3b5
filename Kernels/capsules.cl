// Capsule kernels: row-wise squash and length, primary-capsule regrouping, and the three
// steps of dynamic routing (coupling softmax, weighted sum + squash, agreement).
// -D: D (vector length) and, per kernel, the sizes named in its comment.

#ifdef ROWS
// squash each of ROWS vectors of length D. global: (ROWS)
__kernel void squash_rows(__global const float* restrict x, __global float* restrict y) {
  const int r = get_global_id(0);
  if (r >= ROWS) return;
  const __global float* xr = x + (size_t)r * D;
  float sq = 0.0f;
  for (int d = 0; d < D; d++) sq += xr[d] * xr[d];
  const float k = squash_scale(sq);
  for (int d = 0; d < D; d++) y[(size_t)r * D + d] = xr[d] * k;
}

// Euclidean length of each of ROWS vectors of length D. global: (ROWS)
__kernel void length_rows(__global const float* restrict x, __global float* restrict y) {
  const int r = get_global_id(0);
  if (r >= ROWS) return;
  const __global float* xr = x + (size_t)r * D;
  float sq = 0.0f;
  for (int d = 0; d < D; d++) sq += xr[d] * xr[d];
  y[r] = sqrt(sq);
}
#endif

#ifdef CAPS
// Regroups a conv output [N, CAPS*D, HW] into capsules [N, CAPS*HW, D], capsule
// q = c*HW + hw taking channels c*D .. c*D+D-1 at hw, and squashes each.
// -D: CAPS HW D. global: (CAPS*HW, N)
__kernel void primary_caps_regroup(__global const float* restrict conv, __global float* restrict out) {
  const int q = get_global_id(0);
  const int n = get_global_id(1);
  if (q >= CAPS * HW) return;
  const int c = q / HW, hw = q % HW;
  const __global float* src = conv + ((size_t)n * CAPS * D + c * D) * HW + hw;
  float s[D];
  float sq = 0.0f;
  for (int d = 0; d < D; d++) { s[d] = src[d * HW]; sq += s[d] * s[d]; }
  const float k = squash_scale(sq);
  __global float* dst = out + ((size_t)n * CAPS * HW + q) * D;
  for (int d = 0; d < D; d++) dst[d] = s[d] * k;
}
#endif

#ifdef ROUTING
// -D: I J D DIN.
// Predictions u[n,i,j,:] = W[i,j] x[n,i]. global: (J*D, I, N)
__kernel void caps_predict(__global const float* restrict x, __global const float* restrict w,
                           __global float* restrict u) {
  const int jd = get_global_id(0);
  const int i = get_global_id(1);
  const int n = get_global_id(2);
  if (jd >= J * D) return;
  const __global float* xr = x + ((size_t)n * I + i) * DIN;
  const __global float* wr = w + ((size_t)i * J * D + jd) * DIN;
  float acc = 0.0f;
  for (int k = 0; k < DIN; k++) acc += wr[k] * xr[k];
  u[((size_t)n * I + i) * J * D + jd] = acc;
}

// Coupling coefficients c[n,i,:] = softmax over j of b[n,i,:]; uniform 1/J on the first
// iteration, where b is all zero. global: (I, N)
__kernel void caps_softmax(__global const float* restrict b, __global float* restrict c, const int uniform) {
  const int i = get_global_id(0);
  const int n = get_global_id(1);
  if (i >= I) return;
  const size_t base = ((size_t)n * I + i) * J;
  if (uniform) {
    for (int j = 0; j < J; j++) c[base + j] = 1.0f / J;
    return;
  }
  float m = -INFINITY;
  for (int j = 0; j < J; j++) m = fmax(m, b[base + j]);
  float sum = 0.0f;
  for (int j = 0; j < J; j++) sum += exp(b[base + j] - m);
  for (int j = 0; j < J; j++) c[base + j] = exp(b[base + j] - m) / sum;
}

// v[n,j,:] = squash(sum_i c[n,i,j] u[n,i,j,:]). global: (J, N)
__kernel void caps_weighted_sum(__global const float* restrict u, __global const float* restrict c,
                                __global float* restrict v) {
  const int j = get_global_id(0);
  const int n = get_global_id(1);
  if (j >= J) return;
  float s[D];
  for (int d = 0; d < D; d++) s[d] = 0.0f;
  for (int i = 0; i < I; i++) {
    const float ci = c[((size_t)n * I + i) * J + j];
    const __global float* ur = u + (((size_t)n * I + i) * J + j) * D;
    for (int d = 0; d < D; d++) s[d] += ci * ur[d];
  }
  float sq = 0.0f;
  for (int d = 0; d < D; d++) sq += s[d] * s[d];
  const float k = squash_scale(sq);
  for (int d = 0; d < D; d++) v[((size_t)n * J + j) * D + d] = s[d] * k;
}

// Agreement: b[n,i,j] (+)= u[n,i,j,:] . v[n,j,:]; `accumulate` is 0 on the first update,
// which stands for b starting at zero. global: (J, I, N)
__kernel void caps_agree(__global const float* restrict u, __global const float* restrict v,
                         __global float* restrict b, const int accumulate) {
  const int j = get_global_id(0);
  const int i = get_global_id(1);
  const int n = get_global_id(2);
  if (j >= J) return;
  const __global float* ur = u + (((size_t)n * I + i) * J + j) * D;
  const __global float* vr = v + ((size_t)n * J + j) * D;
  float dot = 0.0f;
  for (int d = 0; d < D; d++) dot += ur[d] * vr[d];
  const size_t k = ((size_t)n * I + i) * J + j;
  b[k] = accumulate ? b[k] + dot : dot;
}
#endif

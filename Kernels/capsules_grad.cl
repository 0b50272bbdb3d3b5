// Backward of the capsule ops: squash, length, primary capsules' regroup+squash, and the
// capsule layer through every routing iteration. The routing is replayed first, keeping
// each iteration's couplings c_r [NB,I,J], sums s_r and outputs v_r [NB,J,D].

// The squash gradient of one vector s (length D) for the gradient g of squash(s):
// k(q) g + 2 s (s . g) k'(q), q = |s|^2, k'(q) = (2 (q + e) - q (1 + q)) / (2 (1 + q)^2 (q + e)^1.5).
#define SQUASH_GRAD(s, g, out, D_)                                                   \
  {                                                                                  \
    float q = 0.0f, dot = 0.0f;                                                      \
    for (int d = 0; d < D_; d++) { q += s[d] * s[d]; dot += s[d] * g[d]; }          \
    const float k = squash_scale(q), e = q + 1e-7f;                                  \
    const float kp = (2.0f * e - q * (1.0f + q)) / (2.0f * (1.0f + q) * (1.0f + q) * e * sqrt(e)); \
    for (int d = 0; d < D_; d++) out[d] = k * g[d] + 2.0f * s[d] * dot * kp;         \
  }

#ifdef ROWS
// global: (ROWS)
__kernel void squash_grad_rows(__global const float* restrict dy, __global const float* restrict x,
                               __global float* restrict dx) {
  const int r = get_global_id(0);
  if (r >= ROWS) return;
  float s[D], g[D], o[D];
  for (int d = 0; d < D; d++) { s[d] = x[(size_t)r * D + d]; g[d] = dy[(size_t)r * D + d]; }
  SQUASH_GRAD(s, g, o, D)
  for (int d = 0; d < D; d++) dx[(size_t)r * D + d] = o[d];
}

// dx = dy x / |x| (0 for a zero vector). global: (ROWS)
__kernel void length_grad_rows(__global const float* restrict dy, __global const float* restrict x,
                               __global float* restrict dx) {
  const int r = get_global_id(0);
  if (r >= ROWS) return;
  const __global float* xr = x + (size_t)r * D;
  float q = 0.0f;
  for (int d = 0; d < D; d++) q += xr[d] * xr[d];
  const float f = q > 0.0f ? dy[r] / sqrt(q) : 0.0f;
  for (int d = 0; d < D; d++) dx[(size_t)r * D + d] = f * xr[d];
}
#endif

#ifdef CAPS
// dconv [N, CAPS*D, HW] from the gradient of the squashed capsules [N, CAPS*HW, D].
// global: (CAPS*HW, N)
__kernel void primary_caps_grad(__global const float* restrict dy, __global const float* restrict conv,
                                __global float* restrict dconv) {
  const int q = get_global_id(0);
  const int n = get_global_id(1);
  if (q >= CAPS * HW) return;
  const int c = q / HW, hw = q % HW;
  const size_t at = ((size_t)n * CAPS * D + c * D) * HW + hw;
  float s[D], g[D], o[D];
  for (int d = 0; d < D; d++) { s[d] = conv[at + d * HW]; g[d] = dy[((size_t)n * CAPS * HW + q) * D + d]; }
  SQUASH_GRAD(s, g, o, D)
  for (int d = 0; d < D; d++) dconv[at + d * HW] = o[d];
}
#endif

#ifdef ROUTING
// -D: NB I J D DIN. Slabs: c_r at r*NB*I*J, s_r and v_r at r*NB*J*D.

// Replay, iteration r: c_r = softmax_j(b) (uniform when r = 0). global: (I, NB)
__kernel void caps_replay_softmax(__global const float* restrict b, __global float* restrict call, const int r) {
  const int i = get_global_id(0), n = get_global_id(1);
  if (i >= I) return;
  const size_t base = ((size_t)n * I + i) * J;
  __global float* c = call + (size_t)r * NB * I * J + base;
  if (r == 0) { for (int j = 0; j < J; j++) c[j] = 1.0f / J; return; }
  float m = -INFINITY;
  for (int j = 0; j < J; j++) m = fmax(m, b[base + j]);
  float sum = 0.0f;
  for (int j = 0; j < J; j++) sum += exp(b[base + j] - m);
  for (int j = 0; j < J; j++) c[j] = exp(b[base + j] - m) / sum;
}

// s_r = sum_i c_r u, v_r = squash(s_r). global: (J, NB)
__kernel void caps_replay_sum(__global const float* restrict u, __global const float* restrict call,
                              __global float* restrict sall, __global float* restrict vall, const int r) {
  const int j = get_global_id(0), n = get_global_id(1);
  if (j >= J) return;
  const __global float* c = call + (size_t)r * NB * I * J;
  float s[D];
  for (int d = 0; d < D; d++) s[d] = 0.0f;
  for (int i = 0; i < I; i++) {
    const float ci = c[((size_t)n * I + i) * J + j];
    const __global float* ur = u + (((size_t)n * I + i) * J + j) * D;
    for (int d = 0; d < D; d++) s[d] += ci * ur[d];
  }
  float q = 0.0f;
  for (int d = 0; d < D; d++) q += s[d] * s[d];
  const float k = squash_scale(q);
  const size_t at = (size_t)r * NB * J * D + ((size_t)n * J + j) * D;
  for (int d = 0; d < D; d++) { sall[at + d] = s[d]; vall[at + d] = s[d] * k; }
}

// b (+)= u . v_r (b starts at zero: r = 0 assigns). global: (J, I, NB)
__kernel void caps_replay_agree(__global const float* restrict u, __global const float* restrict vall,
                                __global float* restrict b, const int r) {
  const int j = get_global_id(0), i = get_global_id(1), n = get_global_id(2);
  if (j >= J) return;
  const __global float* ur = u + (((size_t)n * I + i) * J + j) * D;
  const __global float* vr = vall + (size_t)r * NB * J * D + ((size_t)n * J + j) * D;
  float dot = 0.0f;
  for (int d = 0; d < D; d++) dot += ur[d] * vr[d];
  const size_t k = ((size_t)n * I + i) * J + j;
  b[k] = r == 0 ? dot : b[k] + dot;
}

// Backward, iteration r: the gradient of v_r (dy on the last iteration; else what the
// agreement b_{r+1} = b_r + u . v_r sends back, from gb = dL/db_{r+1}), then through the
// squash to gs = dL/ds_r. global: (J, NB)
__kernel void caps_back_v(__global const float* restrict dy, __global const float* restrict u,
                          __global const float* restrict gb, __global const float* restrict sall,
                          __global float* restrict gs, const int r, const int last) {
  const int j = get_global_id(0), n = get_global_id(1);
  if (j >= J) return;
  float g[D], s[D], o[D];
  for (int d = 0; d < D; d++) g[d] = last ? dy[((size_t)n * J + j) * D + d] : 0.0f;
  if (!last) {
    for (int i = 0; i < I; i++) {
      const float gbi = gb[((size_t)n * I + i) * J + j];
      const __global float* ur = u + (((size_t)n * I + i) * J + j) * D;
      for (int d = 0; d < D; d++) g[d] += gbi * ur[d];
    }
  }
  const size_t at = (size_t)r * NB * J * D + ((size_t)n * J + j) * D;
  for (int d = 0; d < D; d++) s[d] = sall[at + d];
  SQUASH_GRAD(s, g, o, D)
  for (int d = 0; d < D; d++) gs[((size_t)n * J + j) * D + d] = o[d];
}

// Backward, iteration r, per input capsule: the predictions' gradient gains c_r gs (the
// sum) and gb v_r (the agreement, before the last iteration); then gb becomes dL/db_r:
// gb + the softmax's backward of gc = gs . u (not needed for r = 0, where b is constant).
// global: (I, NB)
__kernel void caps_back_c(__global const float* restrict u, __global const float* restrict call,
                          __global const float* restrict vall, __global const float* restrict gs,
                          __global float* restrict gb, __global float* restrict gu, const int r, const int last) {
  const int i = get_global_id(0), n = get_global_id(1);
  if (i >= I) return;
  const __global float* c = call + (size_t)r * NB * I * J + ((size_t)n * I + i) * J;
  const __global float* v = vall + (size_t)r * NB * J * D + (size_t)n * J * D;
  float gc[J];
  float sc = 0.0f;
  for (int j = 0; j < J; j++) {
    const size_t k = ((size_t)n * I + i) * J + j;
    const __global float* ur = u + k * D;
    const __global float* g = gs + ((size_t)n * J + j) * D;
    const float gbk = last ? 0.0f : gb[k];
    float dot = 0.0f;
    for (int d = 0; d < D; d++) {
      dot += g[d] * ur[d];
      const float add = c[j] * g[d] + gbk * v[j * D + d];
      gu[k * D + d] = last ? add : gu[k * D + d] + add;
    }
    gc[j] = dot;
    sc += c[j] * dot;
  }
  if (r == 0) return;
  for (int j = 0; j < J; j++) {
    const size_t k = ((size_t)n * I + i) * J + j;
    gb[k] = (last ? 0.0f : gb[k]) + c[j] * (gc[j] - sc);
  }
}

// dx[n,i,:] = sum_{j,d} W[i,j,d,:] gu[n,i,j,d]; a work-item does one input capsule.
// global: (I, NB)
__kernel void caps_grad_input(__global const float* restrict w, __global const float* restrict gu,
                              __global float* restrict dx) {
  const int i = get_global_id(0), n = get_global_id(1);
  if (i >= I) return;
  float acc[DIN];
  for (int k = 0; k < DIN; k++) acc[k] = 0.0f;
  const __global float* g = gu + ((size_t)n * I + i) * J * D;
  const __global float* wi = w + (size_t)i * J * D * DIN;
  for (int jd = 0; jd < J * D; jd++) {
    const float gv = g[jd];
    for (int k = 0; k < DIN; k++) acc[k] += wi[jd * DIN + k] * gv;
  }
  for (int k = 0; k < DIN; k++) dx[((size_t)n * I + i) * DIN + k] = acc[k];
}

// dW[i,j,d,:] = sum_n gu[n,i,j,d] x[n,i,:]; a work-item does one (i, j, d) row.
// global: (J*D, I)
__kernel void caps_grad_weight(__global const float* restrict x, __global const float* restrict gu,
                               __global float* restrict dw) {
  const int jd = get_global_id(0), i = get_global_id(1);
  if (jd >= J * D) return;
  float acc[DIN];
  for (int k = 0; k < DIN; k++) acc[k] = 0.0f;
  for (int n = 0; n < NB; n++) {
    const float gv = gu[((size_t)n * I + i) * J * D + jd];
    const __global float* xr = x + ((size_t)n * I + i) * DIN;
    for (int k = 0; k < DIN; k++) acc[k] += gv * xr[k];
  }
  for (int k = 0; k < DIN; k++) dw[((size_t)i * J * D + jd) * DIN + k] = acc[k];
}
#endif

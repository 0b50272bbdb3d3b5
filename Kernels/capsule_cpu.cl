// The capsule layer on CPUs: predictions as one batched GEMM per input capsule, and all
// routing iterations fused into one kernel per sample, whose predictions (I*J*D floats,
// 737 KB for CapsNet) stay in that core's cache across the iterations.
// -D: N I J D DIN MR NR ITERS

#define JD (J * D)
#define JB ((JD + NR - 1) / NR)

// u[n,i,:] = W[i] x[n,i] for MR samples and one input capsule i: W[i] is the B operand,
// packed by the host as [I][JB][DIN][NR], and read once for MR samples.
// global: (ceil(N/MR), I), local: (1, 1)
__kernel void caps_predict_cpu(__global const float* restrict x, __global const float* restrict w,
                               __global float* restrict u) {
  const int n0 = get_global_id(0) * MR, i = get_global_id(1);
  const __global float* xr[MR];
  for (int r = 0; r < MR; r++) xr[r] = x + ((size_t)min(n0 + r, N - 1) * I + i) * DIN;
  for (int jb = 0; jb < JB; jb++) {
    const __global float* wp = w + ((size_t)i * JB + jb) * DIN * NR;
    vec acc[MR];
    for (int r = 0; r < MR; r++) acc[r] = (vec)(0.0f);
    #pragma unroll
    for (int k = 0; k < DIN; k++) {
      const vec wv = VLOAD(0, wp + k * NR);
      #pragma unroll
      for (int r = 0; r < MR; r++) acc[r] = fma((vec)(xr[r][k]), wv, acc[r]);
    }
    for (int r = 0; r < MR && n0 + r < N; r++) {
      __global float* ur = u + ((size_t)(n0 + r) * I + i) * JD + jb * NR;
      if ((jb + 1) * NR <= JD) {
        VSTORE(acc[r], 0, ur);
      } else {
        float t[NR];
        VSTORE(acc[r], 0, t);
        for (int j = 0; j < JD - jb * NR; j++) ur[j] = t[j];
      }
    }
  }
}

// One capsule (D floats) as a vector where D allows: the routing loops then work on whole
// capsules instead of scalars.
#if D == 16
typedef float16 dvec;
#define DLOAD vload16
#define DSTORE vstore16
inline float dsum(dvec a) { float8 b = a.lo + a.hi; float4 c = b.lo + b.hi; return c.x + c.y + c.z + c.w; }
#elif D == 8
typedef float8 dvec;
#define DLOAD vload8
#define DSTORE vstore8
inline float dsum(dvec a) { float4 c = a.lo + a.hi; return c.x + c.y + c.z + c.w; }
#elif D == 4
typedef float4 dvec;
#define DLOAD vload4
#define DSTORE vstore4
inline float dsum(dvec a) { return a.x + a.y + a.z + a.w; }
#elif D == 2
typedef float2 dvec;
#define DLOAD vload2
#define DSTORE vstore2
inline float dsum(dvec a) { return a.x + a.y; }
#else
typedef float dvec;
#define DVEC_SCALAR 1
#endif

#ifndef DVEC_SCALAR
inline dvec squash_vec(dvec s) { return s * squash_scale(dsum(s * s)); }

// Dynamic routing of one sample, ITERS iterations. Iteration 0 has uniform couplings 1/J;
// each later one makes a single pass over u: agreement with the previous v added to the
// logits b, their softmax over j (the couplings c), and the weighted sum s, squashed to v
// at the end of the pass. c is written on the last iteration, b kept between them.
// global: (N), local: (1)
__kernel void caps_route_cpu(__global const float* restrict u, __global float* restrict b,
                             __global float* restrict c, __global float* restrict v) {
  const int n = get_global_id(0);
  const __global float* un = u + (size_t)n * I * JD;
  __global float* bn = b + (size_t)n * I * J;
  __global float* cn = c + (size_t)n * I * J;
  dvec s[J], vv[J];
  for (int j = 0; j < J; j++) s[j] = (dvec)(0.0f);
  for (int i = 0; i < I; i++) {
    for (int j = 0; j < J; j++) s[j] += DLOAD(0, un + (size_t)i * JD + j * D);
  }
  for (int j = 0; j < J; j++) vv[j] = squash_vec(s[j] * (1.0f / J));
  if (ITERS == 1) {
    for (int t = 0; t < I * J; t++) cn[t] = 1.0f / J;
  }
  for (int r = 1; r < ITERS; r++) {
    for (int j = 0; j < J; j++) s[j] = (dvec)(0.0f);
    for (int i = 0; i < I; i++) {
      const __global float* ui = un + (size_t)i * JD;
      dvec uij[J];
      float logit[J];
      float m = -INFINITY;
      for (int j = 0; j < J; j++) {
        uij[j] = DLOAD(0, ui + j * D);
        logit[j] = (r > 1 ? bn[i * J + j] : 0.0f) + dsum(uij[j] * vv[j]);
        m = fmax(m, logit[j]);
      }
      if (r < ITERS - 1) {
        for (int j = 0; j < J; j++) bn[i * J + j] = logit[j];
      }
      float e[J], sum = 0.0f;
      for (int j = 0; j < J; j++) { e[j] = exp(logit[j] - m); sum += e[j]; }
      const float inv = 1.0f / sum;
      for (int j = 0; j < J; j++) {
        const float cj = e[j] * inv;
        if (r == ITERS - 1) cn[i * J + j] = cj;
        s[j] += cj * uij[j];
      }
    }
    for (int j = 0; j < J; j++) vv[j] = squash_vec(s[j]);
  }
  for (int j = 0; j < J; j++) DSTORE(vv[j], 0, v + (size_t)n * JD + j * D);
}
#else
// squash of each of the J capsules of s into v.
inline void squash_caps(const float* s, float* v) {
  for (int j = 0; j < J; j++) {
    float sq = 0.0f;
    for (int d = 0; d < D; d++) sq += s[j * D + d] * s[j * D + d];
    const float k = squash_scale(sq);
    for (int d = 0; d < D; d++) v[j * D + d] = s[j * D + d] * k;
  }
}

// Dynamic routing of one sample, ITERS iterations. Iteration 0 has uniform couplings 1/J;
// each later one makes a single pass over u: agreement with the previous v added to the
// logits b, their softmax over j (the couplings c), and the weighted sum s, squashed to v
// at the end of the pass. c is written on the last iteration, b kept between them.
// global: (N), local: (1)
__kernel void caps_route_cpu(__global const float* restrict u, __global float* restrict b,
                             __global float* restrict c, __global float* restrict v) {
  const int n = get_global_id(0);
  const __global float* un = u + (size_t)n * I * JD;
  __global float* bn = b + (size_t)n * I * J;
  __global float* cn = c + (size_t)n * I * J;
  float s[JD], vv[JD];
  for (int t = 0; t < JD; t++) s[t] = 0.0f;
  for (int i = 0; i < I; i++) {
    for (int t = 0; t < JD; t++) s[t] += un[(size_t)i * JD + t];
  }
  for (int t = 0; t < JD; t++) s[t] *= 1.0f / J;
  squash_caps(s, vv);
  if (ITERS == 1) {
    for (int t = 0; t < I * J; t++) cn[t] = 1.0f / J;
  }
  for (int r = 1; r < ITERS; r++) {
    for (int t = 0; t < JD; t++) s[t] = 0.0f;
    for (int i = 0; i < I; i++) {
      const __global float* ui = un + (size_t)i * JD;
      float logit[J];
      float m = -INFINITY;
      for (int j = 0; j < J; j++) {
        float dot = 0.0f;
        for (int d = 0; d < D; d++) dot += ui[j * D + d] * vv[j * D + d];
        logit[j] = (r > 1 ? bn[i * J + j] : 0.0f) + dot;
        m = fmax(m, logit[j]);
      }
      if (r < ITERS - 1) {
        for (int j = 0; j < J; j++) bn[i * J + j] = logit[j];
      }
      float e[J], sum = 0.0f;
      for (int j = 0; j < J; j++) { e[j] = exp(logit[j] - m); sum += e[j]; }
      for (int j = 0; j < J; j++) {
        const float cj = e[j] / sum;
        if (r == ITERS - 1) cn[i * J + j] = cj;
        for (int d = 0; d < D; d++) s[j * D + d] += cj * ui[j * D + d];
      }
    }
    squash_caps(s, vv);
  }
  for (int t = 0; t < JD; t++) v[(size_t)n * JD + t] = vv[t];
}
#endif

// Direct 2-D convolution for CPUs: each work-item (alone in its work-group) computes a
// register tile of OCB output channels, one vector, by PX output pixels (consecutive in
// row-major order), so each weight vector loaded serves PX pixels and each input value
// loaded serves OCB channels. Weights are packed by the host as
// [ceil(F/OCB)][C][KH][KW][OCB]. Epilogue: bias and activation, or for primary capsules
// (CAPS_D set) the regrouping into capsules and the squash. Padded convolutions first copy
// the input into a zero border (pad_input), so the inner loop never tests bounds.

#ifdef PAD_INPUT
// y[n, c] = x[n, c] with PH rows and PW columns of zeros around it.
// -D: PAD_INPUT C H W PH PW. global: (W + 2*PW, H + 2*PH, N*C)
__kernel void pad_input(__global const float* restrict x, __global float* restrict y) {
  const int w = get_global_id(0), h = get_global_id(1), nc = get_global_id(2);
  const int ih = h - PH, iw = w - PW;
  const float v = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[((size_t)nc * H + ih) * W + iw] : 0.0f;
  y[((size_t)nc * (H + 2 * PH) + h) * (W + 2 * PW) + w] = v;
}
#else
// -D: C H W F OH OW KH KW SH SW OCB PX TPW CB HAS_BIAS ACT_EXPR [CAPS_D] (H, W: the padded input)
// global: (ceil(ceil(OH*OW/PX)/TPW), ceil(F/OCB), N), local: (1, 1, 1)
#if OCB == 4
typedef float4 vec;
#define VLOAD vload4
#define VSTORE vstore4
#elif OCB == 8
typedef float8 vec;
#define VLOAD vload8
#define VSTORE vstore8
#elif OCB == 16
typedef float16 vec;
#define VLOAD vload16
#define VSTORE vstore16
#else
#error OCB must be 4, 8 or 16
#endif
#define OHW (OH * OW)

__kernel void conv2d_cpu(__global const float* restrict x, __global const float* restrict w,
                         __global const float* restrict bias, __global float* restrict y) {
  const int t0 = get_global_id(0) * TPW, fb = get_global_id(1), n = get_global_id(2);
  // TPW tiles per work-item, channels in blocks of CB: the weights of one block (CB*KH*KW
  // vectors) stay in cache while every tile uses them; the tiles' partial sums wait in
  // private memory. Pixels past the end repeat the last one; they are not stored.
  int off[TPW][PX];
  vec part[TPW][PX];
  for (int t = 0; t < TPW; t++) {
    for (int p = 0; p < PX; p++) {
      const int q = min((t0 + t) * PX + p, OHW - 1), oh = q / OW, ow = q % OW;
      off[t][p] = oh * SH * W + ow * SW;
      part[t][p] = (vec)(0.0f);
    }
  }
  const __global float* xn = x + (size_t)n * C * H * W;
  const __global float* wb = w + (size_t)fb * C * KH * KW * OCB;
  for (int c0 = 0; c0 < C; c0 += CB) {
    for (int t = 0; t < TPW; t++) {
      vec acc[PX];
      for (int p = 0; p < PX; p++) acc[p] = part[t][p];
      for (int c = c0; c < min(c0 + CB, C); c++) {
        // Pointers rather than offsets: the unrolled taps become constant displacements.
        const __global float* xp[PX];
        for (int p = 0; p < PX; p++) xp[p] = xn + c * H * W + off[t][p];
        for (int kh = 0; kh < KH; kh++) {
          #pragma unroll
          for (int kw = 0; kw < KW; kw++) {
            const vec wv = VLOAD(0, wb + ((c * KH + kh) * KW + kw) * OCB);
            #pragma unroll
            for (int p = 0; p < PX; p++) acc[p] = fma((vec)(xp[p][kh * W + kw]), wv, acc[p]);
          }
        }
      }
      for (int p = 0; p < PX; p++) part[t][p] = acc[p];
    }
  }
  const int f0 = fb * OCB;
  float b[OCB];
  for (int f = 0; f < OCB; f++) b[f] = HAS_BIAS && f0 + f < F ? bias[f0 + f] : 0.0f;
  for (int t = 0; t < TPW; t++) {
  const int p0 = (t0 + t) * PX;
  for (int p = 0; p < PX && p0 + p < OHW; p++) {
    float r[OCB];
    VSTORE(part[t][p], 0, r);
#ifdef CAPS_D
    // Channels cap*D .. cap*D+D-1 at pixel q are capsule cap*OH*OW + q.
    for (int g = 0; g < OCB / CAPS_D && f0 + g * CAPS_D < F; g++) {
      float sq = 0.0f;
      for (int d = 0; d < CAPS_D; d++) {
        r[g * CAPS_D + d] += b[g * CAPS_D + d];
        sq += r[g * CAPS_D + d] * r[g * CAPS_D + d];
      }
      const float k = squash_scale(sq);
      const int cap = f0 / CAPS_D + g;
      __global float* dst = y + (((size_t)n * (F / CAPS_D) + cap) * OHW + p0 + p) * CAPS_D;
      for (int d = 0; d < CAPS_D; d++) dst[d] = r[g * CAPS_D + d] * k;
    }
#else
    for (int f = 0; f < OCB && f0 + f < F; f++) {
      const float v = r[f] + b[f];
      y[((size_t)n * F + f0 + f) * OHW + p0 + p] = ACT_EXPR;
    }
#endif
  }
  }
}
#endif


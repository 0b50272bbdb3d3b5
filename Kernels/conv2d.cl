// Direct 2-D convolution (cross-correlation), bias and activation fused.
// Each work-item computes FT output channels of one output pixel; the weights are packed
// by the host as [ceil(F/FT)][C][KH][KW][FT] so the FT weights of one tap are adjacent.
// -D: C H W F OH OW KH KW SH SW PH PW FT HAS_BIAS ACT_EXPR
// global: (OH*OW, ceil(F/FT), N)
__kernel void conv2d(__global const float* restrict x, __global const float* restrict w,
                     __global const float* restrict bias, __global float* restrict y) {
  const int p = get_global_id(0);
  const int fb = get_global_id(1);
  const int n = get_global_id(2);
  if (p >= OH * OW) return;
  const int oh = p / OW, ow = p % OW;
  float acc[FT];
  for (int f = 0; f < FT; f++) acc[f] = 0.0f;
  const __global float* xn = x + (size_t)n * C * H * W;
  const __global float* wb = w + (size_t)fb * C * KH * KW * FT;
  for (int c = 0; c < C; c++) {
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * SH - PH + kh;
      if (ih < 0 || ih >= H) continue;
      const __global float* xr = xn + (c * H + ih) * W;
      const __global float* wr = wb + ((c * KH + kh) * KW) * FT;
      for (int kw = 0; kw < KW; kw++) {
        const int iw = ow * SW - PW + kw;
        if (iw < 0 || iw >= W) continue;
        const float xv = xr[iw];
        for (int f = 0; f < FT; f++) acc[f] += xv * wr[kw * FT + f];
      }
    }
  }
  for (int f = 0; f < FT; f++) {
    const int fo = fb * FT + f;
    if (fo < F) {
      float v = acc[f];
#if HAS_BIAS
      v += bias[fo];
#endif
      y[((size_t)n * F + fo) * OH * OW + p] = ACT_EXPR;
    }
  }
}

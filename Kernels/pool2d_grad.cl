// Backward of 2-D pooling (pool2d.cl), one work-item per input cell: it gathers the
// gradient of every window that covers it. Max pooling: only from windows whose first
// largest in-bounds cell it is (PyTorch's choice on ties); average: dy / in-bounds count.
// -D: C H W OH OW KH KW SH SW PH PW POOL_MAX
// global: (H*W, C, N)
__kernel void pool2d_grad(__global const float* restrict dy, __global const float* restrict x,
                          __global float* restrict dx) {
  const int p = get_global_id(0);
  const int c = get_global_id(1);
  const int n = get_global_id(2);
  if (p >= H * W) return;
  const int ih = p / W, iw = p % W;
  const __global float* xc = x + ((size_t)n * C + c) * H * W;
  const __global float* dyc = dy + ((size_t)n * C + c) * OH * OW;
  float acc = 0.0f;
  for (int oh = 0; oh < OH; oh++) {
    const int h0 = oh * SH - PH;
    if (ih < h0 || ih >= h0 + KH) continue;
    for (int ow = 0; ow < OW; ow++) {
      const int w0 = ow * SW - PW;
      if (iw < w0 || iw >= w0 + KW) continue;
#if POOL_MAX
      float best = -INFINITY;
      int at = -1;
      for (int kh = 0; kh < KH; kh++) {
        const int hh = h0 + kh;
        if (hh < 0 || hh >= H) continue;
        for (int kw = 0; kw < KW; kw++) {
          const int ww = w0 + kw;
          if (ww < 0 || ww >= W) continue;
          const float v = xc[hh * W + ww];
          if (at < 0 || v > best) { best = v; at = hh * W + ww; }
        }
      }
      if (at == p) acc += dyc[oh * OW + ow];
#else
      const int hs = max(h0, 0), he = min(h0 + KH, H), ws = max(w0, 0), we = min(w0 + KW, W);
      acc += dyc[oh * OW + ow] / (float)((he - hs) * (we - ws));
#endif
    }
  }
  dx[((size_t)n * C + c) * H * W + p] = acc;
}

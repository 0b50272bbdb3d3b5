// 2-D max or average pooling (POOL_MAX 1 or 0). Padded cells are never part of a window:
// max ignores them, average divides by the in-bounds count.
// -D: C H W OH OW KH KW SH SW PH PW POOL_MAX
// global: (OH*OW, C, N)
__kernel void pool2d(__global const float* restrict x, __global float* restrict y) {
  const int p = get_global_id(0);
  const int c = get_global_id(1);
  const int n = get_global_id(2);
  if (p >= OH * OW) return;
  const int oh = p / OW, ow = p % OW;
  const __global float* xc = x + ((size_t)n * C + c) * H * W;
  float acc = POOL_MAX ? -INFINITY : 0.0f;
  int count = 0;
  for (int kh = 0; kh < KH; kh++) {
    const int ih = oh * SH - PH + kh;
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      const int iw = ow * SW - PW + kw;
      if (iw < 0 || iw >= W) continue;
      const float v = xc[ih * W + iw];
      acc = POOL_MAX ? fmax(acc, v) : acc + v;
      count++;
    }
  }
  y[((size_t)n * C + c) * OH * OW + p] = POOL_MAX ? acc : acc / (float)count;
}

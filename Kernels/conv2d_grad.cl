// Backward of the direct convolution (conv2d.cl): the input's gradient (a transposed
// convolution, the weight read in its packed layout [ceil(F/FT)][C][KH][KW][FT]), the
// weight's gradient and the bias's gradient.
// -D: C H W F OH OW KH KW SH SW PH PW FT, CB (input channels per work-item), FB (filters per work-item)

// dx[n,c,ih,iw] = sum over f and the taps that reach (ih, iw). Each work-item computes CB
// input channels of one pixel, so every dy load serves CB channels. global: (H*W, ceil(C/CB), N)
__kernel void conv2d_grad_input(__global const float* restrict dy, __global const float* restrict w,
                                __global float* restrict dx) {
  const int p = get_global_id(0);
  const int cb = get_global_id(1);
  const int n = get_global_id(2);
  if (p >= H * W) return;
  const int ih = p / W, iw = p % W;
  float acc[CB];
  for (int j = 0; j < CB; j++) acc[j] = 0.0f;
  for (int kh = 0; kh < KH; kh++) {
    const int th = ih + PH - kh;
    if (th < 0 || th % SH) continue;
    const int oh = th / SH;
    if (oh >= OH) continue;
    for (int kw = 0; kw < KW; kw++) {
      const int tw = iw + PW - kw;
      if (tw < 0 || tw % SW) continue;
      const int ow = tw / SW;
      if (ow >= OW) continue;
      const __global float* dyp = dy + (size_t)n * F * OH * OW + oh * OW + ow;
      for (int f = 0; f < F; f++) {
        const float d = dyp[(size_t)f * OH * OW];
        const __global float* wf = w + (size_t)(f / FT) * C * KH * KW * FT + f % FT;
        for (int j = 0; j < CB; j++) {
          const int c = min(cb * CB + j, C - 1);  // past C: a repeated channel, not written
          acc[j] += d * wf[((c * KH + kh) * KW + kw) * FT];
        }
      }
    }
  }
  for (int j = 0; j < CB; j++) {
    const int c = cb * CB + j;
    if (c < C) dx[((size_t)n * C + c) * H * W + p] = acc[j];
  }
}

// dw[f,c,kh,kw] = sum over n, oh, ow of dy[n,f,oh,ow] x[n,c,oh*SH-PH+kh,ow*SW-PW+kw]. Each
// work-item computes FB filters of one tap, so every x load serves FB filters.
// global: (KH*KW, C, ceil(F/FB))
__kernel void conv2d_grad_weight(__global const float* restrict dy, __global const float* restrict x,
                                 __global float* restrict dw, const int n_count) {
  const int t = get_global_id(0);
  const int c = get_global_id(1);
  const int fb = get_global_id(2);
  if (t >= KH * KW) return;
  const int kh = t / KW, kw = t % KW;
  float acc[FB];
  for (int j = 0; j < FB; j++) acc[j] = 0.0f;
  for (int n = 0; n < n_count; n++) {
    const __global float* xp = x + ((size_t)n * C + c) * H * W;
    const __global float* dyn = dy + (size_t)n * F * OH * OW;
    for (int oh = 0; oh < OH; oh++) {
      const int ih = oh * SH - PH + kh;
      if (ih < 0 || ih >= H) continue;
      for (int ow = 0; ow < OW; ow++) {
        const int iw = ow * SW - PW + kw;
        if (iw < 0 || iw >= W) continue;
        const float xv = xp[ih * W + iw];
        for (int j = 0; j < FB; j++) {
          const int f = min(fb * FB + j, F - 1);  // past F: a repeated filter, not written
          acc[j] += dyn[(size_t)f * OH * OW + oh * OW + ow] * xv;
        }
      }
    }
  }
  for (int j = 0; j < FB; j++) {
    const int f = fb * FB + j;
    if (f < F) dw[((size_t)f * C + c) * KH * KW + t] = acc[j];
  }
}

// db[f] = sum over n and pixels of dy. global: (F)
__kernel void conv2d_grad_bias(__global const float* restrict dy, __global float* restrict db, const int n_count) {
  const int f = get_global_id(0);
  if (f >= F) return;
  float acc = 0.0f;
  for (int n = 0; n < n_count; n++) {
    const __global float* dyp = dy + ((size_t)n * F + f) * OH * OW;
    for (int p = 0; p < OH * OW; p++) acc += dyp[p];
  }
  db[f] = acc;
}

// Training kernels that are not an op's backward: the loss with its gradient, the
// optimizer updates, softmax's backward and slicing (concat's backward).
// PACK_BLOCK/PACK_INNER: the weight is read in the layout its forward kernel packed it in
// ([ceil(F/B)][INNER][B]; B = 1 is the plain layout).

#ifdef PACK_BLOCK
inline size_t packed(size_t i) {
  const size_t f = i / PACK_INNER, k = i % PACK_INNER;
  return ((f / PACK_BLOCK) * PACK_INNER + k) * PACK_BLOCK + f % PACK_BLOCK;
}

#ifdef LR
// SGD with momentum as torch.optim.SGD: buf = MOMENTUM buf + g (buf starts at zero),
// w -= LR buf. -D: LR MOMENTUM HAS_MOMENTUM. global: (count)
__kernel void sgd_update(__global const float* restrict g, __global const float* restrict w,
                         __global const float* restrict buf, __global float* restrict w_out,
                         __global float* restrict buf_out, const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  float d = g[i];
#if HAS_MOMENTUM
  d = MOMENTUM * buf[i] + d;
  buf_out[i] = d;
#endif
  w_out[i] = w[packed(i)] - LR * d;
}
#endif

#ifdef BETA1
// Adam as torch.optim.Adam; step = [lr / (1 - b1^t), sqrt(1 - b2^t)]. -D: BETA1 BETA2 EPS.
// global: (count)
__kernel void adam_update(__global const float* restrict g, __global const float* restrict w,
                          __global const float* restrict m, __global const float* restrict v,
                          __global const float* restrict step, __global float* restrict w_out,
                          __global float* restrict m_out, __global float* restrict v_out, const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const float gi = g[i];
  const float mi = m[i] + (1.0f - BETA1) * (gi - m[i]);
  const float vi = BETA2 * v[i] + (1.0f - BETA2) * gi * gi;
  m_out[i] = mi;
  v_out[i] = vi;
  const float denom = sqrt(vi) / step[1] + EPS;
  w_out[i] = w[packed(i)] - step[0] * (mi / denom);
}
#endif
#endif

#ifdef CLASSES
// Per-sample loss on z [N, CLASSES] with labels (class indices as floats) and the gradient
// of the batch's loss, times SCALE. MARGIN 1: margin loss on lengths; 0: cross-entropy on
// logits. global: (N)
__kernel void loss(__global const float* restrict z, __global const float* restrict labels,
                   __global float* restrict loss, __global float* restrict grad, const int n_count) {
  const int n = get_global_id(0);
  if (n >= n_count) return;
  const int label = (int)labels[n];
  const __global float* zr = z + (size_t)n * CLASSES;
  __global float* gr = grad + (size_t)n * CLASSES;
  float total = 0.0f;
#if MARGIN
  for (int j = 0; j < CLASSES; j++) {
    const float up = fmax(0.0f, 0.9f - zr[j]), down = fmax(0.0f, zr[j] - 0.1f);
    if (j == label) { total += up * up; gr[j] = SCALE * -2.0f * up; }
    else { total += 0.5f * down * down; gr[j] = SCALE * down; }
  }
#else
  float m = -INFINITY;
  for (int j = 0; j < CLASSES; j++) m = fmax(m, zr[j]);
  float sum = 0.0f;
  for (int j = 0; j < CLASSES; j++) sum += exp(zr[j] - m);
  total = m + log(sum) - zr[label];
  for (int j = 0; j < CLASSES; j++) gr[j] = SCALE * (exp(zr[j] - m) / sum - (j == label ? 1.0f : 0.0f));
#endif
  loss[n] = total;
}
#endif

#ifdef A
// dx = y (dy - sum_a dy y) along the middle axis of [OUTER, A, INNER]. global: (INNER, OUTER)
__kernel void softmax_grad(__global const float* restrict dy, __global const float* restrict y,
                           __global float* restrict dx) {
  const int inner = get_global_id(0);
  const int outer = get_global_id(1);
  if (inner >= INNER) return;
  const size_t base = (size_t)outer * A * INNER + inner;
  float s = 0.0f;
  for (int a = 0; a < A; a++) s += dy[base + a * INNER] * y[base + a * INNER];
  for (int a = 0; a < A; a++) dx[base + a * INNER] = y[base + a * INNER] * (dy[base + a * INNER] - s);
}
#endif

// slice's gradient: dy ([outer, end - begin, inner]) back in its range of the middle axis
// of dx ([outer, total, inner]), zeros elsewhere.
// global: (outer * total * inner)
__kernel void slice_grad(__global const float* restrict dy, __global float* restrict dx, const int begin,
                         const int end, const int total, const int inner, const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const int o = i / (total * inner), r = i % (total * inner), a = r / inner;
  dx[i] = a >= begin && a < end ? dy[((size_t)o * (end - begin) + (a - begin)) * inner + r % inner] : 0.0f;
}

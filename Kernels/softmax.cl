// Numerically stable softmax along one axis of a tensor viewed as [OUTER, A, INNER].
// -D: A INNER
// global: (INNER, OUTER)
__kernel void softmax(__global const float* restrict x, __global float* restrict y) {
  const int inner = get_global_id(0);
  const int outer = get_global_id(1);
  if (inner >= INNER) return;
  const size_t base = (size_t)outer * A * INNER + inner;
  float m = -INFINITY;
  for (int a = 0; a < A; a++) m = fmax(m, x[base + a * INNER]);
  float sum = 0.0f;
  for (int a = 0; a < A; a++) sum += exp(x[base + a * INNER] - m);
  const float inv = 1.0f / sum;
  for (int a = 0; a < A; a++) y[base + a * INNER] = exp(x[base + a * INNER] - m) * inv;
}

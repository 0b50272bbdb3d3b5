// Backward of the dense layer: dx = dy W, dW = dy^T x, db = sum_n dy.
// -D: IN U NB (the batch)

// global: (IN, NB)
__kernel void dense_grad_input(__global const float* restrict dy, __global const float* restrict w,
                               __global float* restrict dx) {
  const int k = get_global_id(0);
  const int n = get_global_id(1);
  if (k >= IN) return;
  float acc = 0.0f;
  for (int u = 0; u < U; u++) acc += dy[(size_t)n * U + u] * w[(size_t)u * IN + k];
  dx[(size_t)n * IN + k] = acc;
}

// global: (IN, U)
__kernel void dense_grad_weight(__global const float* restrict dy, __global const float* restrict x,
                                __global float* restrict dw) {
  const int k = get_global_id(0);
  const int u = get_global_id(1);
  if (k >= IN) return;
  float acc = 0.0f;
  for (int n = 0; n < NB; n++) acc += dy[(size_t)n * U + u] * x[(size_t)n * IN + k];
  dw[(size_t)u * IN + k] = acc;
}

// global: (U)
__kernel void dense_grad_bias(__global const float* restrict dy, __global float* restrict db) {
  const int u = get_global_id(0);
  if (u >= U) return;
  float acc = 0.0f;
  for (int n = 0; n < NB; n++) acc += dy[(size_t)n * U + u];
  db[u] = acc;
}

// Fully connected layer y[n, u] = sum_k x[n, k] w[u, k] + b[u], activation fused.
// -D: IN U HAS_BIAS ACT_EXPR (dense); U HAS_BIAS ACT_EXPR (bias_act)
// global: (U, N)
#ifdef IN
__kernel void dense(__global const float* restrict x, __global const float* restrict w,
                    __global const float* restrict bias, __global float* restrict y) {
  const int u = get_global_id(0);
  const int n = get_global_id(1);
  if (u >= U) return;
  const __global float* xr = x + (size_t)n * IN;
  const __global float* wr = w + (size_t)u * IN;
  float acc = 0.0f;
  for (int k = 0; k < IN; k++) acc += xr[k] * wr[k];
  float v = acc;
#if HAS_BIAS
  v += bias[u];
#endif
  y[(size_t)n * U + u] = ACT_EXPR;
}
#endif

// Adds the bias and applies the activation in place, after a library GEMM.
// -D: U HAS_BIAS ACT_EXPR
// global: (U, N)
__kernel void bias_act(__global float* restrict y, __global const float* restrict bias) {
  const int u = get_global_id(0);
  const int n = get_global_id(1);
  if (u >= U) return;
  float v = y[(size_t)n * U + u];
#if HAS_BIAS
  v += bias[u];
#endif
  y[(size_t)n * U + u] = ACT_EXPR;
}

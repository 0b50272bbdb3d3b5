// Batch normalisation at inference over axis 1 of [N, C, INNER]:
// y = (x - mean[c]) / sqrt(var[c] + EPS) * weight[c] + bias[c].
// -D: C INNER EPS
// global: (INNER, C, N)
__kernel void batchnorm_infer(__global const float* restrict x, __global const float* restrict weight,
                              __global const float* restrict bias, __global const float* restrict mean,
                              __global const float* restrict var, __global float* restrict y) {
  const int i = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  const size_t at = ((size_t)n * C + c) * INNER + i;
  const float scale = weight[c] * rsqrt(var[c] + EPS);
  y[at] = (x[at] - mean[c]) * scale + bias[c];
}

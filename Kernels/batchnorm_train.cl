// Batch normalisation in training mode over axis 1 of [NB, C, INNER], as PyTorch: batch
// statistics (biased variance) normalise; the running statistics move by MOMENTUM
// towards the batch's (unbiased variance). And its backward.
// -D: NB C INNER EPS MOMENTUM

// global: (C)
__kernel void batchnorm_stats(__global const float* restrict x, __global const float* restrict running_mean,
                              __global const float* restrict running_var, __global float* restrict mean,
                              __global float* restrict invstd, __global float* restrict new_mean,
                              __global float* restrict new_var) {
  const int c = get_global_id(0);
  if (c >= C) return;
  const int m = NB * INNER;
  float sum = 0.0f;
  for (int n = 0; n < NB; n++)
    for (int i = 0; i < INNER; i++) sum += x[((size_t)n * C + c) * INNER + i];
  const float mu = sum / m;
  float sq = 0.0f;
  for (int n = 0; n < NB; n++)
    for (int i = 0; i < INNER; i++) { const float d = x[((size_t)n * C + c) * INNER + i] - mu; sq += d * d; }
  const float var = sq / m;
  mean[c] = mu;
  invstd[c] = rsqrt(var + EPS);
  new_mean[c] = (1.0f - MOMENTUM) * running_mean[c] + MOMENTUM * mu;
  new_var[c] = (1.0f - MOMENTUM) * running_var[c] + MOMENTUM * (m > 1 ? sq / (m - 1) : var);
}

// global: (INNER, C, NB)
__kernel void batchnorm_apply(__global const float* restrict x, __global const float* restrict weight,
                              __global const float* restrict bias, __global const float* restrict mean,
                              __global const float* restrict invstd, __global float* restrict y) {
  const int i = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  const size_t at = ((size_t)n * C + c) * INNER + i;
  y[at] = (x[at] - mean[c]) * invstd[c] * weight[c] + bias[c];
}

// dweight = sum dy xhat, dbias = sum dy. global: (C)
__kernel void batchnorm_grad_params(__global const float* restrict dy, __global const float* restrict x,
                                    __global const float* restrict mean, __global const float* restrict invstd,
                                    __global float* restrict dweight, __global float* restrict dbias) {
  const int c = get_global_id(0);
  if (c >= C) return;
  float sdy = 0.0f, sdyx = 0.0f;
  for (int n = 0; n < NB; n++)
    for (int i = 0; i < INNER; i++) {
      const size_t at = ((size_t)n * C + c) * INNER + i;
      sdy += dy[at];
      sdyx += dy[at] * (x[at] - mean[c]) * invstd[c];
    }
  dweight[c] = sdyx;
  dbias[c] = sdy;
}

// dx = weight invstd / M (M dy - dbias - xhat dweight). global: (INNER, C, NB)
__kernel void batchnorm_grad_input(__global const float* restrict dy, __global const float* restrict x,
                                   __global const float* restrict mean, __global const float* restrict invstd,
                                   __global const float* restrict weight, __global const float* restrict dweight,
                                   __global const float* restrict dbias, __global float* restrict dx) {
  const int i = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  const size_t at = ((size_t)n * C + c) * INNER + i;
  const float m = NB * INNER;
  const float xhat = (x[at] - mean[c]) * invstd[c];
  dx[at] = weight[c] * invstd[c] / m * (m * dy[at] - dbias[c] - xhat * dweight[c]);
}

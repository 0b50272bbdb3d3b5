// Copies one concat operand, viewed as [outer, part, inner], into the result viewed as
// [outer, total, inner] at `offset` along the middle axis.
// global: (outer * part * inner)
__kernel void concat_copy(__global const float* restrict src, __global float* restrict dst,
                          const int part, const int total, const int offset, const int inner,
                          const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const int block = part * inner;
  const int o = i / block, r = i % block;
  dst[(size_t)o * total * inner + offset * inner + r] = src[i];
}

// Copies one concat operand, viewed as [outer, part, inner], into the result viewed as
// [outer, total, inner] at `offset` along the middle axis.
// global: (outer * part * inner)
__kernel void concat_copy(__global const float* restrict src, __global float* restrict dst,
                          const int part, const int total, const int offset, const int inner,
                          const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  dst[block_index(i, part, total, offset, inner)] = src[i];
}

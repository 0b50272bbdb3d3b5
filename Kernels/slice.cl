// Copies the range offset ..< offset + part of the middle axis of `src`, viewed as
// [outer, total, inner], into `dst` viewed as [outer, part, inner].
// global: (outer * part * inner)
__kernel void slice_copy(__global const float* restrict src, __global float* restrict dst,
                         const int part, const int total, const int offset, const int inner,
                         const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  dst[i] = src[block_index(i, part, total, offset, inner)];
}

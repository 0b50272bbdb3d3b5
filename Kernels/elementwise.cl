// Elementwise maps. The expression comes from the codegen's table: EXPR1 of `x` for
// unary ops, EXPR2 of `a` and `b` for binary ops.
// global: (count)
#ifdef EXPR1
__kernel void map1(__global const float* restrict in, __global float* restrict out, const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const float x = in[i];
  out[i] = EXPR1;
}
#endif

#ifdef EXPR2
__kernel void map2(__global const float* restrict in_a, __global const float* restrict in_b,
                   __global float* restrict out, const int count) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const float a = in_a[i], b = in_b[i];
  out[i] = EXPR2;
}
#endif

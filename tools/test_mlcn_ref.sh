#!/usr/bin/env bash
# Tests tools/mlcn_ref.py (the NumPy reference for the .mlcn contract):
#  1. runs every conformance net (shared/conformance and its next/) with its weights and
#     input, and compares each output with the expected one at --rtol 1e-6;
#  2. gen then run on a conformance net: run must reproduce gen's expected outputs exactly;
#  3. a few malformed nets must be rejected with exit 1 and a file:line:col message;
#  4. tiny nets for the later operators against hand-computed values.
# Usage: tools/test_mlcn_ref.sh [CONFORMANCE_DIR]   (exits non-zero if anything fails)
set -u
here=$(cd "$(dirname "$0")" && pwd)
ref="$here/mlcn_ref.py"
conf=${1:-$(cd "$here/../../shared/conformance" 2>/dev/null && pwd)}
[ -d "$conf/nets" ] || { echo "no conformance suite at '$conf'"; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed+1)); }

# 1. conformance
for net in "$conf"/nets/*.mlcn "$conf"/next/nets/*.mlcn; do
  [ -f "$net" ] || continue
  b=$(basename "$net" .mlcn); cd=$(dirname "$(dirname "$net")")
  in=$(sed -n 's/^input[[:space:]]\+\([A-Za-z_0-9]\+\).*/\1/p' "$net" | head -1)
  outs=$(sed -n 's/^output[[:space:]]\+//p' "$net" | tr -d ' ' | tr ',' ' ')
  args=(); for o in $outs; do args+=(--output "$o=$work/$b.$o.npy"); done
  if ! python3 "$ref" run "$net" --weights "$cd/$b.safetensors" --input "$in=$cd/$b.input.npy" "${args[@]}"; then
    fail "$b: run failed"; continue
  fi
  for o in $outs; do
    python3 "$ref" compare "$work/$b.$o.npy" "$cd/$b.expected.$o.npy" --rtol 1e-6 || fail "$b output $o"
  done
done

# 2. gen -> run reproduces exactly (rtol 0), on nets with lanes and several outputs, and
#    on one with batchnorm (whose generated running_var must be positive)
for net in "$conf"/nets/c02_capsules.mlcn "$conf"/nets/c03_lanes.mlcn "$conf"/next/nets/c05_newops.mlcn; do
  [ -f "$net" ] || continue
  b=$(basename "$net" .mlcn); d="$work/gen.$b"
  python3 "$ref" gen "$net" --batch 3 --seed 7 --dir "$d" || { fail "gen $b"; continue; }
  outs=$(sed -n 's/^output[[:space:]]\+//p' "$net" | tr -d ' ' | tr ',' ' ')
  args=(); for o in $outs; do args+=(--output "$o=$d/got.$o.npy"); done
  python3 "$ref" run "$net" --weights "$d/weights.safetensors" --input "x=$d/x.npy" "${args[@]}" || { fail "run after gen $b"; continue; }
  for o in $outs; do
    python3 "$ref" compare "$d/got.$o.npy" "$d/expected.$o.npy" --rtol 0 || fail "gen/run $b output $o"
  done
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mlcn_ref as m
w = m.read_safetensors(sys.argv[2])
sys.exit(any(v.min() <= 0 for k, v in w.items() if k.endswith(".running_var")))' "$here" "$d/weights.safetensors" \
    || fail "gen $b: a running_var is not positive"
done

# 3. user errors: exit 1, a located message, no traceback
bad() {  # bad NAME 'expected message fragment' <<< net text
  cat >"$work/$1.mlcn"
  python3 "$ref" shapes "$work/$1.mlcn" >/dev/null 2>"$work/$1.err"; rc=$?
  if [ $rc != 1 ] || ! grep -q -- "$2" "$work/$1.err" || grep -q Traceback "$work/$1.err"; then
    fail "error case $1 (rc $rc): $(head -1 "$work/$1.err")"
  else
    echo "ok   error case $1: $(head -1 "$work/$1.err")"
  fi
}
bad dup ':4:1: error: duplicate name' <<'EOF'
network t
input x: [N, 4]
a = relu(x)
a = tanh(x)
output a
EOF
bad undef ':3:10: error: undefined name' <<'EOF'
network t
input x: [N, 4]
a = relu(y)
output a
EOF
bad attr ':3:23: error: unknown attribute' <<'EOF'
network t
input x: [N, 4]
a = dense(x, units=3, color=1)
output a
EOF
bad shape 'add needs equal shapes' <<'EOF'
network t
input x: [N, 4]
a = dense(x, units=3)
b = add(a, x)
output b
EOF
bad lanelocal ":7:10: error: undefined name 'h'" <<'EOF'
network t
input x: [N, 4]
lanes L[2] {
  h = relu(x)
  yield h
}
a = relu(h)
output a
EOF
bad listop "only concat takes it" <<'EOF'
network t
input x: [N, 4]
lanes L[2] {
  h = relu(x)
  yield h
}
a = relu(L)
output a
EOF

bad dropout_p ':3:18: error: p must be a number in \[0, 1)' <<'EOF'
network t
input x: [N, 4]
d = dropout(x, p=1)
output d
EOF
bad poolpad ':3:46: error: pool padding must be smaller than the kernel' <<'EOF'
network t
input x: [N, 1, 4, 4]
m = maxpool2d(x, kernel=3, stride=1, padding=3)
output m
EOF

# 4. later operators on tiny nets, against values computed by hand
val() {  # val NAME 'INPUT' 'EXPECTED' ['{WEIGHT: VALUES}'] <<< net text (Python literals)
  cat >"$work/$1.mlcn"
  python3 -c 'import sys, numpy as np; sys.path.insert(0, sys.argv[1]); import mlcn_ref as m
f = sys.argv[2]
np.save(f + ".x.npy", np.array(eval(sys.argv[3]), np.float32))
np.save(f + ".exp.npy", np.array(eval(sys.argv[4]), np.float32))
m.write_safetensors(f + ".w.safetensors", {k: np.array(v) for k, v in eval(sys.argv[5]).items()}, {})' \
    "$here" "$work/$1" "$2" "$3" "${4:-{\}}"
  if ! python3 "$ref" run "$work/$1.mlcn" --weights "$work/$1.w.safetensors" --input "$work/$1.x.npy" \
       --output "$work/$1.y.npy" 2>"$work/$1.err"; then
    fail "value case $1: $(head -1 "$work/$1.err")"
  elif python3 "$ref" compare "$work/$1.y.npy" "$work/$1.exp.npy" --rtol 1e-6 >/dev/null; then
    echo "ok   value case $1"
  else
    fail "value case $1: got $(python3 -c 'import sys, numpy; print(numpy.load(sys.argv[1]).tolist())' "$work/$1.y.npy")"
  fi
}
val leaky_relu '[[-2, -0.5, 0, 3]]' '[[-0.6, -0.15, 0, 3]]' <<'EOF'
network t
input x: [N, 4]
y = leaky_relu(x, alpha=0.3)
output y
EOF
val leaky_relu_default '[[-100, 5]]' '[[-1, 5]]' <<'EOF'
network t
input x: [N, 2]
y = leaky_relu(x)
output y
EOF
val dense_leaky '[[1, -2]]' '[[-0.01, 3]]' '{"y.weight": [[1, 1], [2, -1]], "y.bias": [0, -1]}' <<'EOF'
network t
input x: [N, 2]
y = dense(x, units=2, act=leaky_relu)
output y
EOF
val conv_leaky '[[[[2, -3]]]]' '[[[[4, -0.06]]]]' '{"y.weight": [[[[2]]]]}' <<'EOF'
network t
input x: [N, 1, 1, 2]
y = conv2d(x, filters=1, kernel=1, act=leaky_relu, bias=false)
output y
EOF
# (x - running_mean) / sqrt(running_var + eps) * weight + bias, per channel (axis 1)
val batchnorm_nc '[[1, 2]]' '[[3, -1.5]]' \
  '{"y.weight": [2, 0.5], "y.bias": [1, -1], "y.running_mean": [0.5, 4], "y.running_var": [0.2499, 3.9999]}' <<'EOF'
network t
input x: [N, 2]
y = batchnorm(x, eps=0.0001)
output y
EOF
val batchnorm_ncl '[[[1, 3], [0, -2]]]' '[[[0, 1], [1, -3]]]' \
  '{"y.weight": [1, 2], "y.bias": [0, 1], "y.running_mean": [1, 0], "y.running_var": [3.99999, 0.99999]}' <<'EOF'
network t
input x: [N, 2, 2]
y = batchnorm(x)
output y
EOF
val batchnorm_nchw '[[[[1, 3]], [[0, -2]]]]' '[[[[0, 1]], [[1, -3]]]]' \
  '{"y.weight": [1, 2], "y.bias": [0, 1], "y.running_mean": [1, 0], "y.running_var": [3.99999, 0.99999]}' <<'EOF'
network t
input x: [N, 2, 1, 2]
y = batchnorm(x, momentum=0.5)
output y
EOF
val dropout '[[1, -2, 3]]' '[[1, -2, 3]]' <<'EOF'
network t
input x: [N, 3]
y = dropout(x, p=0.9)
output y
EOF
# padding = kernel - 1: windows rows/cols {-2..0} and {1..3} of a 3x3 input; max ignores
# the padding, avg divides by the in-bounds count (1, 2, 2, 4)
val maxpool_pad '[[[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]]]' '[[[[-1, -2], [-4, -5]]]]' <<'EOF'
network t
input x: [N, 1, 3, 3]
y = maxpool2d(x, kernel=3, padding=2)
output y
EOF
val avgpool_pad '[[[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]]]' '[[[[-1, -2.5], [-5.5, -7]]]]' <<'EOF'
network t
input x: [N, 1, 3, 3]
y = avgpool2d(x, kernel=3, padding=2)
output y
EOF

echo "mlcn_ref tests: $([ $failed = 0 ] && echo passed || echo "$failed failed")"
[ $failed = 0 ]

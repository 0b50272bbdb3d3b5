#!/usr/bin/env bash
# Tests tools/mlcn_ref.py (the NumPy reference for the .mlcn contract):
#  1. runs every conformance net (shared/conformance) with its weights and input, and
#     compares each output with the expected one at --rtol 1e-6;
#  2. gen then run on a conformance net: run must reproduce gen's expected outputs exactly;
#  3. a few malformed nets must be rejected with exit 1 and a file:line:col message.
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
for net in "$conf"/nets/*.mlcn; do
  b=$(basename "$net" .mlcn)
  in=$(sed -n 's/^input[[:space:]]\+\([A-Za-z_0-9]\+\).*/\1/p' "$net" | head -1)
  outs=$(sed -n 's/^output[[:space:]]\+//p' "$net" | tr -d ' ' | tr ',' ' ')
  args=(); for o in $outs; do args+=(--output "$o=$work/$b.$o.npy"); done
  if ! python3 "$ref" run "$net" --weights "$conf/$b.safetensors" --input "$in=$conf/$b.input.npy" "${args[@]}"; then
    fail "$b: run failed"; continue
  fi
  for o in $outs; do
    python3 "$ref" compare "$work/$b.$o.npy" "$conf/$b.expected.$o.npy" --rtol 1e-6 || fail "$b output $o"
  done
done

# 2. gen -> run reproduces exactly (rtol 0), on nets with lanes and several outputs
for b in c02_capsules c03_lanes; do
  net="$conf/nets/$b.mlcn"; d="$work/gen.$b"
  python3 "$ref" gen "$net" --batch 3 --seed 7 --dir "$d" || { fail "gen $b"; continue; }
  outs=$(sed -n 's/^output[[:space:]]\+//p' "$net" | tr -d ' ' | tr ',' ' ')
  args=(); for o in $outs; do args+=(--output "$o=$d/got.$o.npy"); done
  python3 "$ref" run "$net" --weights "$d/weights.safetensors" --input "x=$d/x.npy" "${args[@]}" || { fail "run after gen $b"; continue; }
  for o in $outs; do
    python3 "$ref" compare "$d/got.$o.npy" "$d/expected.$o.npy" --rtol 0 || fail "gen/run $b output $o"
  done
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

echo "mlcn_ref tests: $([ $failed = 0 ] && echo passed || echo "$failed failed")"
[ $failed = 0 ]

#!/usr/bin/env bash
# same-outputs.sh MLCNC REF DIR INPUT NET... : runs each network on one device and with
# the run flags in $SPLIT_FLAGS, and requires the outputs to agree within 1e-5 (relative to
# the largest output). Prints one line per network.
set -eu
mlcnc=$1 ref=$2 dir=$3 input=$4; shift 4
for net in "$@"; do
  n=$(basename "$net" .mlcn)
  "$mlcnc" run "$net" --input x="$input" --output y="$dir/$n.one.npy" --devices 0:0 --strategy single > /dev/null
  # shellcheck disable=SC2086
  "$mlcnc" run "$net" --input x="$input" --output y="$dir/$n.split.npy" $SPLIT_FLAGS > /dev/null
  # shellcheck disable=SC2086
  out=$($ref compare "$dir/$n.split.npy" "$dir/$n.one.npy" --rtol 1e-5) || { echo "$n: FAIL $out"; exit 1; }
  echo "$n: $out"
done

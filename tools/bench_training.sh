#!/usr/bin/env bash
# Training time per epoch on 1 vs 2 PoCL `basic` devices (one core each), on the first
# 1,024 images of the MNIST sample (tools/mnist_data.py), batch 32, SGD; the second of 2
# epochs is timed (the first builds the kernels). Prints one line per run and the
# speed-ups (docs/TRAINING.md).
# Usage: tools/bench_training.sh [NET:STRATEGY ...]   (default: mlcn4:lanes
#        lenet:data-parallel lenet:layerwise mlcn4:layerwise)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${MLCNC:-.build/release/mlcnc}
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.build/pocl-cache}"
data=.build/mnist
[ -f $data/train.npz ] || python3 tools/mnist_data.py --out $data >/dev/null
python3 -c "import numpy as np; d = np.load('$data/train.npz'); np.savez('$data/bench.npz', x=d['x'][:1024], y=d['y'][:1024])"
epoch() {  # NET DEVICES STRATEGY -> seconds of epoch 2
  local extra=()
  [ "$2" = 2 ] && extra=(--devices all --strategy "$3")
  POCL_DEVICES="basic basic" $bin train "graphs/$1.mlcn" --data $data/bench.npz --epochs 2 --batch 32 --lr 0.01 \
    --save /tmp/bench-$$.safetensors --json "${extra[@]}" 2>/dev/null | tail -1 |
    python3 -c "import json, sys; print(json.load(sys.stdin)['seconds'])"
}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(mlcn4:lanes lenet:data-parallel lenet:layerwise mlcn4:layerwise)
for case in "${cases[@]}"; do
  set -- ${case/:/ }
  one=$(POCL_DEVICES="basic basic" epoch "$1" 1 single)
  two=$(epoch "$1" 2 "$2")
  python3 -c "print(f'$1: 1 basic device {$one:.2f} s/epoch, 2 basic devices ($2) {$two:.2f} s/epoch, speed-up {$one / $two:.2f}x')"
done
rm -f /tmp/bench-$$.safetensors

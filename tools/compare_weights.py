#!/usr/bin/env python3
"""Compares two safetensors files tensor by tensor (training tests).

usage: compare_weights.py GOT EXPECTED --rtol R [--base INIT]
Each tensor's largest difference must be within R times the largest |EXPECTED| of that
tensor (with --base: R times the largest |EXPECTED - INIT|, the size of the update).
A NaN, a missing tensor or a shape mismatch fails. Prints the worst tensor.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlcn_ref as ref  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("got")
p.add_argument("expected")
p.add_argument("--rtol", type=float, required=True)
p.add_argument("--base")
a = p.parse_args()
got, exp = ref.read_safetensors(a.got), ref.read_safetensors(a.expected)
base = ref.read_safetensors(a.base) if a.base else None
worst = (0.0, "")
for k, e in sorted(exp.items()):
    if k not in got or got[k].shape != e.shape:
        print(f"FAIL {k}: missing or shape {None if k not in got else got[k].shape}, expected {e.shape}")
        sys.exit(1)
    scale = float(np.abs(e - base[k]).max() if base is not None else np.abs(e).max()) + 1e-12
    err = float(np.nan_to_num(np.abs(got[k] - e), nan=np.inf).max()) / scale
    worst = max(worst, (err, k))
ok = worst[0] <= a.rtol
print(f"{'ok' if ok else 'FAIL'} {len(exp)} tensors; worst {worst[1]}: {worst[0]:.2e} (tolerance {a.rtol:.0e}"
      f"{' of the update' if base is not None else ''})")
sys.exit(0 if ok else 1)

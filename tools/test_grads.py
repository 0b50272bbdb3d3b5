#!/usr/bin/env python3
"""Compares `mlcnc grad` with PyTorch autograd (tools/torch_ref.py, float64) on networks.

For each network: random weights, inputs and labels (torch_ref.py gen, --seed), the
expected gradients and loss in float64; then `mlcnc grad` on the same files. Each
gradient must be within --tol (1e-3) of the largest |expected gradient| of its tensor;
a NaN or a missing tensor fails; the loss must agree within 1e-4 relative.
With --cover, the operators the networks use must include every callable operator.
Usage: test_grads.py MLCNC NET.mlcn... [--batch B] [--seed S] [--cover]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import mlcn_ref as ref  # noqa: E402


def compare(got, exp, tol):
    worst, where = 0.0, ""
    for k, e in exp.items():
        if k not in got or got[k].shape != e.shape:
            return False, f"{k}: missing or shape {None if k not in got else got[k].shape}, expected {e.shape}"
        g = got[k].astype(np.float64)
        if np.isnan(g).any():
            return False, f"{k}: NaN"
        err = float(np.abs(g - e).max()) / (float(np.abs(e).max()) + 1e-12)
        if err >= worst:
            worst, where = err, k
    extra = sorted(set(got) - set(exp))
    if extra:
        return False, f"unexpected gradients {extra}"
    return worst <= tol, f"worst {where}: {worst:.2e} (tolerance {tol:.0e})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mlcnc")
    p.add_argument("nets", nargs="+")
    p.add_argument("--batch", type=int, default=3)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--cover", action="store_true")
    a = p.parse_args()
    failed = 0
    used = set()
    with tempfile.TemporaryDirectory() as work:
        for net in a.nets:
            name = os.path.splitext(os.path.basename(net))[0]
            d = os.path.join(work, name)
            used |= {nd.op for nd in ref.Graph(net, 1).nodes}
            for line in open(net):
                used |= set(re.findall(r"act=(\w+)", line))
            r = subprocess.run([sys.executable, os.path.join(here, "torch_ref.py"), "gen", net, "--batch", str(a.batch),
                                "--seed", str(a.seed), "--dir", d], capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: reference: {r.stderr.strip()}"); failed += 1; continue
            loss = json.loads(r.stdout)["loss"]
            inp = next(iter(ref.Graph(net, 1).inputs))
            r = subprocess.run([a.mlcnc, "grad", net, "--weights", os.path.join(d, "weights.safetensors"),
                                "--input", f"{inp}={os.path.join(d, 'x.npy')}", "--labels", os.path.join(d, "labels.npy"),
                                "--seed", str(a.seed), "-o", os.path.join(d, "got.safetensors"), "--json"],
                               capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: mlcnc grad: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
                failed += 1; continue
            got_loss = json.loads(r.stdout)["loss"]
            ok, msg = compare(ref.read_safetensors(os.path.join(d, "got.safetensors")),
                              ref.read_safetensors(os.path.join(d, "expected.grads.safetensors")), a.tol)
            loss_ok = abs(got_loss - loss) <= 1e-4 * abs(loss) + 1e-7
            ok = ok and loss_ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {msg}; loss {got_loss:.6g} vs {loss:.6g}")
            failed += not ok
    if a.cover:
        r = subprocess.run([a.mlcnc, "ops"], capture_output=True, text=True, check=True)
        ops = {line.split("(")[0] for line in r.stdout.splitlines() if line and not line.startswith(" ")}
        missing = sorted(ops - used)
        if missing:
            print(f"FAIL coverage: no network uses {', '.join(missing)}"); failed += 1
        else:
            print(f"ok   coverage: the networks use all {len(ops)} operators")
    print(f"{len(a.nets) - failed if failed <= len(a.nets) else 0} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

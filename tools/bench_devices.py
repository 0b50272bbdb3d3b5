#!/usr/bin/env python3
"""Multi-device speed-ups on this host, as same-run ratios (DESIGN.md section 6).

One PoCL `basic` device runs its commands on one core, so POCL_DEVICES="basic basic" is a
real two-device machine here. For each network, strategy and batch, this runs mlcnc on 1
`basic` device (strategy single) and on 2, 3 and 4 `basic` devices (the strategy under
test), interleaved in one run, and prints the median time per batch, the speed-up over one
device, and the simulator's prediction (`mlcnc plan`) with its ratio to the measurement.

    tools/bench_devices.py [--repeat K] [--quick] > table.md
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLCNC = os.path.join(ROOT, ".build", "release", "mlcnc")


def mlcnc(args, devices):
    env = dict(os.environ, POCL_DEVICES=" ".join(["basic"] * devices))
    out = subprocess.run([MLCNC] + args, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"mlcnc {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def measure(net, x, strategy, devices, repeat):
    ids = "0:0" if devices == 1 else "all"
    out = mlcnc(["run", net, "--input", f"x={x}", "--devices", ids, "--strategy", strategy,
                 "--repeat", str(repeat), "--json"], devices)
    return json.loads(out)["seconds_per_batch"]


def predict(net, batch, strategy, devices):
    ids = "0:0" if devices == 1 else "all"
    out = mlcnc(["plan", net, "--batch", str(batch), "--devices", ids, "--strategy", strategy, "--json", "-"], devices)
    return json.loads(out)["predicted_seconds"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 devices only, batch 8 for lanes")
    a = ap.parse_args()
    cases = [("mlcn4", "lanes", 8), ("mlcn4", "lanes", 32), ("mlcn8", "lanes", 8), ("mlcn8", "lanes", 32),
             ("mlcn_hetero", "lanes", 32), ("capsnet", "data-parallel", 32), ("lenet", "data-parallel", 32)]
    counts = [2] if a.quick else [2, 3, 4]
    if a.quick:
        cases = [c for c in cases if c[2] == 32 or c[1] == "lanes"][:4]
    tmp = tempfile.mkdtemp()
    rng = np.random.default_rng(0)
    print("| network | strategy | batch | devices | ms per batch | speed-up vs 1 basic | predicted ms | predicted / measured |")
    print("|---|---|---|---|---|---|---|---|")
    for name, strategy, batch in cases:
        net = os.path.join(ROOT, "graphs", name + ".mlcn")
        x = os.path.join(tmp, f"x{batch}.npy")
        np.save(x, rng.random((batch, 1, 28, 28), dtype=np.float32))
        # Warm the kernel cache and the measured op times first, so neither is timed.
        measure(net, x, "single", 1, 0)
        one = measure(net, x, "single", 1, a.repeat)
        p1 = predict(net, batch, "single", 1)
        print(f"| {name} | single | {batch} | 1 | {one * 1e3:.1f} | 1.00x | {p1 * 1e3:.1f} | {p1 / one:.2f} |")
        for n in counts:
            t = measure(net, x, strategy, n, a.repeat)
            p = predict(net, batch, strategy, n)
            print(f"| {name} | {strategy} | {batch} | {n} | {t * 1e3:.1f} | {one / t:.2f}x | {p * 1e3:.1f} | {p / t:.2f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

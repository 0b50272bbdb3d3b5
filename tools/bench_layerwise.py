#!/usr/bin/env python3
"""Layer-wise parallelism measured (issue 8; results in docs/PERFORMANCE.md).

One PoCL `basic` device runs on one core, so POCL_DEVICES="basic basic" is a real
two-device machine on this 2-core host. Sections (each prints a Markdown table):

  validate   every network in graphs/ at batch 32 on 2 basic devices: the layer-wise plan's
             predicted time (`mlcnc plan`) against the measured time of that same plan
             (`mlcnc run --plan`), and 1 basic device (single) the same way.
  cifar      cifar_conv (conv 500 and 1500 kernels) at batch 32: 1 basic device against
             2 basic devices with layerwise, the paper's channel split and data-parallel,
             interleaved in one run; same-run speed-ups.
  search     planning a 100-layer network on the four-GPU machine file, wall time of
             `mlcnc plan --strategy layerwise` (process start and lowering included).
  table      predicted throughput of every strategy for capsnet, mlcn8, mlcn_hetero and
             cifar_conv on the machine files, and predicted and measured on 2 basic devices.

    tools/bench_layerwise.py [validate cifar search table] [--repeat K]

Before timing, each network runs once per device count (kernels compiled and cached, op
times and part times recorded); the plan is then made from those measurements and the
same plan file is run, so prediction and measurement describe one plan.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MLCNC = os.path.join(ROOT, ".build", "release", "mlcnc")
GRAPHS = os.path.join(ROOT, "graphs")
TMP = tempfile.mkdtemp()
PAPER = "paper: 3.28x on 4 CPUs, 2.45x on 3 GPUs"


def mlcnc(args, devices=2, check=True):
    env = dict(os.environ, POCL_DEVICES=" ".join(["basic"] * devices))
    out = subprocess.run([MLCNC] + args, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.exit(f"mlcnc {' '.join(args)} failed: {out.stderr.strip()}")
    return out


def ids(devices):
    return "0:0" if devices == 1 else "all"


def input_for(name, batch):
    text = open(os.path.join(GRAPHS, name + ".mlcn")).read()
    dims = re.search(r"input x: \[N, ([0-9, ]+)\]", text).group(1)
    shape = (batch,) + tuple(int(d) for d in dims.split(","))
    path = os.path.join(TMP, f"{name}-{batch}.npy")
    if not os.path.exists(path):
        np.save(path, np.random.default_rng(0).random(shape, dtype=np.float32))
    return path


def plan(net, batch, strategy, devices, machine=None):
    path = os.path.join(TMP, f"plan-{os.path.basename(net)}-{strategy}-{devices}.json")
    where = ["--machine", machine] if machine else ["--devices", ids(devices)]
    mlcnc(["plan", net, "--batch", str(batch), "--strategy", strategy, "--json", path] + where, devices)
    return path, json.load(open(path))


def run(net, x, devices, repeat, strategy=None, plan_file=None):
    how = ["--plan", plan_file] if plan_file else ["--strategy", strategy]
    out = mlcnc(["run", net, "--input", f"x={x}", "--devices", ids(devices), "--repeat", str(repeat), "--json"] + how, devices)
    return json.loads(out.stdout)["seconds_per_batch"]


def describe(p):
    split = [o for o in p["ops"] if o.get("parts")]
    axes = sorted({o["parts"][0]["axis"] for o in split})
    if not split:
        return "whole ops on " + ", ".join(sorted({o["device"] for o in p["ops"]}))
    return f"{len(split)}/{len(p['ops'])} ops split (axes {', '.join(map(str, axes))})"


def warm(net, x, devices, strategy):
    # Twice: the second run's plan already uses the first one's measured part times.
    run(net, x, devices, 0, strategy=strategy)
    run(net, x, devices, 0, strategy=strategy)


def validate(a):
    print("\n### Predicted vs measured, batch 32\n")
    print("| network | devices | plan | predicted ms | measured ms | predicted / measured | speed-up vs 1 basic |")
    print("|---|---|---|---|---|---|---|")
    names = a.networks or sorted(f[:-5] for f in os.listdir(GRAPHS) if f.endswith(".mlcn"))
    for name in names:
        net, batch = os.path.join(GRAPHS, name + ".mlcn"), 32
        x = input_for(name, batch)
        warm(net, x, 1, "single")
        warm(net, x, 2, "layerwise")
        p1, j1 = plan(net, batch, "single", 1)
        p2, j2 = plan(net, batch, "layerwise", 2)
        one = run(net, x, 1, a.repeat, plan_file=p1)
        two = run(net, x, 2, a.repeat, plan_file=p2)
        for devs, j, t in [(1, j1, one), (2, j2, two)]:
            pred = j["predicted_seconds"]
            print(f"| {name} | {devs} basic | {j['strategy']}: {describe(j)} | {pred * 1e3:.1f} | {t * 1e3:.1f} | "
                  f"{pred / t:.2f} | {one / t:.2f}x |")
        sys.stdout.flush()


def paper_plan(net, batch):
    """The heterogeneous paper's configuration: every convolution split by output
    channels over the two devices (equal halves: the devices are equal), pooling split
    alike, the rest whole on the first device."""
    _, base = plan(net, batch, "single", 2)
    for op in base["ops"]:
        if op["name"] in ("c1", "p1", "c2", "p2"):
            channels = 500 if op["name"] in ("c1", "p1") else 1500
            op.pop("device", None)
            op["parts"] = [{"device": "0:0", "axis": 1, "range": [0, channels // 2]},
                           {"device": "0:1", "axis": 1, "range": [channels // 2, channels]}]
    base["strategy"] = "channel-split"
    path = os.path.join(TMP, "paper-plan.json")
    json.dump(base, open(path, "w"))
    return path


def cifar(a):
    print(f"\n### cifar_conv, batch 32, 1 vs 2 basic devices ({PAPER})\n")
    net, batch = os.path.join(GRAPHS, "cifar_conv.mlcn"), 32
    x = input_for("cifar_conv", batch)
    warm(net, x, 1, "single")
    warm(net, x, 2, "layerwise")
    paper = paper_plan(net, batch)
    run(net, x, 2, 0, plan_file=paper)
    plans = {"single": plan(net, batch, "single", 1), "layerwise": plan(net, batch, "layerwise", 2),
             "data-parallel": plan(net, batch, "data-parallel", 2)}
    times = {k: [] for k in ["single", "layerwise", "channel-split", "data-parallel"]}
    for _ in range(a.rounds):  # interleaved, so load from elsewhere hits all alike
        times["single"].append(run(net, x, 1, a.repeat, plan_file=plans["single"][0]))
        times["layerwise"].append(run(net, x, 2, a.repeat, plan_file=plans["layerwise"][0]))
        times["channel-split"].append(run(net, x, 2, a.repeat, plan_file=paper))
        times["data-parallel"].append(run(net, x, 2, a.repeat, plan_file=plans["data-parallel"][0]))
    print("| plan | devices | ms per batch (median of rounds) | speed-up vs 1 basic (same round, best) | predicted ms |")
    print("|---|---|---|---|---|")
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for k, v in times.items():
        best = max(s / t for s, t in zip(times["single"], v))
        pred = plans[k][1]["predicted_seconds"] * 1e3 if k in plans else float("nan")
        desc = describe(plans[k][1]) if k in plans else "convolutions and pooling split by channels"
        print(f"| {k}: {desc} | {1 if k == 'single' else 2} basic | {med[k] * 1e3:.0f} | "
              f"{med['single'] / med[k]:.2f}x (median), {best:.2f}x (best round) | {pred:.0f} |")
    print(f"\nper round (ms): " + "; ".join(f"{k} {', '.join(f'{t * 1e3:.0f}' for t in v)}" for k, v in times.items()))


def search(a):
    print("\n### Planning speed: 100 layers on 4 devices (graphs/machines/four_gpus.json)\n")
    lines = ["network deep100", "input x: [N, 16, 32, 32]"]
    prev = "x"
    for i in range(100):
        op = [f"conv2d({prev}, filters=16, kernel=3, padding=1)", f"relu({prev})",
              f"conv2d({prev}, filters=16, kernel=3, padding=1, act=tanh)", f"add({prev}, c{i - 3})"][i % 4]
        lines.append(f"c{i} = {op}")
        prev = f"c{i}"
    lines += [f"f = flatten({prev})", "y = dense(f, units=10)", "output y"]
    net = os.path.join(TMP, "deep100.mlcn")
    open(net, "w").write("\n".join(lines) + "\n")
    machine = os.path.join(GRAPHS, "machines", "four_gpus.json")
    walls = []
    for _ in range(5):
        t0 = time.perf_counter()
        mlcnc(["plan", net, "--batch", "32", "--machine", machine, "--strategy", "layerwise", "--json", "-"])
        walls.append(time.perf_counter() - t0)
    _, p = plan(net, 32, "layerwise", 4, machine=machine)
    print("| network | layers (ops) | devices | configurations per op | wall seconds (min / median of 5) | plan |")
    print("|---|---|---|---|---|---|")
    print(f"| deep100 | 100 ({len(p['ops'])}) | 4 | up to 4 whole + 11 subsets x 4 axes | "
          f"{min(walls):.2f} / {sorted(walls)[2]:.2f} | {describe(p)} |")


def table(a):
    print("\n### Strategies compared: predicted samples/s at batch 32 (measured where the devices exist)\n")
    strategies = ["single", "data-parallel", "model-parallel", "lanes", "layerwise", "lanes-layerwise", "auto"]
    machines = ["four_gpus", "cpu_two_gpus", "four_cpus"]
    print("| network | machine | " + " | ".join(strategies) + " |")
    print("|---|---|" + "---|" * len(strategies))
    for name in ["capsnet", "mlcn8", "mlcn_hetero", "cifar_conv"]:
        net, batch = os.path.join(GRAPHS, name + ".mlcn"), 32
        for m in machines:
            cells = []
            for s in strategies:
                out = mlcnc(["plan", net, "--batch", str(batch), "--strategy", s, "--json", "-",
                             "--machine", os.path.join(GRAPHS, "machines", m + ".json")], check=False)
                if out.returncode != 0:
                    cells.append("n/a")
                    continue
                p = json.loads(out.stdout)
                cells.append(f"{batch / p['predicted_seconds']:.0f}" + (f" ({p['strategy']})" if s == "auto" else ""))
            print(f"| {name} | {m} | " + " | ".join(cells) + " |")
        if a.predict_only:
            continue
        x = input_for(name, batch)
        warm(net, x, 1, "single")
        cells = []
        for s in strategies:
            devs = 1 if s == "single" else 2
            if s != "single":
                run(net, x, devs, 0, strategy=s)
            out = mlcnc(["plan", net, "--batch", str(batch), "--devices", ids(devs), "--strategy", s, "--json",
                         os.path.join(TMP, "t.json")], devs, check=False)
            if out.returncode != 0:
                cells.append("n/a")
                continue
            p = json.load(open(os.path.join(TMP, "t.json")))
            t = run(net, x, devs, a.repeat, plan_file=os.path.join(TMP, "t.json"))
            cells.append(f"{batch / p['predicted_seconds']:.0f} / {batch / t:.0f}" + (f" ({p['strategy']})" if s == "auto" else ""))
        print(f"| {name} | 2 basic (predicted / measured) | " + " | ".join(cells) + " |")
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", default=["validate", "cifar", "search", "table"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the cifar comparison")
    ap.add_argument("--networks", nargs="+", help="validate: these networks of graphs/ (default: all)")
    ap.add_argument("--predict-only", action="store_true", help="table: machine files only, nothing measured")
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    for s in a.sections:
        {"validate": validate, "cifar": cifar, "search": search, "table": table}[s](a)
        sys.stdout.flush()
    print(f"load after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()

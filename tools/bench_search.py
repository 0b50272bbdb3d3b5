#!/usr/bin/env python3
"""The MLCN study's claim at this host's scale (docs/SEARCH.md): search heterogeneous
multi-lane capsule networks on the MNIST sample for a machine, and compare the networks
on the front with the hand-written mlcn4 trained with the same budget.

For each target (a machine file, or real devices such as 2 PoCL `basic` devices):
  1. mlcn4 is trained (Adam, --epochs, --batch, --lr) and evaluated on the validation
     images; its latency per batch is the lanes plan's prediction on the machine, or the
     median of timed runs on the devices (as `mlcnc search` measures candidates);
  2. `mlcnc search` runs with objectives accuracy, latency and balance;
  3. the report lists the front and, for the front's networks at mlcn4's latency or
     lower, their accuracy beside mlcn4's and their lane balance (max / mean busy): as
     the lanes plan predicts it, and on real devices also as measured (each device's
     kernel time in a `--trace` of one batch);
  4. the chosen network: the most accurate of those whose balance is at most 1.1.

Usage: tools/bench_search.py [--train N] [--val N] [--population P] [--generations G]
       [--epochs E] [--out DIR] [--targets machine,devices]
Needs the MNIST sample (python3 tools/mnist_data.py --out .build/mnist).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# MLCNC_BIN: a copy of the binary, so that a long run survives rebuilding .build/release.
MLCNC = os.environ.get("MLCNC_BIN", os.path.join(ROOT, ".build", "release", "mlcnc"))
SPACE = {"kind": "mlcn", "input": [1, 28, 28], "classes": 10, "lanes": [2, 6],
         "conv_filters": [8, 16, 32], "conv_kernel": [5, 7, 9],
         "primary_caps": [4, 8, 16], "primary_dim": [4, 8], "primary_kernel": [5, 6], "primary_stride": [2],
         "class_dim": [2, 4, 8], "routing": [1, 2, 3]}


def mlcnc(args, env_devices=None):
    env = dict(os.environ)
    if env_devices:
        env["POCL_DEVICES"] = env_devices
    r = subprocess.run([MLCNC] + args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"mlcnc {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def measured_balance(network, x, out):
    """max / mean of the devices' kernel time in a trace of one batch (lanes plan)."""
    trace = os.path.join(out, "trace.json")
    mlcnc(["run", network, "--input", f"x={x}", "--devices", "all", "--strategy", "lanes", "--repeat", "3",
           "--trace", trace], "basic basic")
    events = json.load(open(trace))
    events = events["traceEvents"] if isinstance(events, dict) else events
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    busy = {}
    for e in events:
        name = names.get((e.get("pid"), e.get("tid")), "")
        if e.get("ph") == "X" and name.startswith("device ") and " " not in name[len("device "):]:
            busy[name] = busy.get(name, 0.0) + e["dur"]
    return max(busy.values()) / (sum(busy.values()) / len(busy)) if busy else float("nan")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=1000, help="training images (the first N of train.npz)")
    p.add_argument("--val", type=int, default=500, help="validation images (the first N of test.npz)")
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--generations", type=int, default=3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--out", default=os.path.join(ROOT, ".build", "bench-search"))
    p.add_argument("--targets", default="devices,machine", help="comma-separated: devices, machine")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    mnist = os.path.join(ROOT, ".build", "mnist")
    if not os.path.exists(os.path.join(mnist, "train.npz")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mnist_data.py"), "--out", mnist], check=True)
    t, v = np.load(os.path.join(mnist, "train.npz")), np.load(os.path.join(mnist, "test.npz"))
    train, val = os.path.join(a.out, "train.npz"), os.path.join(a.out, "val.npz")
    np.savez(train, x=t["x"][:a.train], y=t["y"][:a.train])
    np.savez(val, x=v["x"][:a.val], y=v["y"][:a.val])
    space = os.path.join(a.out, "space.json")
    json.dump(SPACE, open(space, "w"))

    # mlcn4 with the same training budget.
    w = os.path.join(a.out, "mlcn4.safetensors")
    epochs = [json.loads(line) for line in mlcnc(["train", os.path.join(ROOT, "graphs", "mlcn4.mlcn"), "--data", train,
                                                  "--val", val, "--epochs", str(a.epochs), "--batch", str(a.batch),
                                                  "--optimizer", "adam", "--lr", str(a.lr), "--save", w, "--json"]).splitlines()]
    mlcn4_accuracy = epochs[-1]["val_accuracy"]
    print(f"# Architecture search on the MNIST sample ({a.train} training, {a.val} validation images)\n")
    print(f"mlcn4 trained like every candidate (Adam lr {a.lr}, {a.epochs} epoch(s), batch {a.batch}): "
          f"validation accuracy {mlcn4_accuracy:.4f}\n")

    targets = []
    for choice in a.targets.split(","):
        if choice == "machine":
            targets.append(("graphs/machines/cpu_two_gpus.json", ["--machine", os.path.join(ROOT, "graphs", "machines", "cpu_two_gpus.json")], None))
        elif choice == "devices":
            targets.append(("2 PoCL basic devices", ["--devices", "all"], "basic basic"))
        else:
            sys.exit(f"unknown target {choice!r} (machine, devices)")
    x = os.path.join(a.out, "x.npy")
    np.save(x, t["x"][:a.batch])
    for name, where, devices in targets:
        if devices is None:
            plan = json.loads(mlcnc(["plan", os.path.join(ROOT, "graphs", "mlcn4.mlcn"), "--batch", str(a.batch)] + where
                                    + ["--strategy", "lanes", "--json", "-"]))
            mlcn4_latency = plan["predicted_seconds"]
        else:
            run = json.loads(mlcnc(["run", os.path.join(ROOT, "graphs", "mlcn4.mlcn"), "--input", f"x={x}", "--devices", "all",
                                    "--strategy", "lanes", "--repeat", "3", "--json"], devices))
            mlcn4_latency = run["seconds_per_batch"]
        out = os.path.join(a.out, "front-" + ("machine" if devices is None else "devices"))
        start = time.time()
        mlcnc(["search", space] + where + ["--data", train, "--val", val, "--objectives", "accuracy,latency,balance",
                                           "--population", str(a.population), "--generations", str(a.generations),
                                           "--epochs", str(a.epochs), "--batch", str(a.batch), "--lr", str(a.lr),
                                           "--out", out], devices)
        front = json.load(open(os.path.join(out, "pareto.json")))
        print(f"## {name}\n")
        print(f"`mlcnc search` with population {a.population}, {a.generations} generations, objectives accuracy, latency, "
              f"balance: {time.time() - start:.0f} s. mlcn4 there: latency {mlcn4_latency * 1000:.3f} ms per batch of {a.batch}"
              f" ({'predicted, lanes plan' if devices is None else 'measured, median of 3'}).\n")
        measured = devices is not None
        print("| network | accuracy | latency ms | balance (predicted) |" + (" balance (measured) |" if measured else "") + " vs mlcn4 |")
        print("|---|---|---|---|" + ("---|" if measured else "") + "---|")
        chosen = None
        for e in sorted(front, key=lambda e: e["latency_seconds"]):
            note, m = "", ""
            if e["latency_seconds"] <= mlcn4_latency:
                note = f"{(e['accuracy'] - mlcn4_accuracy) * 100:+.1f} points at {e['latency_seconds'] / mlcn4_latency:.2f}x its latency"
                if e["balance"] <= 1.1 and (chosen is None or e["accuracy"] > chosen["accuracy"]):
                    chosen = e
            if measured:
                e["measured_balance"] = measured_balance(os.path.join(out, e["network"]), x, a.out)
                m = f" {e['measured_balance']:.3f} |"
            print(f"| {e['network']} | {e['accuracy']:.4f} | {e['latency_seconds'] * 1000:.3f} | {e['balance']:.3f} |{m} {note} |")
        print()
        if chosen:
            print(f"Chosen: {chosen['network']}, the most accurate front network at mlcn4's latency or lower with balance at most 1.1: "
                  f"accuracy {chosen['accuracy']:.4f} against mlcn4's {mlcn4_accuracy:.4f} "
                  f"({(chosen['accuracy'] - mlcn4_accuracy) * 100:+.1f} points), latency {chosen['latency_seconds'] / mlcn4_latency:.2f}x "
                  f"mlcn4's, balance {chosen['balance']:.3f} predicted" + (f", {chosen['measured_balance']:.3f} measured" if measured else "") + ".\n")
        else:
            print("No front network at mlcn4's latency or lower has a balance of at most 1.1.\n")


if __name__ == "__main__":
    main()

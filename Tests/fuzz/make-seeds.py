#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tools/fuzz) into OUT/<target>/.

usage: make-seeds.py OUT [MLCNC]

frontend: every .mlcn of graphs/, Tests/lit (whole files and split-file sections) and
../shared/conformance/nets. npy, safetensors: small valid files of each supported
layout, made here, plus the conformance .npy files under 4 KB. plan: `mlcnc plan --json`
of graphs/mlcn2.mlcn (the graph the plan target validates against) on each machine of
graphs/machines with each strategy, at batch 1 and 2 (needs MLCNC, default
.build/release/mlcnc). machine: graphs/machines/*.json and the lit machine files.
The committed corpora are these seeds after `tools/fuzz --merge` (minimized) and runs.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def frontend(out):
    files = glob.glob(os.path.join(ROOT, "graphs", "*.mlcn"))
    files += glob.glob(os.path.join(ROOT, "Tests", "lit", "**", "*.mlcn"), recursive=True)
    files += glob.glob(os.path.join(SHARED, "conformance", "nets", "*.mlcn"))
    for f in files:
        put(out, "frontend", open(f, "rb").read())
    # split-file sections (`#--- name.mlcn`) of the lit tests: the diagnostics cases.
    for test in glob.glob(os.path.join(ROOT, "Tests", "lit", "**", "*.test"), recursive=True):
        parts = re.split(r"^#--- (\S+)\n", open(test).read(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            if name.endswith(".mlcn"):
                put(out, "frontend", body.encode())


def npy_bytes(array, version=1, header_extra=""):
    dims = ", ".join(str(n) for n in array.shape) + ("," if array.ndim == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), %s}" % (array.dtype.str, dims, header_extra)
    fmt, lenbytes = ("<H", 2) if version == 1 else ("<I", 4)
    total = 8 + lenbytes + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(fmt, len(header)) + header.encode() + array.tobytes()


def npy(out):
    rng = np.random.default_rng(0)
    for shape in [(), (0,), (3,), (2, 3), (1, 2, 2, 2)]:
        put(out, "npy", npy_bytes(rng.standard_normal(shape).astype("<f4")))
    put(out, "npy", npy_bytes(rng.standard_normal((2, 2)).astype("<f8")))
    put(out, "npy", npy_bytes(rng.standard_normal((4,)).astype("<f4"), version=2))
    put(out, "npy", npy_bytes(rng.standard_normal((2, 1)).astype("<f4"), version=3))
    for f in glob.glob(os.path.join(SHARED, "conformance", "*.npy")):
        if os.path.getsize(f) < 4096:
            put(out, "npy", open(f, "rb").read())


def safetensors_bytes(tensors, metadata=None, dtype="F32"):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    np_dtype = {"F32": "<f4", "F64": "<f8"}[dtype]
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype=np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors(out):
    rng = np.random.default_rng(1)
    put(out, "safetensors", safetensors_bytes({}))
    put(out, "safetensors", safetensors_bytes({"w": rng.standard_normal((2, 3))}))
    put(out, "safetensors", safetensors_bytes({"h.weight": rng.standard_normal((4, 2)), "h.bias": np.zeros(4),
                                               "s": np.float32(2.0).reshape(())},
                                              metadata={"format": "mlcnc", "seed": "0"}))
    put(out, "safetensors", safetensors_bytes({"w": rng.standard_normal((3,)), "e": np.zeros((0, 2))}, dtype="F64"))


def plan(out, mlcnc):
    env = dict(os.environ, POCL_CACHE_DIR=os.environ.get("POCL_CACHE_DIR", "/tmp/pocl-cache-fuzz"))
    os.makedirs(env["POCL_CACHE_DIR"], exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for machine in sorted(glob.glob(os.path.join(ROOT, "graphs", "machines", "*.json"))):
            for strategy in ["single", "lanes", "lanes-exact", "auto"]:
                for batch in ["1", "2"]:
                    p = os.path.join(tmp, "p.json")
                    subprocess.run([mlcnc, "plan", os.path.join(ROOT, "graphs", "mlcn2.mlcn"), "--batch", batch,
                                    "--machine", machine, "--strategy", strategy, "--json", p],
                                   check=True, env=env, stdout=subprocess.DEVNULL)
                    put(out, "plan", open(p, "rb").read())


def machine(out):
    for f in glob.glob(os.path.join(ROOT, "graphs", "machines", "*.json")) + \
             glob.glob(os.path.join(ROOT, "Tests", "lit", "Inputs", "*.json")):
        put(out, "machine", open(f, "rb").read())


if __name__ == "__main__":
    out = sys.argv[1]
    mlcnc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, ".build", "release", "mlcnc")
    frontend(out)
    npy(out)
    safetensors(out)
    plan(out, mlcnc)
    machine(out)
    for t in sorted(os.listdir(out)):
        files = os.listdir(os.path.join(out, t))
        print(f"{t}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(out, t, f)) for f in files)} bytes")

#!/usr/bin/env python3
"""PyTorch reference for training (DESIGN.md section 7): gradients and optimizer steps.

An independent implementation of the .mlcn forward ops in PyTorch (parsing and shape
inference come from tools/mlcn_ref.py), evaluated in training mode (batchnorm with batch
statistics, dropout with the mask mlcnc draws: SplitMix64 seeded with seed + (step << 32),
0 below p else 1/(1-p)), with the contract's losses; autograd gives the gradients and
torch.optim the steps. Subcommands:
  grad  NET --weights W --input x.npy --labels y.npy [--loss L] [--seed S] -o G.safetensors
        (float64; prints {"loss": ...})
  gen   NET --batch B --seed S --dir D    random weights/inputs/labels + expected gradients
  train NET --data D.npz --weights W [--optimizer sgd|adam] [--lr] [--momentum] [--batch B]
        [--epochs E] [--no-shuffle] [--seed S] [--val V.npz] --save OUT [--json] [--threads T]
        (float32, the same batch order as mlcnc train; one JSON object per epoch)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlcn_ref as ref  # noqa: E402

M64 = (1 << 64) - 1


class SplitMix64:
    """mlcnc's generator (Sources/MLCNBase/SplitMix64.swift), bit for bit."""

    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def units(self, n):
        """n draws of Float(next() >> 40) / 2^24 (exact in float32)."""
        return np.array([(self.next() >> 40) / float(1 << 24) for _ in range(n)], dtype=np.float32)


def masks(g, seed, step):
    """Dropout masks of one step, in graph order (mlcnc: TrainingGraph.masks)."""
    rng = SplitMix64(seed + (step << 32))
    out = {}
    for nd in g.nodes:
        if nd.op == "dropout":
            p = nd.params["p"]
            u = rng.units(math.prod(nd.shape))
            keep = np.float32(1 / (1 - p))
            out[nd.name] = np.where(u < np.float32(p), np.float32(0), keep).reshape(nd.shape)
    return out


def squash(s):
    n2 = (s * s).sum(-1, keepdim=True)
    return s * (n2 / (1 + n2)) / torch.sqrt(n2 + 1e-7)


def activate(x, act, alpha=0.01):
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "leaky_relu": lambda v: F.leaky_relu(v, alpha)}.get(act, lambda v: v)(x)


def pool(x, p, mode):
    (kh, kw), (sh, sw), (ph, pw) = p["kernel"], p["stride"], p["pad"]
    if mode == "max":  # padded cells never win: pad with -inf, pool without padding
        return F.max_pool2d(F.pad(x, (pw, pw, ph, ph), value=-math.inf), (kh, kw), (sh, sw))
    sums = F.avg_pool2d(F.pad(x, (pw, pw, ph, ph)), (kh, kw), (sh, sw)) * (kh * kw)
    ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype)
    counts = F.avg_pool2d(F.pad(ones, (pw, pw, ph, ph)), (kh, kw), (sh, sw)) * (kh * kw)
    return sums / counts


def route(u, routing):
    """Dynamic routing of predictions u [N, I, J, D]: the class capsules v [N, J, D]."""
    b = torch.zeros(u.shape[:3], dtype=u.dtype)
    for r in range(routing):
        c = torch.softmax(b, dim=2)
        v = squash(torch.einsum("nij,nijd->njd", c, u))
        if r < routing - 1:
            b = b + torch.einsum("nijd,njd->nij", u, v)
    return v


def capsule(x, w, routing):
    return route(torch.einsum("ijdk,nik->nijd", w, x), routing)


def forward(g, W, x, train, state, mask):
    """Values by name; `W` maps weight names to tensors; `state` receives running stats."""
    vals = {next(iter(g.inputs)): x}
    for nd in g.nodes:
        xs, p, op = [vals[n] for n in nd.inputs], nd.params, nd.op
        w = lambda s: W.get(nd.weights.get(s))  # noqa: E731
        a = xs[0]
        if op == "conv2d":
            y = activate(F.conv2d(a, w("weight"), w("bias"), tuple(p["stride"]), tuple(p["pad"])), p["act"])
        elif op == "primary_caps":
            c = F.conv2d(a, w("weight"), w("bias"), tuple(p["stride"]), tuple(p["pad"]))
            n, _, H, Wd = c.shape
            y = squash(c.reshape(n, p["caps"], p["dim"], H, Wd).permute(0, 1, 3, 4, 2).reshape(n, p["caps"] * H * Wd, p["dim"]))
        elif op in ("maxpool2d", "avgpool2d"):
            y = pool(a, p, op[:3])
        elif op == "dense":
            y = activate(F.linear(a, w("weight"), w("bias")), p["act"])
        elif op in ("flatten", "reshape"):
            y = a.reshape(nd.shape)
        elif op in ("relu", "sigmoid", "tanh"):
            y = activate(a, op)
        elif op == "leaky_relu":
            y = activate(a, op, p["alpha"])
        elif op == "batchnorm":
            rm, rv = w("running_mean").detach().clone(), w("running_var").detach().clone()
            y = F.batch_norm(a, rm, rv, w("weight"), w("bias"), training=train, momentum=p["momentum"], eps=p["eps"])
            state[nd.weights["running_mean"]], state[nd.weights["running_var"]] = rm, rv
        elif op == "dropout":
            y = a * torch.tensor(mask[nd.name], dtype=a.dtype) if train else a
        elif op == "softmax":
            y = torch.softmax(a, dim=p["axis"])
        elif op == "add":
            y = a + xs[1]
        elif op == "concat":
            y = torch.cat(xs, dim=p["axis"])
        elif op == "slice":
            y = a.narrow(p["axis"], p["begin"], p["end"] - p["begin"])
        elif op == "squash":
            y = squash(a)
        elif op == "length":
            y = torch.sqrt((a * a).sum(-1))
        elif op == "capsule":
            y = capsule(a, w("weight"), p["routing"])
        else:
            raise ref.UserError(f"op {op} is not supported by torch_ref")
        vals[nd.name] = y
    return vals


def loss_target(g, vals, kind):
    out = g.outputs[next(iter(g.outputs))]
    node = next(nd for nd in g.nodes if nd.name == out)
    kind = kind or ("margin" if node.op == "length" else "xent")
    if kind == "xent" and node.op == "softmax":
        return kind, vals[node.inputs[0]], vals[out]
    return kind, vals[out], vals[out]


def losses(kind, z, labels):
    """Per-sample losses on the target z [N, classes]."""
    t = F.one_hot(labels, z.shape[1]).to(z.dtype)
    if kind == "margin":
        return (t * torch.relu(0.9 - z) ** 2 + 0.5 * (1 - t) * torch.relu(z - 0.1) ** 2).sum(1)
    return F.cross_entropy(z, labels, reduction="none")


def load_weights(path, dtype):
    return {k: torch.tensor(v, dtype=dtype) for k, v in ref.read_safetensors(path).items()}


def cmd_grad(a):
    g = ref.Graph(a.net, 1)
    x = ref.load_npy(a.input)
    g = ref.Graph(a.net, x.shape[0])
    labels = torch.tensor(np.load(a.labels).astype(np.int64))
    W = load_weights(a.weights, torch.float64)
    trainable = {k: v for k, v in W.items() if not k.endswith(("running_mean", "running_var"))}
    for v in trainable.values():
        v.requires_grad_(True)
    vals = forward(g, W, torch.tensor(x, dtype=torch.float64), True, {}, masks(g, a.seed, 0))
    kind, z, _ = loss_target(g, vals, a.loss)
    loss = losses(kind, z, labels).mean()
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in trainable.items() if k in g.weights}
    ref.write_safetensors(a.output, grads, {"generator": "torch_ref.py"})
    print(json.dumps({"loss": float(loss.detach())}))


def cmd_gen(a):
    g = ref.Graph(a.net, a.batch)
    rng = np.random.default_rng(a.seed)
    weights = {n: rng.uniform(lo, hi, shape).astype(np.float32) for n, (shape, lo, hi) in g.weights.items()}
    name = next(iter(g.inputs))
    x = rng.random(g.shapes[name]).astype(np.float32)
    nd = next(nd for nd in g.nodes if nd.name == g.outputs[next(iter(g.outputs))])
    classes = nd.shape[-1] if len(nd.shape) == 2 else nd.shape[1]
    labels = rng.integers(0, classes, a.batch).astype(np.int64)
    os.makedirs(a.dir, exist_ok=True)
    ref.write_safetensors(os.path.join(a.dir, "weights.safetensors"), weights, {"generator": "torch_ref.py"})
    np.save(os.path.join(a.dir, "x.npy"), x)
    np.save(os.path.join(a.dir, "labels.npy"), labels)
    ns = argparse.Namespace(net=a.net, weights=os.path.join(a.dir, "weights.safetensors"), input=os.path.join(a.dir, "x.npy"),
                            labels=os.path.join(a.dir, "labels.npy"), loss=a.loss, seed=a.seed,
                            output=os.path.join(a.dir, "expected.grads.safetensors"))
    cmd_grad(ns)


def order(n, seed, epochs, shuffle):
    """mlcnc train's batch order: file order, or Fisher-Yates per epoch from its own stream."""
    rng = SplitMix64(seed ^ 0x5348_5546_464C_4521)
    idx = list(range(n))
    for _ in range(epochs):
        if shuffle:
            for i in range(n - 1, 0, -1):
                j = rng.next() % (i + 1)
                idx[i], idx[j] = idx[j], idx[i]
        yield list(idx)


def load_npz(path):
    d = np.load(path)
    return torch.tensor(d["x"], dtype=torch.float32), torch.tensor(d["y"].astype(np.int64))


def evaluate(g_for, W, x, y, kind, batch):
    correct, total = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(y), batch):
            xb, yb = x[s:s + batch], y[s:s + batch]
            g = g_for(len(yb))
            vals = forward(g, W, xb, False, {}, {})
            k, z, out = loss_target(g, vals, kind)
            total += float(losses(k, z, yb).sum())
            correct += int((out.argmax(1) == yb).sum())
    return correct / len(y), total / len(y)


def cmd_train(a):
    torch.set_num_threads(a.threads)
    graphs = {}

    def g_for(n):
        if n not in graphs:
            graphs[n] = ref.Graph(a.net, n)
        return graphs[n]

    x, y = load_npz(a.data)
    val = load_npz(a.val) if a.val else None
    W = load_weights(a.weights, torch.float32)
    g1 = g_for(1)
    trainable = [v for k, v in W.items() if k in g1.weights and not k.endswith(("running_mean", "running_var"))]
    for v in trainable:
        v.requires_grad_(True)
    opt = (torch.optim.SGD(trainable, lr=a.lr or 0.01, momentum=a.momentum) if a.optimizer == "sgd"
           else torch.optim.Adam(trainable, lr=a.lr or 0.001))
    step = 0
    for epoch, idx in enumerate(order(len(y), a.seed, a.epochs, not a.no_shuffle), 1):
        start, total = time.time(), 0.0
        for s in range(0, len(idx), a.batch):
            b = idx[s:s + a.batch]
            g = g_for(len(b))
            state = {}
            vals = forward(g, W, x[b], True, state, masks(g, a.seed, step))
            kind, z, _ = loss_target(g, vals, a.loss)
            loss_each = losses(kind, z, y[b])
            opt.zero_grad()
            loss_each.mean().backward()
            opt.step()
            for k, v in state.items():
                W[k] = v
            total += float(loss_each.detach().sum())
            step += 1
        seconds = time.time() - start
        rec = {"epoch": epoch, "loss": total / len(idx), "samples_per_second": len(idx) / seconds, "seconds": seconds}
        if val is not None:
            rec["val_accuracy"], rec["val_loss"] = evaluate(g_for, W, val[0], val[1], a.loss, a.batch)
        print(json.dumps(rec), flush=True)
    ref.write_safetensors(a.save, {k: v.detach().numpy() for k, v in W.items() if k in g1.weights}, {"generator": "torch_ref.py"})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    gr = sub.add_parser("grad")
    gr.add_argument("net")
    gr.add_argument("--weights", required=True)
    gr.add_argument("--input", required=True)
    gr.add_argument("--labels", required=True)
    gr.add_argument("--loss", choices=["margin", "xent"])
    gr.add_argument("--seed", type=int, default=0)
    gr.add_argument("-o", "--output", required=True)
    ge = sub.add_parser("gen")
    ge.add_argument("net")
    ge.add_argument("--batch", type=int, default=2)
    ge.add_argument("--seed", type=int, default=0)
    ge.add_argument("--loss", choices=["margin", "xent"])
    ge.add_argument("--dir", required=True)
    tr = sub.add_parser("train")
    tr.add_argument("net")
    tr.add_argument("--data", required=True)
    tr.add_argument("--val")
    tr.add_argument("--weights", required=True)
    tr.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    tr.add_argument("--lr", type=float)
    tr.add_argument("--momentum", type=float, default=0.0)
    tr.add_argument("--loss", choices=["margin", "xent"])
    tr.add_argument("--batch", type=int, default=32)
    tr.add_argument("--epochs", type=int, default=1)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--no-shuffle", action="store_true")
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--save", required=True)
    a = p.parse_args(argv)
    try:
        {"grad": cmd_grad, "gen": cmd_gen, "train": cmd_train}[a.cmd](a)
    except ref.UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

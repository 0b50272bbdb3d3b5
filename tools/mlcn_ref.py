#!/usr/bin/env python3
"""Independent NumPy reference implementation of the .mlcn language.

Written from docs/DESIGN.md sections 2 (language), 3 (operators, weight names) and 7
(inference mode: batchnorm uses its running statistics, dropout is identity) only, so
that its outputs can grade mlcnc. It parses a net, infers shapes, checks weights, and
evaluates in float64 (conv2d as im2col + BLAS matmul). Subcommands: `run` (weights
+ inputs -> outputs), `gen` (random weights, inputs and expected outputs for a seed),
`compare` (tolerance check of two .npy files) and `shapes` (value and weight shapes).
Needs only Python 3.11 and numpy; safetensors is read and written by hand.
User errors print a message (file:line:col with a caret for source errors) and exit 1.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class UserError(Exception):
    """Bad input from the user: reported as a message, never a traceback."""


class SourceError(UserError):
    def __init__(self, src, line, col, msg):
        text = src.lines[line - 1] if 0 < line <= len(src.lines) else ""
        super().__init__(f"{src.path}:{line}:{col}: error: {msg}\n{text}\n{' ' * (col - 1)}^")


# ----------------------------------------------------------------------------- lexer

class Ident(str):
    """An IDENT value (as opposed to a STRING) in an attribute."""


TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r]+) | (?P<comment>\#[^\n]*) | (?P<nl>\n)
  | (?P<num>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<punct>[=(),\[\]{}:])
""", re.X)
KEYWORDS = {"network", "input", "output", "lane", "lanes", "yield"}


class Tok:
    def __init__(self, kind, val, line, col):
        self.kind, self.val, self.line, self.col = kind, val, line, col


class Source:
    def __init__(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                self.text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read {path}: {e}")
        self.path, self.lines = path, self.text.split("\n")

    def err(self, tok, msg):
        return SourceError(self, tok.line, tok.col, msg)

    def tokens(self):
        out, line, start, pos = [], 1, 0, 0
        while pos < len(self.text):
            m = TOKEN_RE.match(self.text, pos)
            if not m:
                raise SourceError(self, line, pos - start + 1, f"unexpected character {self.text[pos]!r}")
            kind, s, col = m.lastgroup, m.group(), pos - start + 1
            if kind == "nl":
                out.append(Tok("nl", s, line, col))
                line, start = line + 1, m.end()
            elif kind == "num":
                isint = re.fullmatch(r"-?\d+", s) is not None
                out.append(Tok("int" if isint else "float", int(s) if isint else float(s), line, col))
            elif kind == "string":
                try:
                    out.append(Tok("string", json.loads(s), line, col))
                except json.JSONDecodeError:
                    raise SourceError(self, line, col, "bad escape in string")
            elif kind in ("ident", "punct"):
                out.append(Tok(kind if kind == "ident" else s, s, line, col))
            pos = m.end()
        out.append(Tok("eof", "", line, pos - start + 1))
        return out


# ---------------------------------------------------------------------------- parser
# AST: ("input", name_tok, dims) | ("assign", name_tok, op_tok, [arg_tok], {key: (value, tok)})
#      ("lane", name_tok, count or None, body, yield_tok) | ("output", [name_tok])

class Parser:
    def __init__(self, src):
        self.src, self.toks, self.i = src, src.tokens(), 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, kind, what=None):
        t = self.peek()
        if t.kind != kind:
            found = {"nl": "end of line", "eof": "end of file"}.get(t.kind, repr(t.val))
            raise self.src.err(t, f"expected {what or repr(kind)}, found {found}")
        return self.next()

    def name(self, what="a name"):
        t = self.expect("ident", what)
        if t.val in KEYWORDS:
            raise self.src.err(t, f"'{t.val}' is a keyword and cannot be used as a name")
        return t

    def skip_nl(self):
        while self.peek().kind == "nl":
            self.next()

    def end_stmt(self):
        if self.peek().kind != "eof":
            self.expect("nl", "end of line")

    def parse_file(self):
        self.skip_nl()
        t = self.expect("ident", "'network NAME' first")
        if t.val != "network":
            raise self.src.err(t, "a .mlcn file starts with 'network NAME'")
        self.name("the network name")
        self.end_stmt()
        stmts = self.block(in_lane=False)
        return stmts

    def block(self, in_lane):
        stmts = []
        while True:
            self.skip_nl()
            t = self.peek()
            if t.kind == "eof":
                if in_lane:
                    raise self.src.err(t, "unterminated lane block (missing 'yield NAME }')")
                return stmts
            if t.kind == "ident" and t.val == "yield":
                if not in_lane:
                    raise self.src.err(t, "'yield' outside a lane block")
                return stmts
            if t.kind == "}":
                raise self.src.err(t, "a lane block must end with 'yield NAME'" if in_lane else "unexpected '}'")
            stmts.append(self.stmt(in_lane))

    def stmt(self, in_lane):
        t = self.peek()
        kw = t.val if t.kind == "ident" else None
        if kw in ("input", "output", "network") and in_lane:
            raise self.src.err(t, f"'{kw}' is not allowed inside a lane block")
        if kw == "network":
            raise self.src.err(t, "'network' may appear only once, first")
        if kw == "input":
            self.next()
            name = self.name("an input name")
            self.expect(":", "':'")
            self.expect("[", "'[' starting the input shape")
            dims = [self.dim()]
            while self.peek().kind == ",":
                self.next()
                dims.append(self.dim())
            self.expect("]", "',' or ']'")
            self.end_stmt()
            return ("input", name, dims)
        if kw == "output":
            self.next()
            names = [self.name("an output name")]
            while self.peek().kind == ",":
                self.next()
                names.append(self.name("an output name"))
            self.end_stmt()
            return ("output", names)
        if kw in ("lane", "lanes"):
            self.next()
            name, count = self.name("a lane name"), None
            if kw == "lanes":
                self.expect("[", "'[' (lanes NAME[k])")
                ct = self.expect("int", "the lane count")
                if ct.val < 1:
                    raise self.src.err(ct, "the lane count must be at least 1")
                count = ct.val
                self.expect("]", "']'")
            self.expect("{", "'{'")
            body = self.block(in_lane=True)
            self.next()  # 'yield'
            y = self.name("the yielded value name")
            self.skip_nl()
            self.expect("}", "'}' after the yield")
            self.end_stmt()
            return ("lane", name, count, body, y)
        name = self.name("a statement (input, output, lane, lanes or NAME = op(...))")
        self.expect("=", "'='")
        op = self.expect("ident", "an operator name")
        self.expect("(", "'('")
        pos, kws = [], {}
        if self.peek().kind != ")":
            while True:
                a = self.expect("ident", "an argument")
                if self.peek().kind == "=":
                    self.next()
                    if a.val in kws:
                        raise self.src.err(a, f"attribute '{a.val}' given twice")
                    vt = self.peek()
                    kws[a.val] = (self.value(), vt, a)
                elif kws:
                    raise self.src.err(a, "positional operands must come before key=value attributes")
                else:
                    pos.append(a)
                if self.peek().kind != ",":
                    break
                self.next()
        self.expect(")", "',' or ')'")
        self.end_stmt()
        return ("assign", name, op, pos, kws)

    def dim(self):
        t = self.peek()
        if t.kind == "ident" and t.val == "N":
            self.next()
            return "N"
        t = self.expect("int", "a dimension (INT or N)")
        if t.val < 1:
            raise self.src.err(t, "dimensions must be positive")
        return t.val

    def value(self):
        t = self.next()
        if t.kind in ("int", "float", "string"):
            return t.val
        if t.kind == "ident":
            return Ident(t.val)
        if t.kind == "[":
            vals = [self.value()]
            while self.peek().kind == ",":
                self.next()
                vals.append(self.value())
            self.expect("]", "',' or ']'")
            return vals
        self.i -= 1
        raise self.src.err(t, "expected a value (INT, FLOAT, NAME, STRING or [list])")


# ----------------------------------------------------------- attributes and shapes

ACTS = ("none", "relu", "sigmoid", "tanh", "leaky_relu")  # act= on conv2d and dense


class Attrs:
    """Typed access to an op's key=value attributes; unknown keys are errors."""
    REQUIRED = object()

    def __init__(self, src, op_tok, kws):
        self.src, self.op_tok, self.kws, self.used = src, op_tok, kws, set()

    def err(self, key, msg, at_key=False):
        return self.src.err(self.kws[key][2 if at_key else 1] if key in self.kws else self.op_tok, msg)

    def get(self, key, kind, default=REQUIRED):
        self.used.add(key)
        if key not in self.kws:
            if default is Attrs.REQUIRED:
                raise self.src.err(self.op_tok, f"{self.op_tok.val} needs {key}=")
            return default
        v = self.kws[key][0]
        isint = lambda u: isinstance(u, int)  # noqa: E731 (floats like 3.0 are rejected)
        if kind == "posint" and isint(v) and v >= 1:
            return v
        if kind == "int" and isint(v):
            return v
        if kind in ("pair", "pad"):
            lo = 1 if kind == "pair" else 0
            if isint(v) and v >= lo:
                return (v, v)
            if isinstance(v, list) and len(v) == 2 and all(isint(u) and u >= lo for u in v):
                return tuple(v)
            if kind == "pad" and isinstance(v, str) and v == "same":
                return "same"
            want = "a positive INT or [h, w]" if kind == "pair" else "a non-negative INT, [h, w] or same"
            raise self.err(key, f"{key} must be {want}")
        if kind == "num" and isinstance(v, (int, float)):
            return float(v)
        if kind == "act" and isinstance(v, str) and v in ACTS:
            return str(v)
        if kind == "bool" and isinstance(v, str) and v in ("true", "false"):
            return v == "true"
        if kind == "intlist" and isinstance(v, list) and all(isint(u) for u in v):
            return list(v)
        want = {"posint": "a positive INT", "int": "an INT", "num": "a number",
                "act": ", ".join(ACTS[:-1]) + " or " + ACTS[-1],
                "bool": "true or false", "intlist": "a list of INTs"}[kind]
        raise self.err(key, f"{key} must be {want}")

    def finish(self):
        for k in self.kws:
            if k not in self.used:
                raise self.err(k, f"unknown attribute '{k}' for {self.op_tok.val}", at_key=True)


def fmt(shape):
    """A shape for messages, batch shown as N."""
    return "[" + ", ".join(["N"] + [str(d) for d in shape[1:]]) + "]"


def window_out(at, H, W, kernel, stride, pad, pool):
    """Output size floor((H + 2p - k)/s) + 1 per spatial dim; resolves padding=same."""
    if pad == "same":
        if stride != (1, 1) or kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise at.err("padding", "padding=same needs stride 1 and an odd kernel")
        pad = (kernel[0] // 2, kernel[1] // 2)
    if pool and (pad[0] >= kernel[0] or pad[1] >= kernel[1]):
        # otherwise a window could hold no in-bounds element (max of nothing, mean of nothing)
        raise at.err("padding", "pool padding must be smaller than the kernel")
    dims = []
    for n, k, s, p in zip((H, W), kernel, stride, pad):
        if n + 2 * p < k:
            raise at.err("kernel", f"kernel {tuple(kernel)} is larger than the padded input {H}x{W}")
        dims.append((n + 2 * p - k) // s + 1)
    return dims, pad


def norm_axis(at, key, axis, rank):
    if not -rank <= axis < rank:
        raise at.err(key, f"axis {axis} out of range for a rank-{rank} value")
    return axis % rank


def glorot(shape, fan_in, fan_out):
    """A weight spec (shape, lo, hi) for gen: Glorot uniform."""
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    return shape, -lim, lim


def infer(op, ins, at):
    """Shape inference and attribute checks for one op.
    ins: input shapes (batch first). Returns (out shape, params, weights) where weights
    maps suffix -> (shape, lo, hi): gen draws it uniformly from [lo, hi)."""
    def rank(k, r, atleast=False):
        if len(ins[k]) != r and not (atleast and len(ins[k]) > r):
            want = f"rank-{r}{' or higher' if atleast else ''}"
            raise at.err(None, f"{op} expects a {want} operand, got shape {fmt(ins[k])}")
    x = ins[0]
    if op in ("conv2d", "primary_caps"):
        rank(0, 4)
        if op == "conv2d":
            F = at.get("filters", "posint")
        else:
            caps, dim = at.get("caps", "posint"), at.get("dim", "posint")
            F = caps * dim
        k = at.get("kernel", "pair")
        s = at.get("stride", "pair", (1, 1))
        (Ho, Wo), pad = window_out(at, x[2], x[3], k, s, at.get("padding", "pad", (0, 0)), False)
        w = {"weight": glorot((F, x[1]) + k, x[1] * k[0] * k[1], F * k[0] * k[1]),
             "bias": ((F,), -0.1, 0.1)}
        if op == "conv2d":
            act, bias = at.get("act", "act", "none"), at.get("bias", "bool", True)
            if not bias:
                del w["bias"]
            return (x[0], F, Ho, Wo), dict(stride=s, pad=pad, act=act), w
        return (x[0], caps * Ho * Wo, dim), dict(stride=s, pad=pad, caps=caps, dim=dim), w
    if op in ("maxpool2d", "avgpool2d"):
        rank(0, 4)
        k = at.get("kernel", "pair")
        s = at.get("stride", "pair", k)  # default stride = kernel
        (Ho, Wo), pad = window_out(at, x[2], x[3], k, s, at.get("padding", "pad", (0, 0)), True)
        return (x[0], x[1], Ho, Wo), dict(kernel=k, stride=s, pad=pad), {}
    if op == "dense":
        rank(0, 2)
        U = at.get("units", "posint")
        act, bias = at.get("act", "act", "none"), at.get("bias", "bool", True)
        w = {"weight": glorot((U, x[1]), x[1], U)}
        if bias:
            w["bias"] = ((U,), -0.1, 0.1)
        return (x[0], U), dict(act=act), w
    if op == "flatten":
        return (x[0], math.prod(x[1:])), {}, {}
    if op == "reshape":
        shape = at.get("shape", "intlist")
        if not shape or any(d == 0 or d < -1 for d in shape) or shape.count(-1) > 1:
            raise at.err("shape", "shape must be positive INTs with at most one -1 (batch axis excluded)")
        total, known = math.prod(x[1:]), math.prod(d for d in shape if d != -1)
        if -1 in shape:
            if total % known:
                raise at.err("shape", f"cannot reshape {list(x[1:])} (size {total}) into {shape}")
            shape = [total // known if d == -1 else d for d in shape]
        if math.prod(shape) != total:
            raise at.err("shape", f"cannot reshape {list(x[1:])} (size {total}) into {shape}")
        return (x[0], *shape), {}, {}
    if op in ("relu", "sigmoid", "tanh"):
        return x, {}, {}
    if op == "leaky_relu":
        return x, dict(alpha=at.get("alpha", "num", 0.01)), {}
    if op == "batchnorm":
        if not 2 <= len(x) <= 4:
            raise at.err(None, f"batchnorm expects [N, C], [N, C, L] or [N, C, H, W], got shape {fmt(x)}")
        eps, momentum = at.get("eps", "num", 1e-5), at.get("momentum", "num", 0.1)
        if eps <= 0:
            raise at.err("eps", "eps must be a positive number")
        if not 0 <= momentum <= 1:
            raise at.err("momentum", "momentum must be a number in [0, 1]")
        # gen: random scale, shift and running statistics (variance positive) to exercise them
        C = (x[1],)
        w = {"weight": (C, 0.5, 1.5), "bias": (C, -0.5, 0.5), "running_mean": (C, -0.5, 0.5),
             "running_var": (C, 0.5, 1.5)}
        return x, dict(eps=eps, momentum=momentum), w
    if op == "dropout":
        p = at.get("p", "num", 0.5)
        if not 0 <= p < 1:
            raise at.err("p", "p must be a number in [0, 1)")
        return x, dict(p=p), {}
    if op == "softmax":
        return x, dict(axis=norm_axis(at, "axis", at.get("axis", "int", -1), len(x))), {}
    if op == "add":
        if ins[0] != ins[1]:
            raise at.err(None, f"add needs equal shapes, got {fmt(ins[0])} and {fmt(ins[1])}")
        return x, {}, {}
    if op == "concat":
        axis = norm_axis(at, "axis", at.get("axis", "int"), len(x))
        if axis == 0:
            raise at.err("axis", "concat along the batch axis (0) is not supported")
        for s in ins[1:]:
            if len(s) != len(x) or any(a != b for i, (a, b) in enumerate(zip(s, x)) if i != axis):
                raise at.err(None, f"concat operands disagree off axis {axis}: {fmt(x)} and {fmt(s)}")
        return x[:axis] + (sum(s[axis] for s in ins),) + x[axis + 1:], dict(axis=axis), {}
    if op == "slice":
        axis = norm_axis(at, "axis", at.get("axis", "int"), len(x))
        if axis == 0:
            raise at.err("axis", "slicing the batch axis (0) is not supported")
        b, e = at.get("begin", "int"), at.get("end", "int")
        if not 0 <= b < e <= x[axis]:
            raise at.err("end", f"range {b}..<{e} is not inside axis {axis} of {fmt(x)}")
        return x[:axis] + (e - b,) + x[axis + 1:], dict(axis=axis, begin=b, end=e), {}
    if op in ("squash", "length"):
        rank(0, 2, atleast=True)
        return (x if op == "squash" else x[:-1]), {}, {}
    if op == "capsule":
        rank(0, 3)
        J, D, R = at.get("caps", "posint"), at.get("dim", "posint"), at.get("routing", "posint")
        # each u[i,j] = W[i,j] x[i] is a Din -> D linear map: Glorot over that map
        return (x[0], J, D), dict(routing=R), {"weight": glorot((x[1], J, D, x[2]), x[2], D)}
    raise AssertionError(op)


# (number of positional operands, or None for variadic) per op
OPS = {"conv2d": 1, "primary_caps": 1, "maxpool2d": 1, "avgpool2d": 1, "dense": 1, "flatten": 1,
       "reshape": 1, "relu": 1, "sigmoid": 1, "tanh": 1, "softmax": 1, "add": 2, "concat": None, "slice": 1,
       "squash": 1, "length": 1, "capsule": 1, "leaky_relu": 1, "batchnorm": 1, "dropout": 1}


class Node:
    def __init__(self, name, op, inputs, params, weights, shape):
        self.name, self.op, self.inputs, self.params = name, op, inputs, params
        self.weights, self.shape = weights, shape  # weights: suffix -> full weight name


class Graph:
    """The net flattened: lanes expanded, names made global (lane-prefixed)."""

    def __init__(self, path, batch):
        self.src, self.batch = Source(path), batch
        self.inputs = {}     # name -> declared dims (with "N")
        self.shapes = {}     # full value name -> shape (batch = self.batch)
        self.nodes = []
        self.weights = {}    # full weight name -> (shape, lo, hi) (gen's uniform range)
        self.outputs = {}    # output name as written -> full value name (a lane name -> its value)
        ast = Parser(self.src).parse_file()
        self.build(ast, {}, None, "")
        if not self.outputs:
            raise UserError(f"{path}: the network declares no output (add 'output NAME')")

    def lookup(self, scope, tok):
        s = scope
        while s is not None:
            if tok.val in s[0]:
                return s[0][tok.val]
            s = s[1]
        raise self.src.err(tok, f"undefined name '{tok.val}'")

    def define(self, names, tok, entry):
        # duplicates are errors within a scope; a lane may shadow an outer name (its own scope)
        if tok.val in names:
            raise self.src.err(tok, f"duplicate name '{tok.val}'")
        names[tok.val] = entry

    def value(self, scope, tok):
        kind, v = self.lookup(scope, tok)
        if kind == "list":
            raise self.src.err(tok, f"'{tok.val}' is a list of {len(v)} lane values; only concat takes it")
        return v

    def build(self, stmts, names, parent, prefix):
        scope = (names, parent)
        for st in stmts:
            if st[0] == "input":
                _, tok, dims = st
                if dims[0] != "N" or "N" in dims[1:]:
                    raise self.src.err(tok, "an input shape must be [N, ...]: N first (the batch) and only there")
                self.define(names, tok, ("value", tok.val))
                self.inputs[tok.val] = dims
                self.shapes[tok.val] = (self.batch, *dims[1:])
            elif st[0] == "output":
                for tok in st[1]:
                    full = self.value(scope, tok)
                    if tok.val in self.outputs:
                        raise self.src.err(tok, f"'{tok.val}' is already an output")
                    self.outputs[tok.val] = full
            elif st[0] == "lane":
                _, tok, count, body, ytok = st
                if tok.val in names:
                    raise self.src.err(tok, f"duplicate name '{tok.val}'")
                vals = []
                for i in ([None] if count is None else range(count)):
                    p = f"{prefix}{tok.val}." + ("" if i is None else f"{i}.")
                    inner = {}
                    self.build(body, inner, scope, p)
                    vals.append(self.value((inner, scope), ytok))
                names[tok.val] = ("value", vals[0]) if count is None else ("list", vals)
            else:
                self.assign(st, scope, prefix)

    def assign(self, st, scope, prefix):
        _, tok, optok, pos, kws = st
        if optok.val not in OPS:
            raise self.src.err(optok, f"unknown operator '{optok.val}'")
        n = OPS[optok.val]
        if n is not None and len(pos) != n:
            raise self.src.err(optok, f"{optok.val} takes {n} tensor operand{'s' * (n > 1)}, got {len(pos)}")
        inputs = []
        for t in pos:
            kind, v = self.lookup(scope, t)
            if kind == "list" and n is None:
                inputs.extend(v)  # a lane list expands to its lanes, in order
            else:
                inputs.append(self.value(scope, t))
        if not inputs:
            raise self.src.err(optok, f"{optok.val} needs at least one operand")
        at = Attrs(self.src, optok, kws)
        shape, params, ws = infer(optok.val, [self.shapes[i] for i in inputs], at)
        at.finish()
        full = prefix + tok.val
        self.define(scope[0], tok, ("value", full))
        wnames = {}
        for suffix, spec in ws.items():
            wnames[suffix] = f"{full}.{suffix}"
            self.weights[wnames[suffix]] = spec
        self.shapes[full] = shape
        self.nodes.append(Node(full, optok.val, inputs, params, wnames, shape))


# ------------------------------------------------------------------------- compute

def activate(x, act, alpha=0.01):
    if act == "relu":
        return np.maximum(x, 0.0)
    if act == "sigmoid":
        with np.errstate(over="ignore"):  # exp overflow -> inf -> 0, the right limit
            return 1.0 / (1.0 + np.exp(-x))
    if act == "tanh":
        return np.tanh(x)
    if act == "leaky_relu":
        return np.where(x > 0, x, alpha * x)
    return x


def windows(x, kernel, stride, pad, fill):
    """[N, C, Ho, Wo, KH, KW] view of the padded input (a view, no copy)."""
    ph, pw = pad
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def conv2d(x, w, b, stride, pad):
    N, C = x.shape[:2]
    F, _, KH, KW = w.shape
    wm = w.reshape(F, -1).T
    out = None
    # im2col in batch chunks so the column matrix stays under ~256 MB
    Ho = (x.shape[2] + 2 * pad[0] - KH) // stride[0] + 1
    Wo = (x.shape[3] + 2 * pad[1] - KW) // stride[1] + 1
    step = max(1, (256 << 20) // (Ho * Wo * C * KH * KW * 8))
    for n0 in range(0, N, step):
        win = windows(x[n0:n0 + step], (KH, KW), stride, pad, 0.0)
        n, _, Ho, Wo = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * Ho * Wo, C * KH * KW)
        if out is None:
            out = np.empty((N, Ho, Wo, F))
        out[n0:n0 + n] = (cols @ wm).reshape(n, Ho, Wo, F)
    out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    if b is not None:
        out += b[:, None, None]
    return out


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def squash(s):
    n2 = np.sum(s * s, axis=-1, keepdims=True)
    return s * (n2 / (1.0 + n2)) / np.sqrt(n2 + 1e-7)


def capsule(x, w, routing):
    N, I, Din = x.shape
    _, J, D, _ = w.shape
    # u[n,i,j,:] = W[i,j] x[n,i]: one [J*D, Din] x [Din, N] matmul per input capsule i
    u = (w.reshape(I, J * D, Din) @ x.transpose(1, 2, 0)).reshape(I, J, D, N).transpose(3, 0, 1, 2)
    b = np.zeros((N, I, J))
    for r in range(routing):
        c = softmax(b, axis=2)                            # coupling over output capsules j
        v = squash(np.einsum("nij,nijd->njd", c, u))
        if r < routing - 1:                               # no update after the last iteration
            b = b + np.einsum("nijd,njd->nij", u, v)
    return v


def evaluate(g, weights, inputs, wanted):
    """Compute the nodes (in order) and return {name: float64 array} for `wanted`."""
    vals = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    last = {}
    for i, nd in enumerate(g.nodes):
        for name in nd.inputs:
            last[name] = i
    for i, nd in enumerate(g.nodes):
        xs, p = [vals[n] for n in nd.inputs], nd.params
        W = lambda s: weights.get(nd.weights.get(s))  # noqa: E731
        x, op = xs[0], nd.op
        if op == "conv2d":
            y = activate(conv2d(x, W("weight"), W("bias"), p["stride"], p["pad"]), p["act"])
        elif op == "primary_caps":
            conv = conv2d(x, W("weight"), W("bias"), p["stride"], p["pad"])
            n, _, H, Wd = conv.shape
            # capsule (c*H + h)*W + w, component d  <-  conv channel c*D + d at (h, w)
            y = squash(conv.reshape(n, p["caps"], p["dim"], H, Wd).transpose(0, 1, 3, 4, 2)
                       .reshape(n, p["caps"] * H * Wd, p["dim"]))
        elif op == "maxpool2d":
            y = windows(x, p["kernel"], p["stride"], p["pad"], -np.inf).max(axis=(-2, -1))
        elif op == "avgpool2d":
            # average over in-bounds elements only: divide by the count of real cells per window
            sums = windows(x, p["kernel"], p["stride"], p["pad"], 0.0).sum(axis=(-2, -1))
            ones = np.ones((1, 1) + x.shape[2:])
            y = sums / windows(ones, p["kernel"], p["stride"], p["pad"], 0.0).sum(axis=(-2, -1))
        elif op == "dense":
            y = x @ W("weight").T
            if W("bias") is not None:
                y = y + W("bias")
            y = activate(y, p["act"])
        elif op in ("flatten", "reshape"):
            y = x.reshape(nd.shape)
        elif op in ("relu", "sigmoid", "tanh"):
            y = activate(x, op)
        elif op == "leaky_relu":
            y = activate(x, op, p["alpha"])
        elif op == "batchnorm":  # inference: running statistics, over axis 1
            c = lambda s: W(s).reshape((-1,) + (1,) * (x.ndim - 2))  # noqa: E731
            y = (x - c("running_mean")) / np.sqrt(c("running_var") + p["eps"]) * c("weight") + c("bias")
        elif op == "dropout":  # identity at inference
            y = x
        elif op == "softmax":
            y = softmax(x, p["axis"])
        elif op == "add":
            y = x + xs[1]
        elif op == "concat":
            y = np.concatenate(xs, axis=p["axis"])
        elif op == "slice":
            y = np.take(x, range(p["begin"], p["end"]), axis=p["axis"])
        elif op == "squash":
            y = squash(x)
        elif op == "length":
            y = np.sqrt(np.sum(x * x, axis=-1))
        elif op == "capsule":
            y = capsule(x, W("weight"), p["routing"])
        assert y.shape == nd.shape, (nd.name, y.shape, nd.shape)
        vals[nd.name] = y
        for name in set(nd.inputs):  # free what no later node and no output needs
            if last[name] == i and name not in wanted:
                del vals[name]
    return {k: vals[k] for k in wanted}


# ------------------------------------------------------------------------- formats

ST_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2"}


def read_safetensors(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UserError(f"cannot read {path}: {e}")
    bad = lambda m: UserError(f"{path}: not a valid safetensors file: {m}")  # noqa: E731
    if len(data) < 8:
        raise bad("too short")
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data):
        raise bad("header length beyond end of file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not JSON ({e})")
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    out, base = {}, 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape = info["dtype"], [int(d) for d in info["shape"]]
            b, e = (int(o) for o in info["data_offsets"])
            assert isinstance(dtype, str) and all(d >= 0 for d in shape)
        except (KeyError, TypeError, ValueError, AssertionError):
            raise bad(f"bad entry for '{name}'")
        if dtype not in ST_DTYPES:
            raise bad(f"'{name}' has unsupported dtype {dtype}")
        dt = np.dtype(ST_DTYPES[dtype])
        count = math.prod(shape)
        if not (0 <= b <= e and base + e <= len(data) and e - b == count * dt.itemsize):
            raise bad(f"'{name}' has data_offsets {[b, e]} inconsistent with shape {shape} or file size")
        a = np.frombuffer(data, dt, count, base + b).reshape(shape)
        if dtype == "BF16":  # bfloat16 is the top half of a float32
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = a.astype(np.float64)
    return out


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # pad so the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_npy(path):
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise UserError(f"{path} is not a .npy file")
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"cannot read {path} as .npy: {e}")
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiub":
        raise UserError(f"{path}: expected a numeric array, got {getattr(a, 'dtype', type(a))}")
    return a.astype(np.float64)


def save_npy(path, a):
    try:
        np.save(path, np.ascontiguousarray(a, dtype="<f4"))
    except OSError as e:
        raise UserError(f"cannot write {path}: {e}")


# ------------------------------------------------------------------------ commands

def check_weights(g, weights, wpath):
    problems = []
    for name, (shape, _, _) in g.weights.items():
        if name not in weights:
            problems.append(f"missing weight '{name}' (expected shape {list(shape)})")
        elif weights[name].shape != tuple(shape):
            problems.append(f"weight '{name}' has shape {list(weights[name].shape)}, expected {list(shape)}")
    if problems:
        raise UserError(f"{wpath}: " + "\n  ".join([f"{len(problems)} weight problem(s):"] + problems))
    unused = sorted(set(weights) - set(g.weights))
    if unused:
        print(f"mlcn_ref: note: {len(unused)} tensor(s) in {wpath} not used by the net: "
              + ", ".join(unused[:8]) + (" ..." if len(unused) > 8 else ""), file=sys.stderr)


def pairs(items, names, what):
    """--input/--output NAME=FILE (or a bare FILE when the net has exactly one)."""
    out = {}
    for item in items:
        name, eq, path = item.partition("=")
        if not eq:
            if len(names) != 1:
                raise UserError(f"--{what} {item}: give NAME=FILE (the net has {len(names)} {what}s)")
            name, path = names[0], item
        if name in out:
            raise UserError(f"--{what} {name} given twice")
        out[name] = path
    return out


def cmd_run(a):
    g0 = Graph(a.net, 1)
    inpaths = pairs(a.input, list(g0.inputs), "input")
    for name in inpaths:
        if name not in g0.inputs:
            raise UserError(f"--input {name}: the net has no input '{name}' (inputs: {', '.join(g0.inputs)})")
    inputs, batch = {}, None
    for name, dims in g0.inputs.items():
        if name not in inpaths:
            raise UserError(f"no --input NAME=FILE for input '{name}'")
        x = load_npy(inpaths[name])
        if x.ndim != len(dims) or any(d != "N" and d != s for d, s in zip(dims, x.shape)):
            raise UserError(f"input '{name}' from {inpaths[name]} has shape {list(x.shape)}, expected [{', '.join(map(str, dims))}]")
        if batch is not None and x.shape[0] != batch:
            raise UserError(f"input '{name}' has batch {x.shape[0]}, other inputs have {batch}")
        if x.shape[0] < 1:
            raise UserError(f"input '{name}' has an empty batch")
        batch, inputs[name] = x.shape[0], x
    g = Graph(a.net, batch)
    if not a.output:
        raise UserError("give at least one --output NAME=FILE")
    outpaths = pairs(a.output, list(g.outputs), "output")
    full = {}
    for name in outpaths:  # any value (lane-prefixed, e.g. L.0.h) may be fetched, not just outputs
        full[name] = g.outputs.get(name, name)
        if full[name] not in g.shapes:
            raise UserError(f"--output {name}: no output or value '{name}' (outputs: {', '.join(g.outputs)})")
    weights = read_safetensors(a.weights) if a.weights else {}
    check_weights(g, weights, a.weights or "(no --weights)")
    res = evaluate(g, weights, inputs, set(full.values()))
    for name, path in outpaths.items():
        save_npy(path, res[full[name]])


def cmd_gen(a):
    if a.batch < 1:
        raise UserError("--batch must be at least 1")
    g = Graph(a.net, a.batch)
    rng = np.random.default_rng(a.seed)
    # weights first (graph order), then inputs: the weights do not depend on the batch size
    weights = {}
    for name, (shape, lo, hi) in g.weights.items():
        weights[name] = rng.uniform(lo, hi, shape).astype(np.float32)
    inputs = {n: rng.random(g.shapes[n]).astype(np.float32) for n in g.inputs}
    try:
        os.makedirs(a.dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {a.dir}: {e}")
    write_safetensors(os.path.join(a.dir, "weights.safetensors"), weights,
                      {"generator": "mlcn_ref.py", "seed": str(a.seed), "net": os.path.basename(a.net)})
    for n, x in inputs.items():
        save_npy(os.path.join(a.dir, f"{n}.npy"), x)
    # compute from the float32-rounded tensors, exactly what `run` will read back
    res = evaluate(g, {k: v.astype(np.float64) for k, v in weights.items()}, inputs, set(g.outputs.values()))
    for n, full in g.outputs.items():
        save_npy(os.path.join(a.dir, f"expected.{n}.npy"), res[full])


def cmd_compare(a):
    """max |got - expected| <= rtol * (1 + max |expected|), over the finite expected values.
    Fails on any NaN (np.max would propagate it, but the check must not rely on that), on
    an infinity where the expected value is finite, and on an expected infinity that is
    not matched exactly."""
    got, exp = load_npy(a.got), load_npy(a.expected)
    if got.shape != exp.shape:
        print(f"FAIL {a.got}: shape {list(got.shape)}, expected {list(exp.shape)}")
        return 1
    got, exp = got.astype(np.float64).ravel(), exp.astype(np.float64).ravel()
    finite = np.isfinite(exp)
    # bad: a NaN on either side, a non-finite value where a finite one is expected, or an
    # expected infinity not matched by the same infinity
    bad = np.isnan(got) | np.isnan(exp) | (finite & ~np.isfinite(got)) | (~finite & (got != exp))
    ok_pos = finite & ~bad
    err = float(np.max(np.abs(got[ok_pos] - exp[ok_pos]))) if ok_pos.any() else 0.0
    tol = a.rtol * (1.0 + (float(np.max(np.abs(exp[finite]))) if finite.any() else 0.0))
    nbad = int(np.count_nonzero(bad))
    ok = nbad == 0 and err <= tol
    msg = f"{'ok' if ok else 'FAIL'} {a.got}: max error {err:.3e}, tolerance {tol:.3e}"
    if nbad:
        i = int(np.flatnonzero(bad)[0])
        msg += f"; {nbad} non-finite mismatch(es), first at flat index {i}: got {got[i]}, expected {exp[i]}"
    print(msg)
    return 0 if ok else 1


def cmd_shapes(a):
    if a.batch < 1:
        raise UserError("--batch must be at least 1")
    g = Graph(a.net, a.batch)
    for n in g.inputs:
        print(f"{n}: {list(g.shapes[n])}")
    for nd in g.nodes:
        print(f"{nd.name}: {list(nd.shape)}")
    for n, (shape, _, _) in g.weights.items():
        print(f"weight {n}: {list(shape)}")


class ArgParser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 1 like every other user error
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


def main(argv=None):
    p = ArgParser(prog="mlcn_ref.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=ArgParser)
    r = sub.add_parser("run", help="compute a net's outputs")
    r.add_argument("net")
    r.add_argument("--weights")
    r.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    r.add_argument("--output", action="append", default=[], metavar="NAME=FILE.npy")
    gp = sub.add_parser("gen", help="random weights + inputs + expected outputs")
    gp.add_argument("net")
    gp.add_argument("--batch", type=int, default=1)
    gp.add_argument("--seed", type=int, default=0)
    gp.add_argument("--dir", required=True)
    c = sub.add_parser("compare", help="check GOT against EXPECTED")
    c.add_argument("got")
    c.add_argument("expected")
    c.add_argument("--rtol", type=float, default=1e-4)
    s = sub.add_parser("shapes", help="print value and weight shapes")
    s.add_argument("net")
    s.add_argument("--batch", type=int, default=1)
    a = p.parse_args(argv)
    try:
        return {"run": cmd_run, "gen": cmd_gen, "compare": cmd_compare, "shapes": cmd_shapes}[a.cmd](a) or 0
    except UserError as e:
        print(e if isinstance(e, SourceError) else f"mlcn_ref.py: error: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print("mlcn_ref.py: error: out of memory", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

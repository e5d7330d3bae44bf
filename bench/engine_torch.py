#!/usr/bin/env python3
"""PyTorch peer for bench/engine.ts: the same BERT training steps (frozen embeddings, dropout 0.1,
AdamW, serial adapter after each FFN or full fine-tuning) at the shape engine.ts passes, timed in
this process.

Usage: engine_torch.py THREADS SHAPE_JSON  (SHAPE_JSON: layers, hidden, heads, ffn, seq, batch,
vocab, bottleneck, labels, warmup, as bench/engine-model.ts's SHAPES).

Protocol (driven by engine.ts so the two sides interleave): prints one JSON line on start
({"ready": true, "torch", "blas", "blasCore", "threads", "blasCheck"}); then for each stdin line
"<adapter|full> <n> [pruned]" it runs n timed steps and prints {"kind", "ms": [...], "maxRssMb"}.
"pruned" computes only the [CLS] row in the last layer (queries, attention output, FFN), the
shortcut bench/engine-model.ts's clsOnly takes. Warm-up steps run when a model is built.
"""
import ctypes
import json
import math
import re
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
SHAPE = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
torch.set_num_threads(THREADS)
torch.manual_seed(0)
L, H, NH, FFN = SHAPE.get("layers", 2), SHAPE.get("hidden", 128), SHAPE.get("heads", 2), SHAPE.get("ffn", 512)
S, B, V, D, C = SHAPE.get("seq", 64), SHAPE.get("batch", 32), SHAPE.get("vocab", 30522), SHAPE.get("bottleneck", 16), SHAPE.get("labels", 2)
WARMUP = SHAPE.get("warmup", 5)
DH = H // NH


class Layer(nn.Module):
    def __init__(self, adapter):
        super().__init__()
        self.q, self.k, self.v, self.o = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.i, self.out = nn.Linear(H, FFN), nn.Linear(FFN, H)
        self.drop = nn.Dropout(0.1)
        self.adapter = nn.Sequential(nn.Linear(H, D), nn.ReLU(), nn.Linear(D, H)) if adapter else None
        if adapter:
            nn.init.zeros_(self.adapter[2].weight)
            nn.init.zeros_(self.adapter[2].bias)

    def forward(self, x, bias, cls_only=False):
        xq = x[:, :1] if cls_only else x
        heads = lambda t: t.view(t.shape[0], t.shape[1], NH, DH).transpose(1, 2)
        q, k, v = heads(self.q(xq)), heads(self.k(x)), heads(self.v(x))
        p = self.drop((q @ k.transpose(-1, -2) / math.sqrt(DH) + bias).softmax(-1))
        ctx = (p @ v).transpose(1, 2).reshape(x.shape[0], xq.shape[1], H)
        a = self.ln1(self.drop(self.o(ctx)) + xq)
        f = self.drop(self.out(F.gelu(self.i(a))))
        if self.adapter is not None:
            f = f + self.adapter(f)
        return self.ln2(f + a)


class Bert(nn.Module):
    def __init__(self, adapter):
        super().__init__()
        self.word, self.pos, self.tt = nn.Embedding(V, H), nn.Embedding(512, H), nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList([Layer(adapter) for _ in range(L)])
        self.pooler, self.classifier = nn.Linear(H, H), nn.Linear(H, C)

    def forward(self, ids, mask, tt, pruned=False):
        x = self.drop(self.ln(self.word(ids) + self.pos(torch.arange(S)) + self.tt(tt)))
        bias = (1.0 - mask.to(torch.float32))[:, None, None, :] * torch.finfo(torch.float32).min
        for n, layer in enumerate(self.layers):
            x = layer(x, bias, pruned and n == L - 1)
        return self.classifier(self.drop(torch.tanh(self.pooler(x[:, 0]))))


def make(kind):
    model = Bert(kind == "adapter")
    model.train()
    for name, p in model.named_parameters():
        if name.startswith(("word", "pos", "tt", "ln.")):
            p.requires_grad_(False)  # frozen embeddings in both settings
        elif kind == "adapter":
            p.requires_grad_(".adapter." in name or name.startswith("classifier"))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
    return model, opt


def blas_info():
    """The BLAS library and, for OpenBLAS, the kernel it chose (OPENBLAS_CORETYPE may force one)."""
    maps = open("/proc/self/maps").read()
    libs = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps)))
    for lib in libs:
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_corename.restype = ctypes.c_char_p
            return "openblas", h.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return ("openblas" if libs else "other"), None


def blas_check():
    """float32 matmuls (BLAS) against a BLAS-free float64 reference: a wrong kernel fails here."""
    g = torch.Generator().manual_seed(1)
    worst = 0.0
    for m, k, n in ((37, 129, 65), (256, 768, 300)):
        a, b = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
        ref = (a.double()[:, :, None] * b.double()[None]).sum(1)
        worst = max(worst, ((a @ b).double() - ref).abs().max().item() / math.sqrt(k))
    return worst


ids = torch.randint(0, V, (B, S))
mask = torch.ones(B, S, dtype=torch.int64)
tt = torch.zeros(B, S, dtype=torch.int64)
labels = torch.randint(0, C, (B,))


def step(model, opt, pruned=False):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(ids, mask, tt, pruned), labels).backward()
    opt.step()


def max_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


check = blas_check()
if check > 1e-4:
    print(json.dumps({"ready": False, "error": f"float32 matmul off by {check:.3g} (scaled): wrong BLAS kernel"}), flush=True)
    sys.exit(1)
models = {k: make(k) for k in ("adapter", "full")}
for k, (m, o) in models.items():
    for _ in range(WARMUP):
        step(m, o)
blas, core = blas_info()
print(
    json.dumps(
        {
            "ready": True,
            "torch": torch.__version__,
            "blas": blas,
            "blasCore": core,
            "threads": torch.get_num_threads(),
            "blasCheck": float(f"{check:.3g}"),
            "maxRssMb": max_rss_mb(),
        }
    ),
    flush=True,
)
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "quit":
        break
    kind, n, pruned = parts[0], int(parts[1]), len(parts) > 2 and parts[2] == "pruned"
    m, o = models[kind]
    ms, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        step(m, o, pruned)
        ms.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)  # all threads of the process (user + system)
    print(json.dumps({"kind": kind, "ms": ms, "cpuMs": cpu, "maxRssMb": max_rss_mb()}), flush=True)

#!/usr/bin/env python3
"""PyTorch peer for bench/engine.ts: the same tiny-BERT training steps (L2 H128, 2 heads, FFN 512,
seq 64, batch 32, vocab 30522, frozen embeddings, dropout 0.1, AdamW), timed in this process.

Protocol (driven by engine.ts so the two sides interleave): prints one JSON line on start
({"ready": true, "blas": ..., "threads": ...}); then for each stdin line "<adapter|full> <n>" it runs
n timed steps and prints {"kind": ..., "ms": [...]}. Warm-up steps run when a model is built.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(THREADS)
torch.manual_seed(0)
L, H, NH, FFN, S, B, V, D, C = 2, 128, 2, 512, 64, 32, 30522, 16, 2
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

    def forward(self, x, bias):
        heads = lambda t: t.view(t.shape[0], S, NH, DH).transpose(1, 2)
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        p = self.drop((q @ k.transpose(-1, -2) / math.sqrt(DH) + bias).softmax(-1))
        ctx = (p @ v).transpose(1, 2).reshape(x.shape[0], S, H)
        a = self.ln1(self.drop(self.o(ctx)) + x)
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

    def forward(self, ids, mask, tt):
        x = self.drop(self.ln(self.word(ids) + self.pos(torch.arange(S)) + self.tt(tt)))
        bias = (1.0 - mask.to(torch.float32))[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
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


ids = torch.randint(0, V, (B, S))
mask = torch.ones(B, S, dtype=torch.int64)
tt = torch.zeros(B, S, dtype=torch.int64)
labels = torch.randint(0, C, (B,))


def step(model, opt):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(ids, mask, tt), labels).backward()
    opt.step()


models = {k: make(k) for k in ("adapter", "full")}
for k, (m, o) in models.items():
    for _ in range(5):
        step(m, o)
blas = "openblas" if "openblas" in open("/proc/self/maps").read() else "other"
print(json.dumps({"ready": True, "torch": torch.__version__, "blas": blas, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "quit":
        break
    kind, n = parts[0], int(parts[1])
    m, o = models[kind]
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        step(m, o)
        ms.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"kind": kind, "ms": ms}), flush=True)

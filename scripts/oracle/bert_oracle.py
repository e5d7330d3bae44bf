#!/usr/bin/env python3
"""PyTorch oracle for the TypeScript BERT graph (src/models/bert) and its autodiff.

Writes test/fixtures/oracle/bert_tiny.{json,bin}: random weights of a tiny BERT (Hugging Face
names), a batch with padding, and what PyTorch computes for it: logits, mean cross-entropy loss,
the gradient of every parameter (embeddings included), and the params after two AdamW steps.
A second case adds PEFT-style hooks (serial adapter after the FFN, prefix key/value rows, a LoRA
branch on query and value) with their own params and gradients. Further cases, each with logits,
loss and the gradient of every trainable tensor (under the product's own names `peft.layer.<l>.sa|pa.*`,
`peft.pt.*`, so the tests map nothing):
- `pa`: the parallel adapter (scaling 4) beside the FFN: f + 4 up(relu(down(a)));
- `ptmlp`: prefix-tuning through its shared reparameterisation MLP (tanh, both layers' rows from
  one MLP, adapter-transformers' layout: columns [2lH, 2lH + H) keys, [2lH + H, 2lH + 2H) values);
- `sahoulsby_pa`: our default serial adapter composed with the parallel adapter: f1 = f + 4 A_pa(a),
  out = f1 + A_sa(f1);
- `sapfeiffer`, `sapfeiffer_pa`: the reference's serial adapter (adapter-transformers' AutoPEFTConfig,
  original_ln_before=True), alone and summed in parallel with the parallel adapter:
  LN(f + A_sa(LN(f + a)) + 4 A_pa(a) + a), LN = the layer's frozen output LayerNorm;
- `roberta`: a tiny RoBERTa (positions from padding_idx + 1, one token type, the
  RobertaClassificationHead dense + tanh + out_proj on <s>), full fine-tuning.

The model below mirrors transformers' BertForSequenceClassification (post-LN, exact erf GELU,
additive mask torch.finfo(float32).min, pooler tanh on [CLS]) with dropout off.

Regenerate (not needed for CI, which only reads the fixture):
  apt-get install python3-torch libopenblas0-pthread
  /usr/bin/python3 scripts/oracle/bert_oracle.py
"""
import json
import math
import os
import struct

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)

CFG = dict(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
           max_position_embeddings=16, type_vocab_size=2, layer_norm_eps=1e-12, num_labels=3)
B, S = 3, 8
PREFIX, BOTTLENECK, RANK, LORA_SCALE = 2, 4, 2, 0.5
LR, WD, STEPS = 1e-3, 0.01, 2
H, NH = CFG["hidden_size"], CFG["num_attention_heads"]
DH = H // NH


def init_weights():
    w = {}
    n = lambda name, *shape: w.__setitem__(name, torch.randn(*shape) * 0.1)
    z = lambda name, *shape: w.__setitem__(name, torch.randn(*shape) * 0.05)  # non-zero biases test the bias paths
    o = lambda name, *shape: w.__setitem__(name, 1 + torch.randn(*shape) * 0.05)
    e = "bert.embeddings"
    n(f"{e}.word_embeddings.weight", CFG["vocab_size"], H)
    n(f"{e}.position_embeddings.weight", CFG["max_position_embeddings"], H)
    n(f"{e}.token_type_embeddings.weight", CFG["type_vocab_size"], H)
    o(f"{e}.LayerNorm.weight", H); z(f"{e}.LayerNorm.bias", H)
    for l in range(CFG["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}"
        for k in ("query", "key", "value"):
            n(f"{p}.attention.self.{k}.weight", H, H); z(f"{p}.attention.self.{k}.bias", H)
        n(f"{p}.attention.output.dense.weight", H, H); z(f"{p}.attention.output.dense.bias", H)
        o(f"{p}.attention.output.LayerNorm.weight", H); z(f"{p}.attention.output.LayerNorm.bias", H)
        n(f"{p}.intermediate.dense.weight", CFG["intermediate_size"], H); z(f"{p}.intermediate.dense.bias", CFG["intermediate_size"])
        n(f"{p}.output.dense.weight", H, CFG["intermediate_size"]); z(f"{p}.output.dense.bias", H)
        o(f"{p}.output.LayerNorm.weight", H); z(f"{p}.output.LayerNorm.bias", H)
    n("bert.pooler.dense.weight", H, H); z("bert.pooler.dense.bias", H)
    n("classifier.weight", CFG["num_labels"], H); z("classifier.bias", CFG["num_labels"])
    return w


def init_hooks():
    w = {}
    for l in range(CFG["num_hidden_layers"]):
        p = f"peft.layer.{l}"
        w[f"{p}.adapter.down.weight"] = torch.randn(BOTTLENECK, H) * 0.1
        w[f"{p}.adapter.down.bias"] = torch.randn(BOTTLENECK) * 0.05
        w[f"{p}.adapter.up.weight"] = torch.randn(H, BOTTLENECK) * 0.1
        w[f"{p}.adapter.up.bias"] = torch.randn(H) * 0.05
        w[f"{p}.prefix.key"] = torch.randn(PREFIX, H) * 0.1
        w[f"{p}.prefix.value"] = torch.randn(PREFIX, H) * 0.1
        for k in ("query", "value"):
            w[f"{p}.lora.{k}.A"] = torch.randn(RANK, H) * 0.1
            w[f"{p}.lora.{k}.B"] = torch.randn(H, RANK) * 0.1
    return w


def ln(x, w, name, eps=None):
    eps = CFG["layer_norm_eps"] if eps is None else eps
    return torch.nn.functional.layer_norm(x, (H,), w[f"{name}.weight"], w[f"{name}.bias"], eps)


def lin(x, w, name):
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def forward(w, ids, mask, tt, hooks=None):
    e = "bert.embeddings"
    pos = torch.arange(S)
    x = w[f"{e}.word_embeddings.weight"][ids] + w[f"{e}.position_embeddings.weight"][pos] + w[f"{e}.token_type_embeddings.weight"][tt]
    x = ln(x, w, f"{e}.LayerNorm")
    bias = (1.0 - mask.to(torch.float32))[:, None, None, :] * torch.finfo(torch.float32).min
    for l in range(CFG["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}"
        hp = f"peft.layer.{l}"

        def proj(name, inp):
            out = lin(inp, w, f"{p}.attention.self.{name}")
            if hooks is not None and name in ("query", "value"):
                out = out + (inp @ hooks[f"{hp}.lora.{name}.A"].T @ hooks[f"{hp}.lora.{name}.B"].T) * LORA_SCALE
            return out

        heads = lambda t: t.view(t.shape[0], t.shape[1], NH, DH).transpose(1, 2)
        q, k, v = heads(proj("query", x)), heads(proj("key", x)), heads(proj("value", x))
        b = bias
        if hooks is not None:
            pk = hooks[f"{hp}.prefix.key"].view(PREFIX, NH, DH).transpose(0, 1).unsqueeze(0).expand(x.shape[0], -1, -1, -1)
            pv = hooks[f"{hp}.prefix.value"].view(PREFIX, NH, DH).transpose(0, 1).unsqueeze(0).expand(x.shape[0], -1, -1, -1)
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
            b = torch.cat([torch.zeros(x.shape[0], 1, 1, PREFIX), bias], dim=3)
        scores = q @ k.transpose(-1, -2) / math.sqrt(DH) + b
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape[0], S, H)
        a = ln(lin(ctx, w, f"{p}.attention.output.dense") + x, w, f"{p}.attention.output.LayerNorm")
        f = lin(torch.nn.functional.gelu(lin(a, w, f"{p}.intermediate.dense")), w, f"{p}.output.dense")
        if hooks is not None:
            d = torch.relu(f @ hooks[f"{hp}.adapter.down.weight"].T + hooks[f"{hp}.adapter.down.bias"])
            f = f + d @ hooks[f"{hp}.adapter.up.weight"].T + hooks[f"{hp}.adapter.up.bias"]
        x = ln(f + a, w, f"{p}.output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], w, "bert.pooler.dense"))
    return lin(pooled, w, "classifier")


MOD_D, MOD_PT, MOD_P, PA_SCALE = 3, 2, 5, 4.0


def init_mods():
    """Random non-zero tensors of the product's PEFT modules (our names), both layers."""
    w = {}
    for l in range(CFG["num_hidden_layers"]):
        for m in ("sa", "pa"):
            p = f"peft.layer.{l}.{m}"
            w[f"{p}.down.weight"] = torch.randn(MOD_D, H) * 0.1
            w[f"{p}.down.bias"] = torch.randn(MOD_D) * 0.05
            w[f"{p}.up.weight"] = torch.randn(H, MOD_D) * 0.1
            w[f"{p}.up.bias"] = torch.randn(H) * 0.05
    w["peft.pt.wte"] = torch.randn(MOD_PT, H)
    w["peft.pt.mlp.0.weight"] = torch.randn(MOD_P, H) * 0.2
    w["peft.pt.mlp.0.bias"] = torch.randn(MOD_P) * 0.1
    w["peft.pt.mlp.2.weight"] = torch.randn(2 * CFG["num_hidden_layers"] * H, MOD_P) * 0.2
    w["peft.pt.mlp.2.bias"] = torch.randn(2 * CFG["num_hidden_layers"] * H) * 0.05
    return w


def bottleneck(m, name, x):
    return torch.relu(x @ m[f"{name}.down.weight"].T + m[f"{name}.down.bias"]) @ m[f"{name}.up.weight"].T + m[f"{name}.up.bias"]


def forward_mods(w, ids, mask, tt, mods, m, flavour="bert", cfg=None):
    """The encoder with the product's modules: mods = set of 'sa_houlsby' | 'sa_pfeiffer' | 'pa' | 'ptmlp'."""
    cfg = cfg or CFG
    pre = flavour
    e = f"{pre}.embeddings"
    s = ids.shape[1]
    # RoBERTa: HF's create_position_ids_from_input_ids gives padding_idx + 1 + i to the tokens of a
    # right-padded row (the pads' own positions never reach [CLS]: they are masked keys).
    pos = torch.arange(s) + (cfg["pad_token_id"] + 1 if flavour == "roberta" else 0)
    x = w[f"{e}.word_embeddings.weight"][ids] + w[f"{e}.position_embeddings.weight"][pos] + w[f"{e}.token_type_embeddings.weight"][tt]
    x = ln(x, w, f"{e}.LayerNorm", cfg["layer_norm_eps"])
    bias = (1.0 - mask.to(torch.float32))[:, None, None, :] * torch.finfo(torch.float32).min
    kv = None
    if "ptmlp" in mods:
        kv = torch.tanh(m["peft.pt.wte"] @ m["peft.pt.mlp.0.weight"].T + m["peft.pt.mlp.0.bias"]) @ m["peft.pt.mlp.2.weight"].T + m["peft.pt.mlp.2.bias"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"{pre}.encoder.layer.{l}"
        hp = f"peft.layer.{l}"
        heads = lambda t: t.view(t.shape[0], t.shape[1], NH, DH).transpose(1, 2)
        q = heads(lin(x, w, f"{p}.attention.self.query"))
        k = heads(lin(x, w, f"{p}.attention.self.key"))
        v = heads(lin(x, w, f"{p}.attention.self.value"))
        b = bias
        if kv is not None:
            P = kv.shape[0]
            rows = lambda t: t.reshape(P, NH, DH).transpose(0, 1).unsqueeze(0).expand(x.shape[0], -1, -1, -1)
            k = torch.cat([rows(kv[:, 2 * l * H: 2 * l * H + H]), k], dim=2)
            v = torch.cat([rows(kv[:, 2 * l * H + H: 2 * l * H + 2 * H]), v], dim=2)
            b = torch.cat([torch.zeros(x.shape[0], 1, 1, P), bias], dim=3)
        scores = q @ k.transpose(-1, -2) / math.sqrt(DH) + b
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(x.shape[0], s, H)
        a = ln(lin(ctx, w, f"{p}.attention.output.dense") + x, w, f"{p}.attention.output.LayerNorm", cfg["layer_norm_eps"])
        f = lin(torch.nn.functional.gelu(lin(a, w, f"{p}.intermediate.dense")), w, f"{p}.output.dense")
        f0 = f
        if "pa" in mods:
            f = f + PA_SCALE * bottleneck(m, f"{hp}.pa", a)
        if "sa_houlsby" in mods:
            f = f + bottleneck(m, f"{hp}.sa", f)
        if "sa_pfeiffer" in mods:
            # modeling_sappa.Adapter: residual = f0, input = LN(f0 + a) (original_ln_before).
            f = f + bottleneck(m, f"{hp}.sa", ln(f0 + a, w, f"{p}.output.LayerNorm", cfg["layer_norm_eps"]))
        x = ln(f + a, w, f"{p}.output.LayerNorm", cfg["layer_norm_eps"])
    if flavour == "bert":
        return lin(torch.tanh(lin(x[:, 0], w, f"{pre}.pooler.dense")), w, "classifier")
    return lin(torch.tanh(lin(x[:, 0], w, "classifier.dense")), w, "classifier.out_proj")


RCFG = dict(vocab_size=40, hidden_size=H, num_hidden_layers=2, num_attention_heads=NH, intermediate_size=48,
            max_position_embeddings=S + 2, type_vocab_size=1, layer_norm_eps=1e-5, num_labels=2, pad_token_id=1)


def init_roberta():
    w = {}
    n = lambda name, *shape: w.__setitem__(name, torch.randn(*shape) * 0.1)
    z = lambda name, *shape: w.__setitem__(name, torch.randn(*shape) * 0.05)
    o = lambda name, *shape: w.__setitem__(name, 1 + torch.randn(*shape) * 0.05)
    e = "roberta.embeddings"
    I = RCFG["intermediate_size"]
    n(f"{e}.word_embeddings.weight", RCFG["vocab_size"], H)
    n(f"{e}.position_embeddings.weight", RCFG["max_position_embeddings"], H)
    n(f"{e}.token_type_embeddings.weight", 1, H)
    o(f"{e}.LayerNorm.weight", H); z(f"{e}.LayerNorm.bias", H)
    for l in range(RCFG["num_hidden_layers"]):
        p = f"roberta.encoder.layer.{l}"
        for k in ("query", "key", "value"):
            n(f"{p}.attention.self.{k}.weight", H, H); z(f"{p}.attention.self.{k}.bias", H)
        n(f"{p}.attention.output.dense.weight", H, H); z(f"{p}.attention.output.dense.bias", H)
        o(f"{p}.attention.output.LayerNorm.weight", H); z(f"{p}.attention.output.LayerNorm.bias", H)
        n(f"{p}.intermediate.dense.weight", I, H); z(f"{p}.intermediate.dense.bias", I)
        n(f"{p}.output.dense.weight", H, I); z(f"{p}.output.dense.bias", H)
        o(f"{p}.output.LayerNorm.weight", H); z(f"{p}.output.LayerNorm.bias", H)
    n("classifier.dense.weight", H, H); z("classifier.dense.bias", H)
    n("classifier.out_proj.weight", RCFG["num_labels"], H); z("classifier.out_proj.bias", RCFG["num_labels"])
    return w


MOD_CASES = {
    "pa": ({"pa"}, ("pa",)),
    "ptmlp": ({"ptmlp"}, ("pt",)),
    "sahoulsby_pa": ({"sa_houlsby", "pa"}, ("sa", "pa")),
    "sapfeiffer": ({"sa_pfeiffer"}, ("sa",)),
    "sapfeiffer_pa": ({"sa_pfeiffer", "pa"}, ("sa", "pa")),
}


def main():
    torch.set_num_threads(1)
    w0 = init_weights()
    h0 = init_hooks()
    ids = torch.randint(0, CFG["vocab_size"], (B, S))
    ids[0, 2] = ids[1, 5] = 7  # a repeated token: its embedding gradient accumulates
    lengths = [S, 5, 3]
    mask = torch.zeros(B, S, dtype=torch.int64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    tt = torch.zeros(B, S, dtype=torch.int64)
    tt[:, 4:] = 1
    labels = torch.tensor([0, 2, 1])

    tensors = []  # (key, tensor)
    for k, v in w0.items():
        tensors.append((f"weight/{k}", v))
    for k, v in h0.items():
        tensors.append((f"hookweight/{k}", v))

    # Case 1: full fine-tuning, every weight trainable.
    w = {k: v.clone().requires_grad_(True) for k, v in w0.items()}
    logits = forward(w, ids, mask, tt)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    tensors.append(("full/logits", logits.detach()))
    tensors.append(("full/loss", loss.detach().reshape(1)))
    for k, v in w.items():
        tensors.append((f"full/grad/{k}", v.grad))
    # Two AdamW steps (PyTorch semantics) from the same start.
    w = {k: v.clone().requires_grad_(True) for k, v in w0.items()}
    opt = torch.optim.AdamW(list(w.values()), lr=LR, weight_decay=WD, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(STEPS):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(forward(w, ids, mask, tt), labels).backward()
        opt.step()
    for k, v in w.items():
        tensors.append((f"adamw/{k}", v.detach()))

    # Case 2: hooks (adapter + prefix + LoRA) trainable with the classifier; the rest frozen.
    w = {k: v.clone().requires_grad_(k.startswith("classifier")) for k, v in w0.items()}
    h = {k: v.clone().requires_grad_(True) for k, v in h0.items()}
    logits = forward(w, ids, mask, tt, hooks=h)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    tensors.append(("hooks/logits", logits.detach()))
    tensors.append(("hooks/loss", loss.detach().reshape(1)))
    for k, v in h.items():
        tensors.append((f"hooks/grad/{k}", v.grad))
    for k in ("classifier.weight", "classifier.bias"):
        tensors.append((f"hooks/grad/{k}", w[k].grad))

    # Drawn after everything above, so the earlier cases' tensors stay as they were.
    m0 = init_mods()
    for k, v in m0.items():
        tensors.append((f"modweight/{k}", v))
    for case, (mods, owners) in MOD_CASES.items():
        w = {k: v.clone().requires_grad_(k.startswith("classifier")) for k, v in w0.items()}
        m = {k: v.clone().requires_grad_(True) for k, v in m0.items()
             if any(k.startswith(f"peft.layer.{l}.{o}.") for o in owners for l in range(CFG["num_hidden_layers"]))
             or ("pt" in owners and k.startswith("peft.pt."))}
        logits = forward_mods(w, ids, mask, tt, mods, m)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        tensors.append((f"{case}/logits", logits.detach()))
        tensors.append((f"{case}/loss", loss.detach().reshape(1)))
        for k, v in m.items():
            tensors.append((f"{case}/grad/{k}", v.grad))
        for k in ("classifier.weight", "classifier.bias"):
            tensors.append((f"{case}/grad/{k}", w[k].grad))

    # RoBERTa: full fine-tuning, pads carry padding_idx (as a tokenizer writes them).
    r0 = init_roberta()
    rids = torch.randint(3, RCFG["vocab_size"], (B, S))
    rids[0, 0] = rids[1, 0] = rids[2, 0] = 0  # <s>
    rids = torch.where(mask.bool(), rids, torch.full_like(rids, RCFG["pad_token_id"]))
    rlabels = torch.tensor([1, 0, 1])
    for k, v in r0.items():
        tensors.append((f"robertaweight/{k}", v))
    w = {k: v.clone().requires_grad_(True) for k, v in r0.items()}
    logits = forward_mods(w, rids, mask, torch.zeros_like(rids), set(), {}, flavour="roberta", cfg=RCFG)
    loss = torch.nn.functional.cross_entropy(logits, rlabels)
    loss.backward()
    tensors.append(("roberta/logits", logits.detach()))
    tensors.append(("roberta/loss", loss.detach().reshape(1)))
    for k, v in w.items():
        tensors.append((f"roberta/grad/{k}", v.grad))

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "oracle")
    os.makedirs(out, exist_ok=True)
    blob = bytearray()
    manifest = {
        "generator": "scripts/oracle/bert_oracle.py",
        "torch": torch.__version__,
        "config": CFG,
        "batch": B, "seq": S, "prefix": PREFIX, "bottleneck": BOTTLENECK, "rank": RANK, "loraScale": LORA_SCALE,
        "lr": LR, "weightDecay": WD, "steps": STEPS,
        "inputs": {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "token_type_ids": tt.tolist(), "labels": labels.tolist()},
        "modules": {"bottleneck": MOD_D, "prefix": MOD_PT, "ptBottleneck": MOD_P, "paScaling": PA_SCALE,
                    "cases": {k: sorted(v[0]) for k, v in MOD_CASES.items()}},
        "roberta": {"config": RCFG, "input_ids": rids.tolist(), "labels": rlabels.tolist()},
        "tensors": {},
    }
    for k, v in tensors:
        a = v.detach().contiguous().to(torch.float32).reshape(-1).tolist()
        manifest["tensors"][k] = {"offset": len(blob) // 4, "shape": list(v.shape)}
        blob += struct.pack(f"<{len(a)}f", *a)
    with open(os.path.join(out, "bert_tiny.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(out, "bert_tiny.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(tensors)} tensors, {len(blob)} bytes")


if __name__ == "__main__":
    main()

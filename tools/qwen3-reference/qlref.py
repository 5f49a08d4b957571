"""qlref -- helpers shared by the Qwen3 reference scripts (run on the GPU machine, with torch + transformers).

Builds random-init Qwen3 / Qwen3-MoE models with transformers, writes them as HF checkpoints in the official
tensor naming (per-expert MoE tensors, as the released Qwen3-30B-A3B), and reads / writes QLLOGITS files
(the layout of src/model/logits_file.h: magic "QLLOGITS", u32 version 1, n_seqs, V, D, n_hidden, then per
sequence u32 T, i32 ids[T], f32 logits[T][V], f32 hidden[n_hidden][T][D]; little-endian).
"""
import json
import os
import struct

import torch

MAGIC = b"QLLOGITS"
VERSION = 1


def write_logits(path, V, D, seqs):
    """seqs: list of (ids list, logits tensor T x V, hidden tensor n_hidden x T x D or None)."""
    n_hidden = 0 if seqs[0][2] is None else int(seqs[0][2].shape[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<8sIIIII", MAGIC, VERSION, len(seqs), V, D, n_hidden))
        for ids, logits, hidden in seqs:
            T = len(ids)
            assert tuple(logits.shape) == (T, V), logits.shape
            f.write(struct.pack("<I", T))
            f.write(struct.pack("<%di" % T, *ids))
            f.write(logits.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes())
            if n_hidden:
                assert tuple(hidden.shape) == (n_hidden, T, D), hidden.shape
                f.write(hidden.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes())


def read_logits(path):
    """Returns (V, D, [(ids, logits T x V tensor)])."""
    import numpy as np
    with open(path, "rb") as f:
        buf = f.read()
    magic, version, n_seqs, V, D, n_hidden = struct.unpack_from("<8sIIIII", buf, 0)
    assert magic == MAGIC and version == VERSION, (magic, version)
    off = 28
    seqs = []
    for _ in range(n_seqs):
        (T,) = struct.unpack_from("<I", buf, off)
        off += 4
        ids = list(struct.unpack_from("<%di" % T, buf, off))
        off += 4 * T
        logits = torch.from_numpy(np.frombuffer(buf, dtype="<f4", count=T * V, offset=off).copy()).view(T, V)
        off += 4 * T * V + 4 * n_hidden * T * D
        seqs.append((ids, logits))
    return V, D, seqs


def round_bf16_(model):
    """Rounds every parameter to a BF16 value in place (the model stays FP32: BF16 values are exact in FP32)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def perturb_norms_(model, gen, scale=0.2):
    """Norm weights start at 1.0 in transformers; random ones make a test see whether each norm is applied."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + scale * torch.randn(p.shape, generator=gen))


def legacy_state_dict(model, swap_gate_up=False):
    """The state dict in the official checkpoint naming. transformers 5 may keep MoE experts fused
    (mlp.experts.gate_up_proj: E x 2F x D, mlp.experts.down_proj: E x D x F); those are split per expert."""
    cfg = model.config
    out = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight" and getattr(cfg, "tie_word_embeddings", False):
            continue
        if k.endswith("mlp.experts.gate_up_proj") or k.endswith("mlp.experts.down_proj"):
            pre = k[: k.index("mlp.experts.") + len("mlp.experts.")]
            E, D, F = cfg.num_experts, cfg.hidden_size, cfg.moe_intermediate_size
            if k.endswith("gate_up_proj"):
                w = v if tuple(v.shape) == (E, 2 * F, D) else v.transpose(1, 2)
                assert tuple(w.shape) == (E, 2 * F, D), (k, v.shape)
                g, u = w[:, :F, :], w[:, F:, :]
                if swap_gate_up:
                    g, u = u, g
                for e in range(E):
                    out["%s%d.gate_proj.weight" % (pre, e)] = g[e]
                    out["%s%d.up_proj.weight" % (pre, e)] = u[e]
            else:
                w = v if tuple(v.shape) == (E, D, F) else v.transpose(1, 2)
                assert tuple(w.shape) == (E, D, F), (k, v.shape)
                for e in range(E):
                    out["%s%d.down_proj.weight" % (pre, e)] = w[e]
            continue
        out[k] = v
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def save_checkpoint(model, outdir, dtype, extra_config=None, tensors=None):
    """Writes config.json (transformers' own serialisation, plus extra_config keys) and model.safetensors with
    every tensor cast to dtype (tensors: a ready dict overriding the state dict, e.g. FP8 weights + scales)."""
    from safetensors.torch import save_file
    os.makedirs(outdir, exist_ok=True)
    model.config.save_pretrained(outdir)
    if extra_config:
        p = os.path.join(outdir, "config.json")
        with open(p) as f:
            c = json.load(f)
        c.update(extra_config)
        with open(p, "w") as f:
            json.dump(c, f, indent=2, sort_keys=True)
            f.write("\n")
    sd = tensors if tensors is not None else {k: v.to(dtype) for k, v in legacy_state_dict(model).items()}
    save_file(sd, os.path.join(outdir, "model.safetensors"), metadata={"format": "pt"})


def set_eager(cfg):
    try:
        cfg._attn_implementation = "eager"
    except Exception:  # older or newer config classes
        cfg.attn_implementation = "eager"


def forward(model, ids, hidden=True):
    """FP32 logits (T x V) and, if hidden, the stacked hidden states ((L + 1) x T x D) of one sequence."""
    with torch.no_grad():
        out = model(torch.tensor([ids], dtype=torch.long), output_hidden_states=hidden, use_cache=False)
    logits = out.logits[0].to(torch.float32)
    hs = torch.stack([h[0] for h in out.hidden_states]).to(torch.float32) if hidden else None
    return logits, hs


def rope_theta_of(model):
    """The rope base the model actually uses, recovered from its inv_freq buffer (inv_freq[1] = theta^(-2/d))."""
    inv = model.model.rotary_emb.inv_freq.double()
    d = 2 * inv.numel()
    return float(inv[1] ** (-d / 2.0))


def build_random(config_path, workdir, layers=0, name=None):
    """The random-weight checkpoint of a published config (check_real_shape, check_e02_real_shape): config.json
    as given (the published key set; quantization_config dropped, num_hidden_layers overridden by layers),
    torch.manual_seed(0) init, norm weights perturbed, every weight rounded to BF16 (real checkpoints are BF16)
    and written as BF16 model.safetensors. Returns (dir, config dict, the FP32 model holding the same values)."""
    import time
    from transformers import AutoConfig, AutoModelForCausalLM
    from safetensors.torch import save_file
    with open(config_path) as f:
        cj = json.load(f)
    cj.pop("quantization_config", None)
    if layers:
        cj["num_hidden_layers"] = layers
        if "max_window_layers" in cj:
            cj["max_window_layers"] = layers
    name = name or os.path.basename(config_path).replace(".json", "")
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cj, f, indent=2)
    t0 = time.time()
    cfg = AutoConfig.from_pretrained(d)
    set_eager(cfg)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).eval()
    perturb_norms_(model, torch.Generator().manual_seed(7), scale=0.1)
    round_bf16_(model)
    n_params = sum(p.numel() for p in model.parameters())
    print("%s: %s, %.3g params, rope theta in use %.6g, built in %.1f s" % (
        name, cj["architectures"][0], n_params, rope_theta_of(model), time.time() - t0), flush=True)
    sd = {k: v.to(torch.bfloat16) for k, v in legacy_state_dict(model).items()}
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    del sd
    print("%s: checkpoint written in %.1f s" % (name, time.time() - t0), flush=True)
    return d, cj, model

#!/usr/bin/env python3
"""make_fixtures -- the small Qwen3 fixtures of tests/fixtures/qwen3/, made by HF transformers.

Run on the GPU machine (torch + transformers 5.x; the GPU is not used: the reference runs in FP32 on the CPU
with eager attention, so TF32 or fused kernels cannot blur it):
    python3 tools/qwen3-reference/make_fixtures.py OUTDIR
Writes OUTDIR/{dense-f32,dense-bf16,dense-fp8,moe-bf16}/{config.json,model.safetensors,logits.bin} (and
dense-f16, the same model stored as F16, with --with-f16: a GPU-machine check, not a committed fixture) and
OUTDIR/provenance.json. Every model is random (torch.manual_seed(0), norm weights perturbed so that each norm
matters) and small (about 4.5 MB in all):
  dense-f32   Qwen3ForCausalLM, 2 layers, hidden 128, 4 heads / 2 kv heads (GQA 2:1), head_dim 64 (H*D_h = 256
              > hidden, as in Qwen3-0.6B), intermediate 256, vocab 384, untied lm_head, rope_theta 10000
  dense-bf16  the same model with every weight rounded to BF16, stored as BF16
  dense-fp8   the same model with each decoder Linear in Qwen's block FP8 (F8_E4M3 + weight_scale_inv per
              128 x 128 block, quantization_config fp8), the rest BF16; the reference logits are those of the
              FP32 model holding the dequantized weights (dequantize-on-load semantics)
  moe-bf16    Qwen3MoeForCausalLM, 2 layers (layer 0 dense via mlp_only_layers), 8 experts, top-2,
              norm_topk_prob, moe_intermediate 48, head_dim 32, tied embeddings, rope_theta 1e6; BF16 values
logits.bin holds two token sequences (24 and 16 tokens) with their FP32 logits and hidden states.
"""
import json
import os
import sys

import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qlref  # noqa: E402

V = 384
DENSE = dict(architectures=["Qwen3ForCausalLM"], vocab_size=V, hidden_size=128, intermediate_size=256,
             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
             max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
             attention_bias=False, hidden_act="silu", initializer_range=0.08, bos_token_id=1, eos_token_id=2)
MOE = dict(architectures=["Qwen3MoeForCausalLM"], vocab_size=V, hidden_size=128, intermediate_size=192,
           moe_intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
           head_dim=32, num_experts=8, num_experts_per_tok=2, norm_topk_prob=True, decoder_sparse_step=1,
           mlp_only_layers=[0], max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
           tie_word_embeddings=True, attention_bias=False, hidden_act="silu", initializer_range=0.08,
           bos_token_id=1, eos_token_id=[2, 3], output_router_logits=False)


def make_config(cls, d):
    cfg = cls(**d)
    # transformers 5 keeps the rope base in rope_parameters; make sure the value asked for is the one used.
    rp = getattr(cfg, "rope_parameters", None)
    if isinstance(rp, dict):
        rp["rope_theta"] = d["rope_theta"]
    qlref.set_eager(cfg)
    return cfg


def sequences():
    g = torch.Generator().manual_seed(1234)
    return [torch.randint(0, V, (24,), generator=g).tolist(), torch.randint(0, V, (16,), generator=g).tolist()]


def reference(model, outdir, seqs):
    D = model.config.hidden_size
    rows = []
    for ids in seqs:
        logits, hs = qlref.forward(model, ids)
        rows.append((ids, logits, hs))
    qlref.write_logits(os.path.join(outdir, "logits.bin"), V, D, rows)
    return rows


def reload_check(cls, outdir, rows):
    """Reloads the written checkpoint with from_pretrained and compares logits: proves the file (names, expert
    split) is what transformers itself reads as this model."""
    m = cls.from_pretrained(outdir, dtype=torch.float32, attn_implementation="eager").eval()
    worst = 0.0
    for ids, logits, _ in rows:
        l2, _ = qlref.forward(m, ids, hidden=False)
        worst = max(worst, (l2 - logits).abs().max().item())
    return worst


def fp8_block_quantize(w, block=128):
    """Qwen FP8: per 128 x 128 block scale = amax / 448 (FP32), q = E4M3(w / scale) (RNE, saturating),
    weight_scale_inv = scale, dequantized w' = q * scale."""
    N, K = w.shape
    sn, sk = (N + block - 1) // block, (K + block - 1) // block
    scale = torch.empty(sn, sk, dtype=torch.float32)
    q = torch.empty(N, K, dtype=torch.float8_e4m3fn)
    deq = torch.empty(N, K, dtype=torch.float32)
    for i in range(sn):
        for j in range(sk):
            blk = w[i * block:(i + 1) * block, j * block:(j + 1) * block].float()
            s = blk.abs().max().clamp(min=1e-12) / 448.0
            qb = (blk / s).clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
            scale[i, j] = s
            q[i * block:(i + 1) * block, j * block:(j + 1) * block] = qb
            deq[i * block:(i + 1) * block, j * block:(j + 1) * block] = qb.float() * s
    return q, scale, deq


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else "fixtures-qwen3"
    with_f16 = "--with-f16" in sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(min(16, os.cpu_count() or 1))
    seqs = sequences()
    report = {"transformers": transformers.__version__, "torch": torch.__version__, "seed": 0, "models": {}}

    # ---- dense, FP32 ----
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(7)
    dense = Qwen3ForCausalLM(make_config(Qwen3Config, DENSE)).float().eval()
    qlref.perturb_norms_(dense, g)
    theta = qlref.rope_theta_of(dense)
    print("dense: rope theta in use %.6g (asked %.6g)" % (theta, DENSE["rope_theta"]), flush=True)
    d = os.path.join(out, "dense-f32")
    qlref.save_checkpoint(dense, d, torch.float32)
    rows = reference(dense, d, seqs)
    report["models"]["dense-f32"] = {"reload_max_abs": reload_check(Qwen3ForCausalLM, d, rows), "theta": theta}

    # ---- dense, FP8 block (from the FP32 weights; the rest rounded to BF16) ----
    fp8 = Qwen3ForCausalLM(make_config(Qwen3Config, DENSE)).float().eval()
    fp8.load_state_dict(dense.state_dict())
    qlref.round_bf16_(fp8)
    tensors = {}
    with torch.no_grad():
        for name, p in fp8.named_parameters():
            key = name
            if any(key.endswith(s) for s in ("_proj.weight",)) and ".layers." in key:
                src = dict(dense.named_parameters())[name].detach()
                q, s, deq = fp8_block_quantize(src)
                p.copy_(deq)
                tensors[key] = q.contiguous()
                tensors[key + "_scale_inv"] = s.contiguous()
            else:
                tensors[key] = p.detach().to(torch.bfloat16).contiguous().clone()
    d = os.path.join(out, "dense-fp8")
    qlref.save_checkpoint(fp8, d, None, extra_config={"quantization_config": {
        "activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}},
        tensors=tensors)
    reference(fp8, d, seqs)
    report["models"]["dense-fp8"] = {"note": "reference = FP32 model with the dequantized weights"}

    # ---- dense, F16 (only with --with-f16: checked on the GPU machine by check_fixtures.py, not committed,
    # since the committed fixtures are held under 5 MB) ----
    if with_f16:
        f16 = Qwen3ForCausalLM(make_config(Qwen3Config, DENSE)).float().eval()
        f16.load_state_dict(dense.state_dict())
        with torch.no_grad():
            for prm in f16.parameters():
                prm.copy_(prm.half().float())
        d = os.path.join(out, "dense-f16")
        qlref.save_checkpoint(f16, d, torch.float16)
        rows = reference(f16, d, seqs)
        report["models"]["dense-f16"] = {"reload_max_abs": reload_check(Qwen3ForCausalLM, d, rows)}

    # ---- dense, BF16 ----
    qlref.round_bf16_(dense)
    d = os.path.join(out, "dense-bf16")
    qlref.save_checkpoint(dense, d, torch.bfloat16)
    rows = reference(dense, d, seqs)
    report["models"]["dense-bf16"] = {"reload_max_abs": reload_check(Qwen3ForCausalLM, d, rows)}

    # ---- MoE, BF16 values ----
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(11)
    moe = Qwen3MoeForCausalLM(make_config(Qwen3MoeConfig, MOE)).float().eval()
    qlref.perturb_norms_(moe, g)
    qlref.round_bf16_(moe)
    print("moe: parameter names:", [n for n, _ in moe.named_parameters()][:40], flush=True)
    d = os.path.join(out, "moe-bf16")
    qlref.save_checkpoint(moe, d, torch.bfloat16)
    rows = reference(moe, d, seqs)
    worst = reload_check(Qwen3MoeForCausalLM, d, rows)
    if worst > 1e-4:
        # A fused gate_up layout with the halves the other way round: write the split the other way.
        print("moe: reload differs by %g; retrying with gate/up halves swapped" % worst, flush=True)
        from safetensors.torch import save_file
        sd = {k: v.to(torch.bfloat16) for k, v in qlref.legacy_state_dict(moe, swap_gate_up=True).items()}
        save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        worst = reload_check(Qwen3MoeForCausalLM, d, rows)
    report["models"]["moe-bf16"] = {"reload_max_abs": worst}

    with open(os.path.join(out, "provenance.json"), "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(report, indent=2, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Train qwen3-tiny-moe, the project's embedded Qwen3-MoE model, in one GPU call.

The recipe of train.py, whose functions this script imports: the same corpus (sha256 pinned there), split,
tokenizer (models/qwen3-tiny-moe holds a copy of qwen3-tiny's), document shuffle, random 2049-token windows
from a seeded CUDA generator, fp32 master weights with bf16 autocast, AdamW (betas 0.9/0.95, weight decay on
matrices), linear warmup and cosine decay, gradient clipping at 1.0, and the validation-perplexity protocol
(train.py's docstring states it). What differs, and why:

- The model is Qwen3MoeForCausalLM with models/qwen3-tiny-moe/config.json (the key set of Qwen3-30B-A3B:
  num_experts, num_experts_per_tok, moe_intermediate_size, norm_topk_prob, router_aux_loss_coef,
  decoder_sparse_step 1, mlp_only_layers []). The router weights are drawn normal(0, initializer_range) from
  a generator seeded with --seed + 3 (some transformers versions start the router at zero, where every token
  ties and goes to the same experts); every other weight keeps transformers' initialization under
  torch.manual_seed(--seed).
- Loss = cross-entropy + router_aux_loss_coef * the load-balancing loss of transformers'
  load_balancing_loss_func (the term Qwen3MoeForCausalLM adds when output_router_logits is set: router
  logits of all layers concatenated, E * sum_e (fraction of top-k slots on e) * (mean router probability of e)).
- For speed the MoE blocks train through moe_block_forward below, the same function as transformers'
  Qwen3MoeSparseMoeBlock (router logits x R^T, softmax in FP32, top-k, renormalized when norm_topk_prob,
  SwiGLU experts on the rows routed to each, weighted sum) with one host sync per layer instead of one per
  expert. Every number of the model card comes from transformers' own Qwen3MoeForCausalLM, loaded by
  from_pretrained from the saved BF16 checkpoint, unpatched, in FP32 (TF32 off).
- --steps 0 sizes the run to --train-seconds: the mean time of steps 11..30 fixes the step count (a multiple
  of 50) before the cosine decay starts (warmup is longer than 30 steps); the count is recorded and
  `--steps N` reruns that schedule.
- The expert load: for each layer and expert, the tokens whose top-k includes that expert, counted by
  transformers' reference model over every position of the validation windows and of the 64 training-sample
  windows (expert_load.tsv).

Writes to --out: model-0000k-of-0000n.safetensors shards (each under 15 MB: the GPU machine returns at most 8
files of 16 MiB, 64 MiB in all) + model.safetensors.index.json, train_log.tsv, train_results.json,
expert_load.tsv and reference_logits.bin (train.py's QLLOGIT1 format). The shards use the official per-expert
tensor names (model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight), as the released Qwen3-30B-A3B.

Usage (GPU machine): PYTHONUNBUFFERED=1 python3 tools/train-tiny/train_moe.py --out $OUT [--steps N]
Smoke test (any CUDA machine, ~1 min): --toy --corpus SMALL.txt.xz --out /tmp/toy (a 2-layer toy config, the
corpus hash not checked, short windows; exercises every stage).
"""

import argparse
import hashlib
import json
import lzma
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "qwen3-reference"))
import train as dense  # noqa: E402  (the qwen3-tiny recipe: corpus, split, eval, generation, shards)
import qlref  # noqa: E402  (the official per-expert checkpoint naming)

log = dense.log
TOY = dict(hidden_size=64, intermediate_size=192, moe_intermediate_size=32, num_hidden_layers=2,
           max_window_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=32, num_experts=8,
           num_experts_per_tok=2)


class Router:
    """Router logits of the current training forward, for the load-balancing loss."""
    record = False
    logits = []


def load_balancing_loss(gate_logits, num_experts, top_k):
    """transformers' load_balancing_loss_func (Switch Transformer eq. 4-6, as in Qwen3MoeForCausalLM) with no
    attention mask: used only if that function cannot be imported."""
    cat = torch.cat(gate_logits, dim=0)
    p = F.softmax(cat, dim=-1, dtype=torch.float)
    _, sel = torch.topk(p, top_k, dim=-1)
    mask = F.one_hot(sel, num_experts)
    tokens_per_expert = mask.float().mean(dim=0)
    prob_per_expert = p.mean(dim=0)
    return (tokens_per_expert * prob_per_expert.unsqueeze(0)).sum() * num_experts


def expert_weights(mlp, cfg):
    """Per-expert (gate, up, down) weight getters for both transformers layouts: fused 3-D parameters
    (experts.gate_up_proj E x 2F x D, experts.down_proj E x D x F; transformers 5) or a ModuleList of MLPs."""
    E, D, Fm = cfg.num_experts, cfg.hidden_size, cfg.moe_intermediate_size
    ex = mlp.experts
    if hasattr(ex, "gate_up_proj"):
        if tuple(ex.gate_up_proj.shape) != (E, 2 * Fm, D) or tuple(ex.down_proj.shape) != (E, D, Fm):
            sys.exit("unexpected fused expert shapes %s %s" % (tuple(ex.gate_up_proj.shape),
                                                                tuple(ex.down_proj.shape)))
        return lambda e: (ex.gate_up_proj[e][:Fm], ex.gate_up_proj[e][Fm:], ex.down_proj[e]), "fused"
    return lambda e: (ex[e].gate_proj.weight, ex[e].up_proj.weight, ex[e].down_proj.weight), "modulelist"


def moe_block_forward(mlp, cfg, returns_tuple):
    """The training forward of one Qwen3MoeSparseMoeBlock (see the docstring)."""
    E, k, norm = cfg.num_experts, cfg.num_experts_per_tok, cfg.norm_topk_prob
    wts, _ = expert_weights(mlp, cfg)
    gate_w = mlp.gate.weight

    def fwd(hidden_states):
        shape = hidden_states.shape
        x = hidden_states.reshape(-1, shape[-1])
        logits = F.linear(x, gate_w)
        if Router.record:
            Router.logits.append(logits)
        p = F.softmax(logits, dim=-1, dtype=torch.float)
        w, idx = torch.topk(p, k, dim=-1)
        if norm:
            w = w / w.sum(dim=-1, keepdim=True)
        w = w.to(x.dtype)
        flat = idx.reshape(-1)
        order = torch.argsort(flat, stable=True)
        tok = order // k
        counts = torch.bincount(flat, minlength=E).tolist()  # the one host sync of the layer
        xs = x[tok]
        ys, s = [], 0
        for e, c in enumerate(counts):
            if c == 0:
                continue
            g, u, d = wts(e)
            xe = xs[s: s + c]
            ys.append(F.linear(F.silu(F.linear(xe, g)) * F.linear(xe, u), d))
            s += c
        y = torch.cat(ys) * w.reshape(-1)[order].unsqueeze(-1)
        out = torch.zeros(x.shape[0], x.shape[1], dtype=y.dtype, device=x.device).index_add_(0, tok, y)
        out = out.to(hidden_states.dtype).reshape(shape)
        return (out, logits) if returns_tuple else out
    return fwd


def patch_moe(model, cfg):
    """Installs moe_block_forward on every sparse block; returns (number patched, layout, tuple output)."""
    n, layout, tup = 0, "?", False
    for layer in model.model.layers:
        mlp = layer.mlp
        if not hasattr(mlp, "gate") or not hasattr(mlp, "experts"):
            continue
        with torch.no_grad():
            probe = mlp(torch.randn(1, 3, cfg.hidden_size, device=mlp.gate.weight.device))
        tup = isinstance(probe, tuple)
        _, layout = expert_weights(mlp, cfg)
        mlp.forward = moe_block_forward(mlp, cfg, tup)
        n += 1
    return n, layout, tup


def unpatch_moe(model):
    for layer in model.model.layers:
        if "forward" in layer.mlp.__dict__:
            del layer.mlp.forward


class ExpertCounter:
    """Forward hooks on each router (mlp.gate): counts, per layer and expert, the rows whose top-k (of the
    FP32 softmax of x R^T) includes the expert. target selects the table being filled (None: off)."""

    def __init__(self, model, cfg):
        self.E, self.k = cfg.num_experts, cfg.num_experts_per_tok
        self.tables, self.target, self.handles = {}, None, []
        for li, layer in enumerate(model.model.layers):
            if hasattr(layer.mlp, "gate"):
                self.handles.append(layer.mlp.gate.register_forward_hook(self.hook(li)))

    def hook(self, li):
        def f(module, inputs, output):
            if self.target is None:
                return
            x = inputs[0]
            x = x.reshape(-1, x.shape[-1])
            p = F.softmax(F.linear(x, module.weight), dim=-1, dtype=torch.float)
            sel = torch.topk(p, self.k, dim=-1).indices.reshape(-1)
            t = self.tables.setdefault(self.target, {})
            c = torch.bincount(sel, minlength=self.E).cpu()
            t[li] = t[li] + c if li in t else c
        return f


def build_config(a):
    from transformers import Qwen3MoeConfig
    cfg = Qwen3MoeConfig.from_pretrained(a.model_dir)
    if a.toy:
        for key, v in TOY.items():
            setattr(cfg, key, v)
            if key == "num_experts" and hasattr(cfg, "num_local_experts"):
                cfg.num_local_experts = v
    cfg._attn_implementation = "sdpa"
    if cfg.hidden_act != "silu" or cfg.decoder_sparse_step != 1 or list(cfg.mlp_only_layers or []):
        sys.exit("%s: expected silu, decoder_sparse_step 1, mlp_only_layers []" % a.model_dir)
    return cfg


def from_pretrained(cls, d):
    try:
        return cls.from_pretrained(d, dtype=torch.float32, attn_implementation="sdpa")
    except TypeError:  # transformers 4.x spells it torch_dtype
        return cls.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="sdpa")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="devcarry/moe/train.txt.xz")
    ap.add_argument("--model-dir", default="models/qwen3-tiny-moe")

    def own_first(p):
        p.add_argument("--ckpt-dir", default="/tmp/qwen3-tiny-moe-ckpt",
                       help="where the single-file checkpoint for the from_pretrained reload is written")
        p.add_argument("--steps", type=int, default=0, help="0: fit --train-seconds")
        p.add_argument("--train-seconds", type=float, default=360.0)

    def own_last(p):
        p.add_argument("--time-limit", type=float, default=0.0,
                       help="stop training early (and say so) past this many s (default train-seconds + 45)")

    dense.add_common_args(ap, own_first, own_last)
    ap.add_argument("--toy", action="store_true", help="smoke test: toy config, corpus hash not checked")
    a = ap.parse_args()
    if a.time_limit <= 0:
        a.time_limit = a.train_seconds + 45.0
    t0 = dense.setup_torch(a)

    import transformers
    from transformers import Qwen3MoeForCausalLM
    try:
        from transformers.models.qwen3_moe.modeling_qwen3_moe import load_balancing_loss_func as hf_lb
    except ImportError:
        hf_lb = None
    lb_src = "train_moe.load_balancing_loss (transformers' formula; theirs could not be imported or called)"
    use_hf_lb = False
    log("torch", torch.__version__, "transformers", transformers.__version__,
        "device", torch.cuda.get_device_name(0))

    # ---- data and tokenizer (train.py's) ------------------------------------
    if a.toy:
        dense.CORPUS_SHA256 = hashlib.sha256(lzma.open(a.corpus).read()).hexdigest()
    d = dense.prepare_data(a, t0)
    V, val_ids, data, n_train_tok = d.V, d.val_ids, d.data, d.n_train_tok

    # ---- model --------------------------------------------------------------
    cfg = build_config(a)
    if cfg.vocab_size != V:
        sys.exit("config vocab_size %d != tokenizer %d" % (cfg.vocab_size, V))
    E, K = cfg.num_experts, cfg.num_experts_per_tok
    model = Qwen3MoeForCausalLM(cfg).float().cuda()
    gr = torch.Generator(device="cpu").manual_seed(a.seed + 3)
    with torch.no_grad():
        for layer in model.model.layers:
            w = layer.mlp.gate.weight
            w.copy_(torch.randn(w.shape, generator=gr) * cfg.initializer_range)
    n_params = sum(p.numel() for p in model.parameters())
    Dm, Fm = cfg.hidden_size, cfg.moe_intermediate_size
    n_expert_params = cfg.num_hidden_layers * E * 3 * Dm * Fm
    n_active = n_params - n_expert_params + cfg.num_hidden_layers * K * 3 * Dm * Fm
    for layer in model.model.layers:
        if tuple(layer.mlp.gate.weight.shape) != (E, cfg.hidden_size):
            sys.exit("router shape %s, expected (%d, %d)" % (tuple(layer.mlp.gate.weight.shape), E,
                                                             cfg.hidden_size))
    n_patched, layout, tup = patch_moe(model, cfg)
    log("model: %d parameters (unique; %d in experts; %d active per token), attn %s, tied %s, "
        "%d MoE blocks patched (experts %s, block returns %s)" %
        (n_params, n_expert_params, n_active, model.config._attn_implementation,
         model.lm_head.weight is model.model.embed_tokens.weight, n_patched, layout,
         "tuple" if tup else "tensor"))
    if n_patched != cfg.num_hidden_layers:
        sys.exit("expected %d sparse blocks, patched %d" % (cfg.num_hidden_layers, n_patched))
    opt = dense.make_optimizer(model, a)

    # ---- training -----------------------------------------------------------
    T, B = a.seq, a.batch
    coef = float(cfg.router_aux_loss_coef)
    auto = a.steps <= 0
    if auto:
        a.steps = 10 ** 9  # fixed at step 30, before the cosine starts
        if a.warmup < 30:
            sys.exit("--steps 0 needs --warmup >= 30 (the count is fixed at step 30)")
    tsv = open(os.path.join(a.out, "train_log.tsv"), "w")
    tsv.write("# step\ttokens\tlr\ttrain_loss\tval_loss\telapsed_s\taux_loss\n")
    gs = torch.Generator(device="cuda").manual_seed(a.seed + 1)
    ar = torch.arange(T + 1, device="cuda")
    t_train = time.time()
    acc, acc_aux, acc_n, step, stopped_early, t10, sec_per_step = 0.0, 0.0, 0, 0, False, None, None
    model.train()
    step = -1
    while step + 1 < a.steps:
        step += 1
        for grp in opt.param_groups:
            grp["lr"] = dense.lr_at(step, a)
        st = torch.randint(0, n_train_tok - T - 1, (B, 1), generator=gs, device="cuda")
        w = data[st + ar].long()
        x, y = w[:, :-1], w[:, 1:]
        Router.logits, Router.record = [], True
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=x).logits
        Router.record = False
        ce = F.cross_entropy(logits.float().view(-1, V), y.reshape(-1))
        if step == 0 and hf_lb is not None:
            # Use transformers' function, after checking it against the formula written here.
            try:
                a_hf = float(hf_lb(tuple(Router.logits), E, K, None))
                a_own = float(load_balancing_loss(tuple(Router.logits), E, K))
                log("load-balancing loss at step 0: transformers %.6f, train_moe %.6f (uniform routing: %d)" %
                    (a_hf, a_own, K))
                if abs(a_hf - a_own) > 1e-3 * max(1.0, abs(a_own)):
                    sys.exit("transformers' load_balancing_loss_func disagrees with the formula here")
                use_hf_lb = True
                lb_src = "transformers.models.qwen3_moe.modeling_qwen3_moe.load_balancing_loss_func"
            except (TypeError, AttributeError) as ex:
                log("transformers' load_balancing_loss_func not usable (%s): using the same formula here" % ex)
        if use_hf_lb:
            aux = hf_lb(tuple(Router.logits), E, K, None)
        else:
            aux = load_balancing_loss(tuple(Router.logits), E, K)
        Router.logits = []
        loss = ce + coef * aux
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        acc += ce.detach()
        acc_aux += aux.detach()
        acc_n += 1
        if auto and step + 1 == 10:
            torch.cuda.synchronize()
            t10 = time.time()
        if auto and step + 1 == 30:
            torch.cuda.synchronize()
            sec_per_step = (time.time() - t10) / 20
            n = int(0.96 * a.train_seconds / sec_per_step) // 50 * 50
            a.steps = max(50, n)
            log("measured %.4f s/step over steps 11..30: %d steps fit %.0f s" %
                (sec_per_step, a.steps, a.train_seconds))
        last = step == a.steps - 1
        if (step + 1) % a.log_every == 0 or last:
            tl, al = (acc / acc_n).item(), (acc_aux / acc_n).item()
            acc, acc_aux, acc_n = 0.0, 0.0, 0
            vl = ""
            if (step + 1) % a.eval_every == 0 or last:
                model.eval()
                s_, c_ = dense.window_nll(model, val_ids, T, a.eval_windows, False)
                model.train()
                vl = "%.5f" % (s_ / c_)
            el = time.time() - t_train
            tsv.write("%d\t%d\t%.6g\t%.5f\t%s\t%.1f\t%.5f\n" %
                      (step + 1, (step + 1) * B * T, dense.lr_at(step, a), tl, vl, el, al))
            tsv.flush()
            if (step + 1) % (a.log_every * 10) == 0 or vl:
                log("step %5d loss %.4f aux %.4f val %s lr %.2e %.1fs %.0f tok/s" %
                    (step + 1, tl, al, vl or "-", dense.lr_at(step, a), el, (step + 1) * B * T / el))
            if el > a.time_limit and not last:
                stopped_early = True
                log("time limit reached at step %d: stopping early" % (step + 1))
                break
    steps_done = step + 1
    train_s = time.time() - t_train
    tsv.close()
    log("trained %d steps in %.1fs, peak GPU memory %.1f GiB" %
        (steps_done, train_s, torch.cuda.max_memory_allocated() / 2**30))

    # ---- save BF16, official per-expert names --------------------------------
    model.eval()
    unpatch_moe(model)
    qlref.round_bf16_(model)  # the model now holds exactly the saved values (transformers' own forward)
    sd = {k: v.to(torch.bfloat16).cpu() for k, v in qlref.legacy_state_dict(model).items()}
    n_shards = dense.save_shards(sd, a.out)
    log("saved %d tensors in %d shards" % (len(sd), n_shards))
    from safetensors.torch import save_file
    os.makedirs(a.ckpt_dir, exist_ok=True)
    cfg.save_pretrained(a.ckpt_dir)
    save_file(sd, os.path.join(a.ckpt_dir, "model.safetensors"), metadata={"format": "pt"})

    # ---- reference: transformers' model from the saved file, FP32 ------------
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    ref = from_pretrained(Qwen3MoeForCausalLM, a.ckpt_dir).cuda().eval()
    fixed = val_ids[:64]
    xin = torch.tensor([fixed], device="cuda")
    with torch.no_grad():
        lg = ref(input_ids=xin).logits[0].float()
        lg_mem = model(input_ids=xin).logits[0].float()
    reload_diff = (lg - lg_mem).abs().max().item()
    log("reload (from_pretrained of the saved per-expert file) vs the trained model: max |dlogit| %.3g" %
        reload_diff)
    if reload_diff > 1e-3:
        sys.exit("the saved checkpoint does not reload as the trained model (max |dlogit| %g)" % reload_diff)
    del model, opt
    torch.cuda.empty_cache()

    counter = ExpertCounter(ref, cfg)
    counter.target = "val"
    vs, vc = dense.window_nll(ref, val_ids, T, 0, True)
    counter.target = None
    vs16, vc16 = dense.window_nll(ref, val_ids, T, 0, False)
    gt = torch.Generator(device="cuda").manual_seed(a.seed + 2)
    st = torch.randint(0, n_train_tok - T - 1, (64, 1), generator=gt, device="cuda")
    tw = data[st + ar[:T]].long().cpu().tolist()
    counter.target = "train"
    ts, tc = dense.window_nll(ref, [t for w_ in tw for t in w_], T, 0, True)
    counter.target = None
    log("final (bf16 weights, fp32 math): val loss %.5f ppl %.4f over %d tokens; train-sample loss %.5f;"
        " val ppl with bf16 autocast %.4f" %
        (vs / vc, math.exp(vs / vc), vc, ts / tc, math.exp(vs16 / vc16)))

    # Expert load table.
    load_rows, load_summary = [], []
    for li in range(cfg.num_hidden_layers):
        cv, ct = counter.tables["val"][li], counter.tables["train"][li]
        nv, nt = int(cv.sum()) // K, int(ct.sum()) // K  # rows (tokens) seen by the layer
        for e in range(E):
            load_rows.append((li, e, int(cv[e]), int(cv[e]) / nv, int(ct[e]), int(ct[e]) / nt))
        fr = (cv.double() / nv).tolist()
        load_summary.append({"layer": li, "val_tokens": nv, "min_frac": min(fr), "max_frac": max(fr),
                             "min_expert": int(cv.argmin()), "max_expert": int(cv.argmax()),
                             "cv": float(torch.tensor(fr).std(unbiased=False) / torch.tensor(fr).mean())})
        log("expert load layer %d (val, fraction of tokens per expert; uniform %.4f): %s" %
            (li, K / E, " ".join("%.3f" % f for f in fr)))
    with open(os.path.join(a.out, "expert_load.tsv"), "w") as f:
        f.write("# layer\texpert\tval_tokens\tval_frac\ttrain_tokens\ttrain_frac\n")
        for r in load_rows:
            f.write("%d\t%d\t%d\t%.6f\t%d\t%.6f\n" % r)

    dense.write_reference_logits(os.path.join(a.out, "reference_logits.bin"), fixed, V, lg)
    gens = dense.generations(ref, d, a)

    res = {
        "args": vars(a), "config": {k: getattr(cfg, k) for k in TOY}, "split": d.split, "vocab": V,
        "n_params": n_params, "n_expert_params": n_expert_params, "n_active_params_per_token": n_active,
        "train_tokens_available": n_train_tok, "train_tokens_seen": steps_done * B * T,
        "steps": steps_done, "steps_auto": auto, "sec_per_step_measured": sec_per_step,
        "stopped_early": stopped_early, "train_seconds": round(train_s, 1),
        "router_aux_loss_coef": coef, "aux_loss_function": lb_src,
        "moe_training_forward": "train_moe.moe_block_forward (experts %s)" % layout,
        "roundtrip_failures": len(d.bad), "roundtrip_texts": d.n_texts,
        "val_tokens": len(val_ids), "val_ids_sha256_int32le": dense.sha256_bytes(d.vbuf),
        "val_ids_first64": val_ids[:64],
        "val_ppl_protocol": "validation bytes [split_offset, corpus_bytes) of train.txt, tokenized in one "
            "piece without special tokens; n = len//%d non-overlapping windows of %d tokens (tail dropped); "
            "each window scores its %d next-token predictions; ppl = exp(mean NLL over n*%d tokens); BF16 "
            "weights upcast to fp32, fp32 math; transformers Qwen3MoeForCausalLM from_pretrained of the saved "
            "checkpoint" % (T, T, T - 1, T - 1),
        "val_windows": len(val_ids) // T, "val_scored_tokens": vc,
        "val_loss": vs / vc, "val_ppl": math.exp(vs / vc), "val_ppl_bf16_autocast": math.exp(vs16 / vc16),
        "train_sample_loss": ts / tc,
        "train_sample_protocol": "64 windows of %d tokens at offsets drawn by torch cuda generator seed %d "
            "from the training stream, fp32 math" % (T, a.seed + 2),
        "reload_max_abs_dlogit": reload_diff,
        "expert_load_protocol": "per layer and expert, the tokens whose top-%d (FP32 softmax of the router "
            "logits) includes the expert, over every position of the %d validation windows (val) and of the "
            "64 training-sample windows (train); frac = tokens / tokens seen by the layer (sums to %d; "
            "uniform %.4f)" % (K, len(val_ids) // T, K, K / E),
        "expert_load_summary": load_summary,
        "reference_logits": {"file": "reference_logits.bin", "ids": fixed, "format": dense.REFERENCE_LOGITS_FORMAT},
        "generations": gens,
        "torch": torch.__version__, "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name(0), "total_seconds": round(time.time() - t0, 1),
    }
    tmp = os.path.join(a.out, "train_results.json.tmp")
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    os.replace(tmp, os.path.join(a.out, "train_results.json"))
    log("done in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()

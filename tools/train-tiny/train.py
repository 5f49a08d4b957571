#!/usr/bin/env python3
"""Train qwen3-tiny, the project's embedded default model, in one GPU call.

Everything the C engine will later be checked against is computed here and
written to --out: the BF16 weights (as shards small enough to come back from
the GPU machine; merge_shards.py joins them), the loss curve, the validation
perplexity under an exact protocol, greedy and sampled generations with their
token ids, and the fp32 logits of a fixed 64-token sequence.

Data. The corpus is /work/shared/corpus/train.txt.xz (sha256 of the
uncompressed text pinned below). The validation split is a contiguous tail:
let N be the byte length of train.txt; the split offset S is the first byte
after a '\n' at or after floor(0.99 * N), so validation = bytes [S, N) (it
starts at a paragraph) and training = bytes [0, S). Training documents are the
pieces of [0, S) split on "\n\n"; they are shuffled with the seed and each is
followed by <|endoftext|>. Training windows of T+1 tokens are drawn at uniform
random offsets of that token stream (seeded torch generator).

Validation perplexity protocol (the one of GPTQ and of e02-perplexity):
tokenize the validation text in one piece, with no special tokens; cut the ids
into n = len // T non-overlapping windows of T tokens (the tail is dropped);
in each window score the T-1 next-token predictions; ppl = exp(mean NLL) over
all n * (T-1) scored tokens. The reference value is computed with the saved
BF16 weights upcast to fp32 and fp32 arithmetic (no autocast).

Usage (GPU machine): PYTHONUNBUFFERED=1 python3 train.py --out $OUT [--steps N]
"""

import argparse
import hashlib
import json
import lzma
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

CORPUS_SHA256 = "7face20c7382c40d9444337cf93ff18e2c96f43b38a31be1c7682dcd71a6b07a"
PROMPTS = [
    "It was a dark and stormy night, and",
    "The old house stood at the end of the lane.",
    "\"I do not think,\" said Mr.",
    "She opened the letter and read:",
    "In the morning the village was",
]
SHARD_BYTES = 15_000_000
LOGITS_MAGIC = b"QLLOGIT1"


def log(*a):
    print(*a, flush=True)


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def load_corpus(path):
    """Decompress, verify the pinned hash, split into train docs and val."""
    raw = lzma.open(path).read()
    h = sha256_bytes(raw)
    if h != CORPUS_SHA256:
        sys.exit("corpus sha256 mismatch: %s" % h)
    n = len(raw)
    s = raw.index(b"\n", (n * 99) // 100) + 1
    train_b, val_b = raw[:s], raw[s:]
    split = {"corpus_bytes": n, "split_offset": s, "val_bytes": n - s,
             "val_sha256": sha256_bytes(val_b),
             "train_sha256": sha256_bytes(train_b), "corpus_sha256": h}
    train_docs = [d for d in train_b.decode("utf-8").split("\n\n") if d]
    return train_docs, val_b.decode("utf-8"), split


def roundtrip(tok, texts):
    """Byte-for-byte decode(encode(x)) == x over every text; count failures."""
    encs = tok.encode_batch(texts, add_special_tokens=False)
    ids = [e.ids for e in encs]
    decs = tok.decode_batch(ids, skip_special_tokens=False)
    bad = [i for i, (a, b) in enumerate(zip(texts, decs)) if a != b]
    return ids, bad


def lr_at(step, a):
    """Linear warmup to the peak, then cosine down to min_lr_frac of it."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 *
                   (1 + math.cos(math.pi * min(1.0, p))))


@torch.no_grad()
def window_nll(model, ids, T, max_windows, fp32, bs=8):
    """Sum of NLL and count over non-overlapping T-windows (T-1 scored each)."""
    n = len(ids) // T
    if max_windows:
        n = min(n, max_windows)
    x = torch.tensor(ids[: n * T], dtype=torch.long, device="cuda").view(n, T)
    tot, cnt = 0.0, 0
    for i in range(0, n, bs):
        xb = x[i: i + bs]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=not fp32):
            logits = model(input_ids=xb).logits
        nll = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)),
                              xb[:, 1:].reshape(-1), reduction="sum")
        tot += nll.item()
        cnt += xb.size(0) * (T - 1)
    return tot, cnt


@torch.no_grad()
def greedy(model, prompt_ids, n_new, stop_ids):
    ids = list(prompt_ids)
    for _ in range(n_new):
        x = torch.tensor([ids], device="cuda")
        nxt = int(model(input_ids=x).logits[0, -1].float().argmax())
        ids.append(nxt)
        if nxt in stop_ids:
            break
    return ids[len(prompt_ids):]


@torch.no_grad()
def sample(model, prompt_ids, n_new, stop_ids, seed, temp, top_k):
    g = torch.Generator(device="cpu").manual_seed(seed)
    ids = list(prompt_ids)
    for _ in range(n_new):
        x = torch.tensor([ids], device="cuda")
        lg = model(input_ids=x).logits[0, -1].float().cpu() / temp
        v, ix = torch.topk(lg, top_k)
        p = torch.softmax(v.double(), -1)
        nxt = int(ix[torch.multinomial(p, 1, generator=g)])
        ids.append(nxt)
        if nxt in stop_ids:
            break
    return ids[len(prompt_ids):]


def save_shards(sd, out):
    """BF16 safetensors shards <= SHARD_BYTES each plus the HF index."""
    from safetensors.torch import save_file
    groups, cur, size = [], [], 0
    for k, v in sd.items():
        nb = v.numel() * v.element_size()
        if cur and size + nb > SHARD_BYTES:
            groups.append(cur)
            cur, size = [], 0
        cur.append(k)
        size += nb
    groups.append(cur)
    wmap, total = {}, 0
    for i, g in enumerate(groups):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, len(groups))
        save_file({k: sd[k].contiguous() for k in g}, os.path.join(out, name),
                  metadata={"format": "pt"})
        for k in g:
            wmap[k] = name
            total += sd[k].numel() * sd[k].element_size()
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f,
                  indent=2)
    return len(groups)


# ---- the parts of main() that train_moe.py shares ---------------------------

def add_common_args(ap, own_first, own_last):
    """The flags both recipes take, with the same defaults (the schedule, the optimizer, logging, eval), in
    the order train.py has always listed them (the order of "args" in train_results.json): --out, then the
    script's own flags (own_first(ap)), the common schedule, own_last(ap) (--time-limit), --gen-tokens."""
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/out"))
    own_first(ap)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--eval-windows", type=int, default=0)
    own_last(ap)
    ap.add_argument("--gen-tokens", type=int, default=48)


def setup_torch(a):
    """Output folder, the seed, TF32 on for training; returns the start time."""
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return t0


class Data:
    """The tokenized corpus: train stream (shuffled docs + <|endoftext|>, on the GPU), validation ids."""


def prepare_data(a, t0):
    """Corpus (hash-checked), tokenizer of --model-dir, round trip over every text, seeded document shuffle,
    the training token stream on the GPU; logs each stage as train.py always has."""
    from tokenizers import Tokenizer
    d = Data()
    train_docs, val_text, d.split = load_corpus(a.corpus)
    log("corpus ok: %d bytes, split at %d, val %d bytes, %d train docs (%.1fs)" %
        (d.split["corpus_bytes"], d.split["split_offset"], d.split["val_bytes"],
         len(train_docs), time.time() - t0))
    d.tok = Tokenizer.from_file(os.path.join(a.model_dir, "tokenizer.json"))
    d.eot = d.tok.token_to_id("<|endoftext|>")
    d.im_end = d.tok.token_to_id("<|im_end|>")
    d.V = d.tok.get_vocab_size(with_added_tokens=True)
    doc_ids, d.bad = roundtrip(d.tok, train_docs + [val_text])
    d.val_ids = doc_ids.pop()
    d.n_texts = len(train_docs) + 1
    # Training docs are joined with "\n\n" and followed by val: the pieces
    # cover the corpus byte for byte, so this checks the whole corpus.
    log("tokenized: vocab %d, roundtrip failures %d of %d texts (%.1fs)" %
        (d.V, len(d.bad), d.n_texts, time.time() - t0))
    g = torch.Generator().manual_seed(a.seed)
    order = torch.randperm(len(doc_ids), generator=g).tolist()
    stream = []
    for i in order:
        stream.extend(doc_ids[i])
        stream.append(d.eot)
    data = torch.tensor(stream, dtype=torch.int32)
    d.n_train_tok = data.numel()
    log("train tokens %d (%.2f bytes/token), val tokens %d" %
        (d.n_train_tok, d.split["split_offset"] / d.n_train_tok, len(d.val_ids)))
    d.data = data.cuda()
    d.vbuf = struct.pack("<%di" % len(d.val_ids), *d.val_ids)
    return d


def make_optimizer(model, a):
    """AdamW, betas (0.9, 0.95), weight decay on matrices only."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": a.wd},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)


def write_reference_logits(path, ids, V, logits):
    """QLLOGIT1: magic, u32 version=1, n_tokens, n_vocab, 0, int32 ids, f32 logits, little-endian."""
    with open(path, "wb") as f:
        f.write(LOGITS_MAGIC)
        f.write(struct.pack("<4I", 1, len(ids), V, 0))
        f.write(struct.pack("<%di" % len(ids), *ids))
        f.write(logits.cpu().contiguous().numpy().astype("<f4").tobytes())


def generations(ref, d, a):
    """Greedy and seeded top-40 / T=0.8 continuations of PROMPTS, logged and returned for the results."""
    stops = {d.eot, d.im_end}
    gens = []
    for i, p in enumerate(PROMPTS):
        pid = d.tok.encode(p, add_special_tokens=False).ids
        gi = greedy(ref, pid, a.gen_tokens, stops)
        si = sample(ref, pid, a.gen_tokens, stops, a.seed + i, 0.8, 40)
        gens.append({"prompt": p, "prompt_ids": pid,
                     "greedy_ids": gi, "greedy_text": d.tok.decode(gi),
                     "sample_seed": a.seed + i, "sample_temperature": 0.8,
                     "sample_top_k": 40, "sample_ids": si,
                     "sample_text": d.tok.decode(si)})
        log("--- %r\n  greedy: %r\n  sample: %r" % (p, gens[-1]["greedy_text"],
                                                   gens[-1]["sample_text"]))
    return gens


def val_ppl_protocol(T):
    return ("validation bytes [split_offset, corpus_bytes) of "
            "train.txt, tokenized in one piece without special tokens; "
            "n = len//%d non-overlapping windows of %d tokens (tail dropped); "
            "each window scores its %d next-token predictions; "
            "ppl = exp(mean NLL over n*%d tokens); BF16 weights upcast to fp32, "
            "fp32 math" % (T, T, T - 1, T - 1))


REFERENCE_LOGITS_FORMAT = ("magic 'QLLOGIT1', u32 version=1, "
                           "u32 n_tokens, u32 n_vocab, u32 0, int32 "
                           "ids[n_tokens], f32 logits[n_tokens][n_vocab], "
                           "little-endian")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=".carry/tiny/train.txt.xz")
    ap.add_argument("--model-dir", default="models/qwen3-tiny")
    add_common_args(
        ap, lambda p: p.add_argument("--steps", type=int, default=3800),
        lambda p: p.add_argument("--time-limit", type=float, default=420.0,
                                 help="stop training early (and say so) past this many s"))
    a = ap.parse_args()
    t0 = setup_torch(a)

    import transformers
    from transformers import Qwen3Config, Qwen3ForCausalLM
    log("torch", torch.__version__, "transformers", transformers.__version__,
        "device", torch.cuda.get_device_name(0))

    # ---- data and tokenizer -------------------------------------------------
    d = prepare_data(a, t0)
    tok, V, val_ids, data, n_train_tok = d.tok, d.V, d.val_ids, d.data, d.n_train_tok

    # ---- model --------------------------------------------------------------
    cfg = Qwen3Config.from_pretrained(a.model_dir)
    cfg._attn_implementation = "sdpa"
    model = Qwen3ForCausalLM(cfg).float().cuda()
    n_params = sum(p.numel() for p in model.parameters())
    log("model: %d parameters (unique), attn %s, tied %s" %
        (n_params, model.config._attn_implementation,
         model.lm_head.weight is model.model.embed_tokens.weight))
    opt = make_optimizer(model, a)

    # ---- training -----------------------------------------------------------
    T, B = a.seq, a.batch
    tsv = open(os.path.join(a.out, "train_log.tsv"), "w")
    tsv.write("# step\ttokens\tlr\ttrain_loss\tval_loss\telapsed_s\n")
    gs = torch.Generator(device="cuda").manual_seed(a.seed + 1)
    ar = torch.arange(T + 1, device="cuda")
    t_train = time.time()
    acc, acc_n, step, stopped_early = 0.0, 0, 0, False
    model.train()
    for step in range(a.steps):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, a)
        st = torch.randint(0, n_train_tok - T - 1, (B, 1), generator=gs,
                           device="cuda")
        w = data[st + ar].long()
        x, y = w[:, :-1], w[:, 1:]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits.float().view(-1, V), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        acc += loss.detach()
        acc_n += 1
        last = step == a.steps - 1
        if (step + 1) % a.log_every == 0 or last:
            tl = (acc / acc_n).item()
            acc, acc_n = 0.0, 0
            vl = ""
            if (step + 1) % a.eval_every == 0 or last:
                model.eval()
                s_, c_ = window_nll(model, val_ids, T, a.eval_windows, False)
                model.train()
                vl = "%.5f" % (s_ / c_)
            el = time.time() - t_train
            tsv.write("%d\t%d\t%.6g\t%.5f\t%s\t%.1f\n" %
                      (step + 1, (step + 1) * B * T, lr_at(step, a), tl, vl, el))
            tsv.flush()
            if (step + 1) % (a.log_every * 10) == 0 or vl:
                log("step %5d loss %.4f val %s lr %.2e %.1fs %.0f tok/s" %
                    (step + 1, tl, vl or "-", lr_at(step, a), el,
                     (step + 1) * B * T / el))
            if el > a.time_limit and not last:
                stopped_early = True
                log("time limit reached at step %d: stopping early" % (step + 1))
                break
    steps_done = step + 1
    train_s = time.time() - t_train
    tsv.close()
    log("trained %d steps in %.1fs, peak GPU memory %.1f GiB" %
        (steps_done, train_s, torch.cuda.max_memory_allocated() / 2**30))

    # ---- save BF16 ----------------------------------------------------------
    model.eval()
    sd = {k: v.detach().to(torch.bfloat16).cpu()
          for k, v in model.state_dict().items() if k != "lm_head.weight"}
    n_shards = save_shards(sd, a.out)
    log("saved %d tensors in %d shards" % (len(sd), n_shards))

    # ---- reference numbers from the BF16 weights, fp32 math ----------------
    ref = Qwen3ForCausalLM(cfg).float().cuda().eval()
    missing = ref.load_state_dict({k: v.float() for k, v in sd.items()},
                                  strict=False)
    if ref.lm_head.weight.data_ptr() != ref.model.embed_tokens.weight.data_ptr():
        ref.lm_head.weight = ref.model.embed_tokens.weight
    log("reload: missing %s unexpected %s" % (missing.missing_keys,
                                              missing.unexpected_keys))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    vs, vc = window_nll(ref, val_ids, T, 0, True)
    vs16, vc16 = window_nll(ref, val_ids, T, 0, False)
    gt = torch.Generator(device="cuda").manual_seed(a.seed + 2)
    st = torch.randint(0, n_train_tok - T - 1, (64, 1), generator=gt,
                       device="cuda")
    tw = data[st + ar[:T]].long().cpu().tolist()
    ts, tc = window_nll(ref, [t for w in tw for t in w], T, 0, True)
    log("final (bf16 weights, fp32 math): val loss %.5f ppl %.4f over %d tokens;"
        " train-sample loss %.5f; val ppl with bf16 autocast %.4f" %
        (vs / vc, math.exp(vs / vc), vc, ts / tc, math.exp(vs16 / vc16)))

    # Fixed 64-token sequence: the first 64 validation ids.
    fixed = val_ids[:64]
    with torch.no_grad():
        lg = ref(input_ids=torch.tensor([fixed], device="cuda")).logits[0].float()
    write_reference_logits(os.path.join(a.out, "reference_logits.bin"), fixed, V, lg)
    gens = generations(ref, d, a)

    res = {
        "args": vars(a), "split": d.split, "vocab": V,
        "n_params": n_params, "train_tokens_available": n_train_tok,
        "train_tokens_seen": steps_done * B * T, "steps": steps_done,
        "stopped_early": stopped_early, "train_seconds": round(train_s, 1),
        "roundtrip_failures": len(d.bad), "roundtrip_texts": d.n_texts,
        "val_tokens": len(val_ids), "val_ids_sha256_int32le": sha256_bytes(d.vbuf),
        "val_ids_first64": val_ids[:64],
        "val_ppl_protocol": val_ppl_protocol(T),
        "val_windows": len(val_ids) // T, "val_scored_tokens": vc,
        "val_loss": vs / vc, "val_ppl": math.exp(vs / vc),
        "val_ppl_bf16_autocast": math.exp(vs16 / vc16),
        "train_sample_loss": ts / tc,
        "train_sample_protocol": "64 windows of %d tokens at offsets drawn by "
            "torch cuda generator seed %d from the training stream, fp32 math"
            % (T, a.seed + 2),
        "reference_logits": {"file": "reference_logits.bin", "ids": fixed,
                             "format": REFERENCE_LOGITS_FORMAT},
        "generations": gens,
        "torch": torch.__version__, "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name(0),
        "total_seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(a.out, "train_results.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    log("done in %.1fs" % (time.time() - t0))


if __name__ == "__main__":
    main()

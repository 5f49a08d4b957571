#!/usr/bin/env python3
"""check_e02_real_shape -- the e02-perplexity driver on a checkpoint of a real Qwen3 shape (random weights, the
real Qwen3 tokenizer), its BF16 perplexity checked against transformers on the same windows.

Run on the GPU machine (torch, transformers, tokenizers; the reference runs in FP32 on the CPU):
    python3 tools/qwen3-reference/check_e02_real_shape.py --config Qwen3-0.6B.json --tokenizer-dir DIR \
        --data-dir DIR --e02 build/bin/e02-perplexity [--windows 1] [--workdir /tmp/qwen3-e02]
What it shows: `e02-perplexity --model DIR` (what `make run EXP=e02-perplexity MODEL=DIR` runs) loads a checkpoint
of the real shape and vocabulary, tokenizes the pinned corpora with the real tokenizer, quantizes it with every
recipe, and writes results; and that the BF16 perplexity equals an independent computation: HF `tokenizers` on
the corpus text built as src/eval/dataset.h defines it, the first --windows windows of 2048 tokens, every
position predicting the next, transformers' FP32 forward of the same BF16 weights. What it cannot show: the
published anchors (random weights give a perplexity near the vocabulary size, where quantization barely moves
it). Exit status 1 if the driver fails or the two BF16 perplexities differ by more than 1e-4 (relative).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

import torch
import transformers
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qlref  # noqa: E402


def wikitext2_text(path):
    """The rows of wiki.test.raw as HF datasets yields them (each line with its newline, whitespace-only lines
    as ""), joined with "\\n\\n" (GPTQ's datautils)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    return "\n\n".join("" if ln.strip(" \t\n\r\v\f") == "" else ln for ln in lines)


def c4_text(path, first=0, last=1100):
    """The "text" of documents [first, last) of the C4 slice joined with " " (GPTQ's 1100 documents)."""
    with open(path, encoding="utf-8") as f:
        docs = [json.loads(ln)["text"] for ln in f if ln.strip()]
    return " ".join(docs[first:last])


def hf_ppl(model, ids, ctx, windows):
    """PPL over the first `windows` windows of ctx tokens: each window a fresh forward, ctx - 1 tokens scored."""
    nll, n = 0.0, 0
    for w in range(windows):
        x = ids[w * ctx:(w + 1) * ctx]
        logits, _ = qlref.forward(model, x, hidden=False)
        lp = torch.log_softmax(logits.double(), dim=-1)
        tgt = torch.tensor(x[1:])
        nll -= lp[:-1].gather(1, tgt[:, None]).sum().item()
        n += len(x) - 1
    return math.exp(nll / n), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--tokenizer-dir", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--e02", required=True, help="the e02-perplexity driver")
    ap.add_argument("--windows", type=int, default=1)
    ap.add_argument("--recipes", default="all")
    ap.add_argument("--workdir", default="/tmp/qwen3-e02")
    a = ap.parse_args()
    torch.set_num_threads(min(16, os.cpu_count() or 1))
    d, cj, model = qlref.build_random(a.config, a.workdir, 0, os.path.basename(a.config).replace(".json", "") + "-random")
    name = os.path.basename(d)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.tokenizer_dir, f), d)
    ctx = min(2048, cj.get("max_position_embeddings", 2048))

    results = os.path.join(a.workdir, "results")
    shutil.rmtree(os.path.join(results, name), ignore_errors=True)  # list only what this run writes
    cmd = [a.e02, "--force", "--model", d, "--data-dir", a.data_dir, "--results", results,
           "--recipes", a.recipes, "--windows", str(a.windows)]
    t0 = time.time()
    r = subprocess.run(cmd, text=True)
    t_e02 = time.time() - t0
    if r.returncode != 0:
        print("e02-perplexity failed with status %d" % r.returncode, flush=True)
        return 1
    out = {}
    rdir = os.path.join(results, name, "e02-perplexity")
    for fn in sorted(os.listdir(rdir)):
        if fn.endswith(".json"):
            with open(os.path.join(rdir, fn)) as f:
                out[fn[:-5]] = json.load(f)["metrics"]
    for rec, m in out.items():
        print("RESULT e02 %s %s: wikitext2 ppl %.6g (%d tokens), c4 ppl %.6g (%d tokens)" % (
            name, rec, m["ppl"], m["tokens"], m["ppl_c4"], m["tokens_c4"]), flush=True)
    print("e02-perplexity: %d recipe(s) in %.1f s on %d CPU threads" % (len(out), t_e02, os.cpu_count()), flush=True)

    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    ok = True
    for corpus, text, key in (("wikitext2", wikitext2_text(os.path.join(a.data_dir, "wikitext-2/wiki.test.raw")), ""),
                              ("c4", c4_text(os.path.join(a.data_dir, "c4/c4_validation_2k.jsonl")), "_c4")):
        ids = tok.encode(text, add_special_tokens=False).ids
        t1 = time.time()
        ppl, n = hf_ppl(model, ids, ctx, a.windows)
        ours = out["bf16"]["ppl" + key]
        rel = abs(ours - ppl) / ppl
        print("RESULT bf16 %s: e02 %.9g transformers %.9g (%d tokens of %d, %.1f s) relative difference %.2e" % (
            corpus, ours, ppl, n, len(ids), time.time() - t1, rel), flush=True)
        ok = ok and rel <= 1e-4 and out["bf16"]["tokens" + key] == n
    print("%s: %s (transformers %s, torch %s)" % (name, "PASS" if ok else "FAIL", transformers.__version__,
                                                   torch.__version__), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""check_real_shape -- our C engine against HF transformers at a real Qwen3 shape, with random weights.

Run on the GPU machine (torch + transformers; the reference runs in FP32 on the CPU, eager attention):
    python3 tools/qwen3-reference/check_real_shape.py --config Qwen3-0.6B.json --engine "build/bin/ql logits" \
        [--layers N] [--tokens 32] [--workdir /tmp/qwen3-real]
Builds the model of --config (num_hidden_layers overridden by --layers, any quantization_config dropped) with
torch.manual_seed(0), rounds every weight to BF16 (real checkpoints are BF16), perturbs the norm weights, writes
config.json + model.safetensors (BF16), computes the FP32 logits of two random sequences with transformers, runs
`ENGINE -m DIR --ids ... -o FILE` (and once with --chunk 1: token-by-token decode through the KV cache) and
prints max |delta logit|, the logit scale and the argmax agreement. Exit status 1 if the check fails
(max |delta| > 1e-3 or a differing argmax where the HF top-2 gap exceeds the observed error).
"""
import argparse
import os
import shlex
import subprocess
import sys
import time

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qlref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--engine", required=True, help='command prefix, e.g. "build/bin/ql logits"')
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--workdir", default="/tmp/qwen3-real")
    ap.add_argument("--name", default=None)
    a = ap.parse_args()
    torch.set_num_threads(min(16, os.cpu_count() or 1))
    d, cj, model = qlref.build_random(a.config, a.workdir, a.layers, a.name)
    name = os.path.basename(d)

    V = cj["vocab_size"]
    g = torch.Generator().manual_seed(1234)
    seqs = [torch.randint(0, V, (a.tokens,), generator=g).tolist() for _ in range(2)]
    ref = []
    t1 = time.time()
    for ids in seqs:
        logits, _ = qlref.forward(model, ids, hidden=False)
        ref.append(logits)
    print("%s: transformers FP32 forward of 2 x %d tokens in %.1f s" % (name, a.tokens, time.time() - t1), flush=True)
    del model

    ok = True
    for si, ids in enumerate(seqs):
        for chunk in ([0, 1] if si == 0 else [0]):
            out = os.path.join(d, "ours-%d-%d.bin" % (si, chunk))
            cmd = shlex.split(a.engine) + ["-m", d, "--ids", " ".join(map(str, ids)), "-o", out]
            if chunk:
                cmd += ["--chunk", str(chunk)]
            t2 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            sys.stderr.write(r.stderr)
            if r.returncode != 0:
                print("%s: engine failed with status %d" % (name, r.returncode), flush=True)
                ok = False
                continue
            _, _, got = qlref.read_logits(out)
            ours = got[0][1]
            hf = ref[si]
            delta = (ours - hf).abs()
            top2 = hf.topk(2, dim=-1).values
            gap = (top2[:, 0] - top2[:, 1])
            agree = (ours.argmax(-1) == hf.argmax(-1))
            # A flipped argmax only counts as a failure where HF's top-2 gap is larger than our error there.
            bad = (~agree) & (gap > 2 * delta.max(dim=-1).values)
            mode = "decode (chunk 1)" if chunk else "prefill"
            print("RESULT %s seq %d %s: T=%d V=%d max|dlogit|=%.3e mean|dlogit|=%.3e logit std=%.3f "
                  "argmax agree %d/%d (min HF top-2 gap %.3e) engine %.1f s" % (
                      name, si, mode, len(ids), V, delta.max().item(), delta.mean().item(), hf.std().item(),
                      int(agree.sum()), len(ids), gap.min().item(), time.time() - t2), flush=True)
            if delta.max().item() > 1e-3 or bool(bad.any()):
                ok = False
    print("%s: %s (transformers %s, torch %s)" % (name, "PASS" if ok else "FAIL", transformers.__version__,
                                                   torch.__version__), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tokpack.py -- the Qwen3 tokenizer.json in a third of its compressed size, for the device call's 64 MiB limit
(tools/llamacpp/device_carry.sh). Qwen's byte-level BPE has merge i producing token 256 + i (checked on pack),
so the merges are the vocabulary plus one byte per merge: the length of its left part. unpack writes a
tokenizer.json with model.vocab, model.merges and added_tokens, the three parts src/quant/gguf_export.c reads
(the GGUF tokenizer keys come out identical: checked by writing a Qwen3-0.6B GGUF from both).
Usage: tokpack.py pack tokenizer.json OUT.json | tokpack.py unpack IN.json tokenizer.json"""
import json
import sys


def pack(src, dst):
    t = json.load(open(src, encoding="utf-8"))
    vocab, merges = t["model"]["vocab"], t["model"]["merges"]
    toks = [k for k, _ in sorted(vocab.items(), key=lambda x: x[1])]
    if [vocab[k] for k in toks] != list(range(len(toks))):
        sys.exit("tokpack: %s: vocabulary ids are not 0..n-1" % src)
    split = []
    for i, m in enumerate(merges):
        a, b = m if isinstance(m, list) else m.split(" ")
        if 256 + i >= len(toks) or toks[256 + i] != a + b or len(a) > 255:
            sys.exit("tokpack: %s: merge %d does not make token %d" % (src, i, 256 + i))
        split.append(len(a))
    json.dump({"vocab": toks, "split": bytes(split).hex(), "added_tokens": t.get("added_tokens", [])},
              open(dst, "w", encoding="utf-8"), ensure_ascii=False)


def unpack(src, dst):
    p = json.load(open(src, encoding="utf-8"))
    toks, split = p["vocab"], bytes.fromhex(p["split"])
    merges = [[toks[256 + i][:n], toks[256 + i][n:]] for i, n in enumerate(split)]
    out = {"model": {"type": "BPE", "vocab": {t: i for i, t in enumerate(toks)}, "merges": merges},
           "added_tokens": p["added_tokens"]}
    json.dump(out, open(dst, "w", encoding="utf-8"), ensure_ascii=False)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])

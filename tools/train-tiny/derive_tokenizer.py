#!/usr/bin/env python3
"""Derive the qwen3-tiny tokenizer from the real Qwen3 tokenizer.

The tiny model needs a small vocabulary, but we want its tokenizer to be a
true prefix of Qwen3's: the same byte-level alphabet, the same pre-tokenizer
regex, the same normalizer and decoder, and the first merges of Qwen3's BPE in
rank order. Byte-level BPE applies merges by rank, so keeping the first R
merges of a tokenizer gives exactly the tokenizer one would get by stopping
its training after R merges: every token of the small vocabulary is also a
token of Qwen3, with the same string.

Layout of the derived vocabulary (ids):

    0 .. 255                 the 256 byte symbols (Qwen3 ids 0..255, unchanged)
    256 .. N_BPE-1           the results of Qwen3 merges 0 .. N_BPE-257
    N_BPE .. N_BPE+25        Qwen3's 26 added tokens, in their original order
                             (<|endoftext|>, <|im_start|>, <|im_end|>, ...,
                             <think>, </think>)

With N_BPE = 8192 - 26 = 8166 the total is exactly 8192, a multiple of 128,
so the embedding needs no padding.

A merge is kept only when its two parts and its result are all in the kept
vocabulary; every merge is checked and any dropped merge is reported. The
script writes tokenizer.json and tokenizer_config.json (chat template, eos and
pad copied from the original with the ids renumbered). Python stdlib only.

Usage: derive_tokenizer.py [--src DIR] [--out DIR] [--vocab 8192]
"""

import argparse
import hashlib
import json
import os
import sys


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bytes_to_unicode():
    """The GPT-2 byte -> printable character table used by ByteLevel."""
    bs = (list(range(ord("!"), ord("~") + 1)) +
          list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
          list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def split_merge(m):
    """Merges are stored either as ["a", "b"] or as the string "a b"."""
    if isinstance(m, list):
        return m[0], m[1]
    a, b = m.split(" ", 1)
    return a, b


def derive(src, n_total):
    tok = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
    cfg = json.load(open(os.path.join(src, "tokenizer_config.json"),
                         encoding="utf-8"))
    model = tok["model"]
    if model["type"] != "BPE":
        sys.exit("source tokenizer is not BPE")
    added = sorted(tok["added_tokens"], key=lambda t: t["id"])
    n_added = len(added)
    n_bpe = n_total - n_added
    n_merges_wanted = n_bpe - 256

    # The byte alphabet must be ids 0..255 and consist of exactly the 256
    # ByteLevel symbols: otherwise some byte could not be encoded.
    id_to_tok = {i: t for t, i in model["vocab"].items()}
    alphabet = set(bytes_to_unicode().values())
    first256 = {id_to_tok[i] for i in range(256)}
    if first256 != alphabet:
        sys.exit("ids 0..255 of the source are not the byte alphabet")

    # Keep the first n_bpe ids of the source vocabulary. In Qwen3 (as in
    # GPT-2 style BPE) merge rank r produces id 256 + r; we check that rather
    # than assume it, and report the ranks where it does not hold.
    keep = {id_to_tok[i]: i for i in range(n_bpe)}
    merges = [split_merge(m) for m in model["merges"]]
    kept, dropped, order_mismatch = [], [], 0
    for r, (a, b) in enumerate(merges[:n_merges_wanted]):
        res = a + b
        if res in keep and keep[res] != 256 + r:
            order_mismatch += 1
        if a in keep and b in keep and res in keep:
            kept.append((a, b))
        else:
            dropped.append((r, a, b))
    # Any later merge whose result lands inside the kept ids would also be
    # needed; list such merges too (there should be none).
    late = []
    for r, (a, b) in enumerate(merges[n_merges_wanted:], n_merges_wanted):
        if a + b in keep and a in keep and b in keep:
            late.append((r, a, b))
    # Every kept non-byte token must be produced by some kept merge, or it can
    # never be emitted.
    produced = {a + b for a, b in kept}
    orphans = [t for t, i in keep.items() if i >= 256 and t not in produced]

    new_added = []
    for k, t in enumerate(added):
        nt = dict(t)
        nt["id"] = n_bpe + k
        new_added.append(nt)
    remap = {t["id"]: n_bpe + k for k, t in enumerate(added)}

    out = {
        "version": tok.get("version", "1.0"),
        "truncation": None,
        "padding": None,
        "added_tokens": new_added,
        "normalizer": tok["normalizer"],
        "pre_tokenizer": tok["pre_tokenizer"],
        "post_processor": tok["post_processor"],
        "decoder": tok["decoder"],
        "model": {
            "type": "BPE",
            "dropout": model.get("dropout"),
            "unk_token": model.get("unk_token"),
            "continuing_subword_prefix": model.get("continuing_subword_prefix", ""),
            "end_of_word_suffix": model.get("end_of_word_suffix", ""),
            "fuse_unk": model.get("fuse_unk", False),
            "byte_fallback": model.get("byte_fallback", False),
            "ignore_merges": model.get("ignore_merges", False),
            "vocab": keep,
            "merges": [[a, b] for a, b in kept],
        },
    }

    # tokenizer_config.json: copy everything, renumber added_tokens_decoder.
    ncfg = dict(cfg)
    atd = {}
    for k, v in cfg.get("added_tokens_decoder", {}).items():
        atd[str(remap[int(k)])] = v
    ncfg["added_tokens_decoder"] = atd
    ncfg["model_max_length"] = 2048
    report = {
        "n_total": n_total, "n_bpe": n_bpe, "n_added": n_added,
        "n_merges_wanted": n_merges_wanted, "n_merges_kept": len(kept),
        "dropped": dropped, "late_merges_needed": late,
        "orphan_tokens": orphans, "rank_id_mismatches": order_mismatch,
        "added": {t["content"]: remap[t["id"]] for t in added},
    }
    return out, ncfg, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(
        os.path.dirname(__file__), "../../../shared/models/qwen3-tokenizer"))
    ap.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "../../models/qwen3-tiny"))
    ap.add_argument("--vocab", type=int, default=8192)
    args = ap.parse_args()

    out, ncfg, rep = derive(args.src, args.vocab)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w",
              encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "tokenizer_config.json"), "w",
              encoding="utf-8") as f:
        json.dump(ncfg, f, ensure_ascii=False, indent=2)
        f.write("\n")

    print("source tokenizer.json sha256",
          sha256_file(os.path.join(args.src, "tokenizer.json")))
    print("vocab %d = %d byte symbols + %d merges + %d added tokens" %
          (rep["n_total"], 256, rep["n_merges_kept"], rep["n_added"]))
    print("merges checked %d, kept %d, dropped %d" %
          (rep["n_merges_wanted"], rep["n_merges_kept"], len(rep["dropped"])))
    for r, a, b in rep["dropped"]:
        print("  dropped merge rank %d: %r + %r" % (r, a, b))
    print("later merges whose result is kept: %d" % len(rep["late_merges_needed"]))
    print("kept tokens no kept merge produces: %d" % len(rep["orphan_tokens"]))
    print("merge ranks whose result id != 256 + rank: %d" %
          rep["rank_id_mismatches"])
    for k, v in rep["added"].items():
        print("  added %-28s -> %d" % (k, v))
    print("eos_token %s pad_token %s" % (ncfg.get("eos_token"),
                                         ncfg.get("pad_token")))
    if rep["dropped"] or rep["late_merges_needed"] or rep["orphan_tokens"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A pure-Python byte-level BPE for tokenizer.json, used to check qwen3-tiny.

This is an independent second implementation of what HF `tokenizers` does
with models/qwen3-tiny/tokenizer.json (python stdlib only):

  1. split the text on the added tokens (<|endoftext|>, <think>, ...), which
     are matched verbatim and never normalized;
  2. NFC-normalize each remaining piece;
  3. pre-tokenize with Qwen's split regex; Python's `re` has no \\p{L} or
     \\p{N}, so those classes are built from unicodedata categories (L*, N*)
     of the characters actually present, and \\s from the Unicode White_Space
     property, which is what the Rust regex crate uses;
  4. map every UTF-8 byte to its ByteLevel symbol and apply the merges by
     rank (lowest rank first, leftmost first), as GPT-2 BPE does.

It then checks, on the validation split of the corpus (and, with --all, on the
whole corpus): decode(encode(text)) == text byte for byte, and that the ids of
the validation text hash to the sha256 that train.py computed with HF
tokenizers on the GPU machine (int32 little-endian), and that the prompt ids
of the reference generations agree. Exit status 0 when everything matches.

Usage: bpe_check.py [--model-dir models/qwen3-tiny] [--corpus train.txt.xz]
                    [--all]
"""

import argparse
import hashlib
import json
import lzma
import os
import re
import struct
import sys
import unicodedata

WHITE_SPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680" +
               "".join(chr(c) for c in range(0x2000, 0x200B)) +
               "\u2028\u2029\u202f\u205f\u3000")


def bytes_to_unicode():
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


def char_class(chars):
    return "".join(re.escape(c) for c in sorted(chars))


class BPE:
    def __init__(self, path):
        tj = json.load(open(path, encoding="utf-8"))
        self.vocab = tj["model"]["vocab"]
        self.inv = {i: t for t, i in self.vocab.items()}
        self.ranks = {}
        for r, m in enumerate(tj["model"]["merges"]):
            a, b = m if isinstance(m, list) else m.split(" ", 1)
            self.ranks[(a, b)] = r
        self.added = {t["content"]: t["id"] for t in tj["added_tokens"]}
        for c, i in self.added.items():
            self.inv[i] = c
        self.pattern = tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        self.b2u = bytes_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.cache = {}
        self.added_re = re.compile("|".join(
            re.escape(c) for c in sorted(self.added, key=len, reverse=True)))

    def compile_for(self, text):
        """Qwen's regex with \\p{L}, \\p{N}, \\s, \\S spelled out for text."""
        chars = set(text)
        L = {c for c in chars if unicodedata.category(c).startswith("L")}
        N = {c for c in chars if unicodedata.category(c).startswith("N")}
        S = set(WHITE_SPACE)
        p = self.pattern
        # Negated classes first: [^\r\n\p{L}\p{N}] and [^\s\p{L}\p{N}].
        p = p.replace(r"[^\r\n\p{L}\p{N}]",
                      "[^\\r\\n%s%s]" % (char_class(L), char_class(N)))
        p = p.replace(r"[^\s\p{L}\p{N}]",
                      "[^%s%s%s]" % (char_class(S), char_class(L), char_class(N)))
        # An empty positive class must match nothing ("[]" is not a class).
        p = p.replace(r"\p{L}", "[%s]" % char_class(L) if L else "(?!)")
        p = p.replace(r"\p{N}", "[%s]" % char_class(N) if N else "(?!)")
        p = p.replace(r"\s*[\r\n]+", "[%s]*[\\r\\n]+" % char_class(S))
        p = p.replace(r"\s+(?!\S)", "[%s]+(?![^%s])" % (char_class(S),
                                                          char_class(S)))
        p = p.replace(r"|\s+", "|[%s]+" % char_class(S))
        if "\\p" in p or "\\s" in p or "\\S" in p:
            sys.exit("unhandled class left in pattern: %s" % p)
        return re.compile(p)

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        rx = self.compile_for(text)
        ids, pos = [], 0
        pieces = []
        for m in self.added_re.finditer(text):
            pieces.append((text[pos:m.start()], None))
            pieces.append((None, self.added[m.group(0)]))
            pos = m.end()
        pieces.append((text[pos:], None))
        for seg, special in pieces:
            if special is not None:
                ids.append(special)
                continue
            seg = unicodedata.normalize("NFC", seg)
            for w in rx.findall(seg):
                ids.extend(self.bpe("".join(self.b2u[b]
                                            for b in w.encode("utf-8"))))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            t = self.inv[i]
            if i in self.added.values():
                out += t.encode("utf-8")
            else:
                out += bytes(self.u2b[c] for c in t)
        return bytes(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=os.path.join(here, "../../models/qwen3-tiny"))
    ap.add_argument("--corpus", default=os.path.join(
        here, "../../../shared/corpus/train.txt.xz"))
    ap.add_argument("--all", action="store_true",
                    help="also round-trip the whole corpus (minutes)")
    a = ap.parse_args()
    tok = BPE(os.path.join(a.model_dir, "tokenizer.json"))
    res = json.load(open(os.path.join(a.model_dir, "train_results.json")))
    raw = lzma.open(a.corpus).read()
    s = res["split"]["split_offset"]
    ok = True

    val = raw[s:].decode("utf-8")
    ids = tok.encode(val)
    h = hashlib.sha256(struct.pack("<%di" % len(ids), *ids)).hexdigest()
    same = h == res["val_ids_sha256_int32le"] and len(ids) == res["val_tokens"]
    print("validation: %d tokens, sha256 %s: %s HF tokenizers" %
          (len(ids), h[:16], "matches" if same else "DIFFERS from"))
    ok &= same
    rt = tok.decode(ids) == raw[s:]
    print("validation round trip byte for byte: %s" % ("ok" if rt else "FAILED"))
    ok &= rt
    for g in res["generations"]:
        e = tok.encode(g["prompt"]) == g["prompt_ids"]
        ok &= e
        print("prompt %-48r ids %s" % (g["prompt"], "match" if e else "DIFFER"))
    special = "<|im_start|>user\nHi<think>\n</think><|im_end|><|endoftext|>"
    e = tok.decode(tok.encode(special)) == special.encode()
    print("added tokens round trip: %s" % ("ok" if e else "FAILED"))
    ok &= e
    if a.all:
        docs = raw.decode("utf-8").split("\n\n")
        bad = 0
        for d in docs:
            bad += tok.decode(tok.encode(d)) != d.encode("utf-8")
        print("whole corpus: %d documents, %d round-trip failures" %
              (len(docs), bad))
        ok &= bad == 0
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

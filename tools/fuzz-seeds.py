#!/usr/bin/env python3
"""fuzz-seeds -- writes the seed corpora of tests/fuzz/<target>/seed/ from files of this repository (nothing
from ../shared): small, valid examples of each input, so libFuzzer starts from the real formats.
Usage: python3 tools/fuzz-seeds.py   (from the repository root; rewrites the seed folders)."""
import json, os, shutil, struct, glob

def out(target, name, data):
    d = f"tests/fuzz/{target}/seed"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def st_file(tensors, meta=None):
    """A safetensors file: tensors = [(name, dtype, shape, bytes)], offsets assigned in order."""
    hdr, off, data = {}, 0, b""
    if meta: hdr["__metadata__"] = meta
    for name, dt, shape, raw in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw); data += raw
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data

for t in glob.glob("tests/fuzz/*/seed"):
    shutil.rmtree(t)

# safetensors: hand-made files of each float dtype, and the real fixture headers with their data cut to 0
# (invalid as a whole, but the header is the real one: the fuzzer mutates lengths and offsets from there)
out("safetensors", "f32", st_file([("a", "F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3))], {"format": "pt"}))
out("safetensors", "mixed", st_file([("w", "BF16", [3], b"\x80\x3f\x00\x40\x00\xc0"), ("s", "F8_E4M3", [2], b"\x38\x40"),
                                     ("h", "F16", [1], b"\x00\x3c"), ("e", "F8_E5M2", [1], b"\x3c"), ("i", "I32", [1], b"\x01\0\0\0")]))
out("safetensors", "empty", st_file([]))
out("safetensors", "zero-dim", st_file([("z", "F32", [0, 4], b""), ("s", "F32", [], struct.pack("<f", 7))]))
for fx in sorted(glob.glob("tests/fixtures/qwen3/*/model.safetensors")):
    b = open(fx, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    out("safetensors", "header-" + fx.split("/")[-2], b[:8 + n])

# st_index: the index of the harness's two shards (a.safetensors: x, b.safetensors: y)
out("st_index", "ok", json.dumps({"metadata": {"total_size": 8}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}}))
out("st_index", "swapped", json.dumps({"weight_map": {"x": "b.safetensors", "y": "a.safetensors"}}))

# config: the embedded model and the fixtures (dense, FP8, MoE)
out("config", "qwen3-tiny", open("models/qwen3-tiny/config.json").read())
for fx in sorted(glob.glob("tests/fixtures/qwen3/*/config.json")):
    out("config", fx.split("/")[-2], open(fx).read())

# logits: the fixtures' reference logits files are 120 KB; a small valid one, and a real header with no data
out("logits", "small", b"QLLOGITS" + struct.pack("<5I", 1, 2, 3, 2, 1) + struct.pack("<I", 2) + struct.pack("<2i", 5, 6)
    + struct.pack("<6f", *range(6)) + struct.pack("<4f", *range(4)))
out("logits", "fixture-header", open("tests/fixtures/qwen3/dense-f32/logits.bin", "rb").read()[:64])

# tokenizer_load: the embedded tokenizer cut to its byte alphabet, the first 64 merges and its added tokens
tok = json.load(open("models/qwen3-tiny/tokenizer.json"))
m = tok["model"]
merges = m["merges"][:64]
keep = {}
for k, v in sorted(m["vocab"].items(), key=lambda kv: kv[1]):
    if v < 256: keep[k] = v
for i, mg in enumerate(merges):
    a, b = mg if isinstance(mg, list) else mg.split(" ")
    keep.setdefault(a + b, 256 + i)
small = dict(tok)
small["model"] = dict(m, vocab=keep, merges=merges)
small["added_tokens"] = [dict(t, id=400 + i) for i, t in enumerate(tok["added_tokens"][:4])]
out("tokenizer_load", "tiny-cut", json.dumps(small, ensure_ascii=False))

# tokenize: edge cases (the test file's, plus the characters where JavaScript's \s and Rust's regex disagree)
for i, line in enumerate(open("tests/fixtures/tokenizer_edge.txt", encoding="utf-8").read().split("\n")[:40]):
    if line: out("tokenize", f"edge{i:02d}", line)
for name, s in {"u0085": "a\u0085b \u0085 c", "ufeff": "\ufeffHello \ufeff world", "u2028": "x\u2028y\u2029z",
                "nbsp": "a\u00a0b\u3000c", "cjk": "中文测试，混合 English 123", "special": "<|im_start|>user\nhi<|im_end|>",
                "digits": "1234567890 3.14159", "emoji": "🙂👍🏽 e\u0301"}.items():
    out("tokenize", name, s)
out("tokenize", "invalid-utf8", b"ab\xff\xfe\xc0\x80 \xed\xa0\x80 z")

# results: committed results files of each experiment
for p in ["results/qwen3-tiny/e02-perplexity/bf16.json", "results/qwen3-tiny/e03-kld/nvfp4.json",
          "results/qwen3-tiny/e08-targets/fp8.json", "results/synthetic/e01-formats/mxfp4.json"]:
    out("results", p.split("/")[-2] + "-" + os.path.basename(p), open(p, "rb").read())

# placeholders: the notebooks and the paper (both languages)
for p in sorted(glob.glob("notebooks-md/*/*.md") + glob.glob("paper/*/*.md")):
    out("placeholders", p.replace("/", "_"), open(p, "rb").read())

# dataset: WikiText-2-like lines and C4-like JSON lines
out("dataset", "wikitext", " \n = Valkyria Chronicles = \n \n Senjō no Valkyria 3 : <unk> Chronicles \n \n = = Gameplay = = \n")
out("dataset", "c4", '{"text": "Beginners BBQ Class.", "timestamp": "2019-04-25"}\n{"text": "Discussion \\u00e9 here"}\n{"text": "x"}\n')

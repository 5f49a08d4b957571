#!/usr/bin/env python3
"""tokenizer_hf_check -- compare our C tokenizer's outputs with Hugging Face `tokenizers` / `transformers`.

Runs where those packages are installed (the GPU machine; this machine has neither). DIR holds:
  tokenizer.json, tokenizer_config.json      the Qwen3 tokenizer
  <set>.docs                                 records "<byte length>\\n<UTF-8>\\n" (as tests/test_tokenizer.c writes)
  <set>.ours                                 our ids, one line per record after a "# ..." header line
  <set>.pieces.json (optional)               our pre-tokenizer pieces of NFC(record), a JSON list of lists
  chat.json, chat.out (optional)             chat-template cases and our renderings (records)
Writes to OUT (default $OUT): report.json (versions, per-set mismatch counts with the first differences) and
hf_cases.tsv (for each record of the set "hf": the input with \\uXXXX escapes, a tab, HF's ids).

Usage: python3 tools/tokenizer_hf_check.py DIR [OUT]
"""
import json
import os
import sys
import time

import tokenizers
from tokenizers import Regex, Tokenizer
from tokenizers.pre_tokenizers import Split


def records(path):
    data, out, p = open(path, "rb").read(), [], 0
    while p < len(data):
        nl = data.index(b"\n", p)
        n = int(data[p:nl])
        out.append(data[nl + 1 : nl + 1 + n].decode("utf-8"))
        p = nl + 1 + n + 1
    return out


def id_lines(path):
    lines = open(path).read().split("\n")[1:]
    return [[int(x) for x in line.split()] for line in lines[:-1]]


def escape(s):
    return "".join(c if 0x20 < ord(c) < 0x7F and c != "\\" else "\\u{%X}" % ord(c) for c in s)


def main():
    d = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.environ["OUT"]
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    pattern = json.load(open(os.path.join(d, "tokenizer.json")))["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    split = Split(Regex(pattern), behavior="isolated", invert=False)
    report = {"tokenizers": tokenizers.__version__, "sets": {}}
    tsv = []
    for name in ["hf", "edge", "gsm8k-test", "wikitext2-test", "c4-validation-2k"]:
        if not os.path.exists(os.path.join(d, name + ".docs")):
            continue
        docs, ours = records(os.path.join(d, name + ".docs")), id_lines(os.path.join(d, name + ".ours"))
        t0 = time.time()
        hf = [e.ids for e in tok.encode_batch(docs, add_special_tokens=False)]
        r = {"docs": len(docs), "tokens": sum(map(len, hf)), "hf_encode_s": round(time.time() - t0, 3),
             "mismatches": 0, "first": [], "decode_mismatches": 0}
        for i, (a, b) in enumerate(zip(ours, hf)):
            if a != b:
                k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
                r["mismatches"] += 1
                if len(r["first"]) < 10:
                    r["first"].append({"doc": i, "pos": k, "ours": a[k : k + 8], "hf": b[k : k + 8],
                                       "text": escape(docs[i][:200])})
            if name in ("hf", "edge") and tok.decode(a, skip_special_tokens=False) != tok.normalizer.normalize_str(docs[i]):
                r["decode_mismatches"] += 1
        if len(ours) != len(docs):
            r["count_error"] = [len(ours), len(docs)]
        pieces_path = os.path.join(d, name + ".pieces.json")
        if os.path.exists(pieces_path):
            ours_p, bad = json.load(open(pieces_path)), []
            for i, doc in enumerate(docs):
                hf_p = [p for p, _ in split.pre_tokenize_str(tok.normalizer.normalize_str(doc))]
                if hf_p != ours_p[i]:
                    bad.append({"doc": i, "ours": [escape(p) for p in ours_p[i]], "hf": [escape(p) for p in hf_p]})
            r["piece_mismatches"], r["piece_first"] = len(bad), bad[:10]
        if name == "hf":
            tsv = ["%s\t%s" % (escape(doc), " ".join(map(str, ids))) for doc, ids in zip(docs, hf)]
        report["sets"][name] = r
    if os.path.exists(os.path.join(d, "chat.json")):
        import transformers
        from transformers import AutoTokenizer

        report["transformers"] = transformers.__version__
        at = AutoTokenizer.from_pretrained(d)
        cases, ours = json.load(open(os.path.join(d, "chat.json"))), records(os.path.join(d, "chat.out"))
        bad = []
        for i, c in enumerate(cases):
            kw = {} if c.get("enable_thinking") is None else {"enable_thinking": c["enable_thinking"]}
            s = at.apply_chat_template(c["messages"], tokenize=False,
                                       add_generation_prompt=bool(c["add_generation_prompt"]), **kw)
            if s != ours[i]:
                bad.append({"case": i, "ours": escape(ours[i]), "hf": escape(s)})
        report["chat"] = {"cases": len(cases), "mismatches": len(bad), "first": bad[:5]}
    json.dump(report, open(os.path.join(out_dir, "report.json"), "w"), indent=1)
    open(os.path.join(out_dir, "hf_cases.tsv"), "w").write("\n".join(tsv) + "\n")
    print(json.dumps({k: ({s: {x: v[x] for x in v if x not in ("first", "piece_first")} for s, v in report["sets"].items()}
                          if k == "sets" else v) for k, v in report.items()}, indent=1))


if __name__ == "__main__":
    main()

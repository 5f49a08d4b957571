#!/usr/bin/env python3
"""gen_task_expect.py -- expected task prompts, answers and normalisations from lm-evaluation-harness itself.

Usage: python3 tools/lmeval-reference/gen_task_expect.py LMEVAL_DIR COMMIT DATA_DIR QWEN3_TOKENIZER_CONFIG OUT.json

LMEVAL_DIR holds the files of EleutherAI/lm-evaluation-harness at COMMIT (a checkout, or
`git archive COMMIT lm_eval/tasks | tar -x`); the fixture records COMMIT. Nothing of it is copied into this
repository. What comes from lm-eval's own files, run here:
  - the Jinja templates of the task YAMLs (doc_to_text, doc_to_target, description), rendered with jinja2
    the way lm_eval/utils.py apply_template does (StrictUndefined, keep_trailing_newline);
  - lm_eval/tasks/hellaswag/utils.py process_docs / preprocess (imported);
  - lm_eval/tasks/hendrycks_math/utils.py strip_string / is_equiv / last_boxed_only_string / remove_boxed
    (imported);
  - the gsm8k filter regexes and regexes_to_ignore, read from gsm8k.yaml and applied with Python's re exactly
    as lm_eval/filters/extraction.py RegexFilter and lm_eval/api/metrics.py exact_match_hf_evaluate do;
  - the few-shot assembly of lm_eval/api/task.py fewshot_context / build_qa_turn (description, then
    doc_to_text + target_delimiter + target + fewshot_delimiter per shot, then doc_to_text) and the samplers of
    lm_eval/api/samplers.py (first_n; default = random.Random(1234).sample(docs, n) per item in order);
  - Qwen3's chat template from its tokenizer_config.json, rendered with jinja2 as HF apply_chat_template does.
The C tests (tests/test_tasks_*.c) compare their own output with this file byte for byte.
"""
import ast
import csv
import importlib.util
import json
import random
import re
import sys
import types

import jinja2
import yaml


def load_module(path, name):
    # lm-eval's task utils import `datasets` only for type annotations: a stub module suffices.
    if "datasets" not in sys.modules:
        stub = types.ModuleType("datasets")
        stub.Dataset = object
        sys.modules["datasets"] = stub
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class ListDataset(list):
    def map(self, fn):
        return ListDataset({**d, **fn(d)} for d in self)  # datasets.map adds the returned columns


ENV = jinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render(template, doc):
    return ENV.from_string(template).render(**doc)


class Loader(yaml.SafeLoader):
    pass


Loader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def read_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    lmeval, commit, data, chat_cfg, out_path = sys.argv[1:6]
    out = {"lmeval_commit": commit, "generator": "tools/lmeval-reference/gen_task_expect.py"}
    T = lmeval + "/lm_eval/tasks/"

    # ---- HellaSwag: utils.process_docs on the 10 original records ----
    hs = load_module(T + "hellaswag/utils.py", "hs_utils")
    hy = read_yaml(T + "hellaswag/hellaswag.yaml")
    docs = hs.process_docs(ListDataset(jsonl(data + "/hellaswag/hellaswag_val_head10.jsonl")))
    out["hellaswag"] = [{"context": render(hy["doc_to_text"], d), "choices": d["choices"], "gold": int(d["label"])}
                        for d in docs]
    out["hellaswag_preprocess"] = [[s, hs.preprocess(s)] for s in [
        "  A [title] B ", "x [header] y [step] z", "[a\n] b [c]", "no brackets", "a  b   c", "[unclosed x",
        "Making a cake: [title] Preheat the oven. [step] Mix.", "a [b [c] d] e"]]

    # ---- ARC ----
    ay = read_yaml(T + "arc/arc_easy.yaml")
    out["arc"] = {}
    for name, fname in [("easy", "ARC-Easy-Test.jsonl"), ("challenge", "ARC-Challenge-Test.jsonl")]:
        rows = jsonl(data + "/arc/" + fname)
        # the HF ai2_arc doc: question = stem, choices = {text: [...], label: [...]}, answerKey
        pick = [0, 1, 2]
        pick += [next(i for i, r in enumerate(rows) if r["answerKey"].isdigit())]
        pick += [next(i for i, r in enumerate(rows) if len(r["question"]["choices"]) != 4)]
        items = []
        for i in pick:
            r = rows[i]
            doc = {"question": r["question"]["stem"],
                   "choices": {"text": [c["text"] for c in r["question"]["choices"]],
                               "label": [c["label"] for c in r["question"]["choices"]]},
                   "answerKey": r["answerKey"]}
            # doc_to_choice renders a list's repr; lm-eval reads it back with ast.literal_eval
            choices = ast.literal_eval(render(ay["doc_to_choice"], doc))
            gold = int(render(ay["doc_to_target"], doc))
            items.append({"index": i, "id": r["id"], "context": render(ay["doc_to_text"], doc), "choices": choices,
                          "gold": gold})
        out["arc"][name] = items

    # ---- MMLU: description + first_n 5 dev shots + doc_to_text ----
    my = read_yaml(T + "mmlu/default/_default_template_yaml")
    out["mmlu"] = []
    for subject, idx in [("abstract_algebra", 0), ("sociology", 69), ("business_ethics", 3),
                         ("high_school_european_history", 0), ("college_medicine", 0), ("world_religions", 0)]:
        sy = read_yaml(T + "mmlu/default/mmlu_%s.yaml" % subject)

        def rows(split):
            with open("%s/mmlu/%s/%s_%s.csv" % (data, split, subject, split), newline="", encoding="utf-8") as f:
                return [{"question": r[0], "choices": r[1:5], "answer": "ABCD".index(r[5])} for r in csv.reader(f)]
        dev, test = rows("dev"), rows("test")
        choices = my["doc_to_choice"]
        ctx = sy["description"]
        for shot in dev[:5]:  # FirstNSampler
            ctx += render(my["doc_to_text"], shot) + " " + choices[shot[my["doc_to_target"]]] + "\n\n"
        ctx += render(my["doc_to_text"], test[idx])
        out["mmlu"].append({"subject": subject, "index": idx, "context": ctx, "choices": choices,
                            "gold": test[idx]["answer"]})

    # ---- GSM8K: default sampler, Random(1234).sample(train, 5) once per test item, in order ----
    gy = read_yaml(T + "gsm8k/gsm8k.yaml")
    train = jsonl(data + "/gsm8k/train.jsonl")
    test = jsonl(data + "/gsm8k/test.jsonl")
    rnd = random.Random(1234)
    want = {0, 1, 7, 100, 1318}
    out["gsm8k"] = []
    for i, doc in enumerate(test):
        shots = rnd.sample(train, gy["num_fewshot"])
        if i not in want:
            continue
        ctx = "".join(render(gy["doc_to_text"], s) + " " + render(gy["doc_to_target"], s) + "\n\n" for s in shots)
        ctx += render(gy["doc_to_text"], doc)
        out["gsm8k"].append({"index": i, "context": ctx, "shots": [train.index(s) for s in shots]})

    # gsm8k filters (RegexFilter.apply) and exact_match (regexes_to_ignore, ignore_case)
    flt = {f["name"]: f["filter"][0] for f in gy["filter_list"]}
    ign = gy["metric_list"][0]["regexes_to_ignore"]

    def regex_filter(resp, pattern, group_select):
        match = re.compile(pattern).findall(resp)
        if match:
            match = match[group_select]
            if isinstance(match, tuple):
                match = [m for m in match if m]
                match = match[0] if match else "[invalid]"
            return match.strip()
        return "[invalid]"

    def norm(s):
        for r in ign:
            s = re.sub(r, "", s)
        return s.lower()
    outputs = [
        " Janet sells 16 - 3 - 4 = 9 eggs.\n#### 18", "The answer is 1,234.", "#### -5", "#### $1,000.00",
        "She pays $12.50 in total.", "no number here", "", "#### 72.", "It costs -7 dollars", "x = 3.14159",
        "#### 1.5\n#### 2.5", "We get 5, 6 and 7", "Total: $ 45", "-", "--3", "a-12b", "#### - 4",
        "3.\n", "The result is 10.\nQuestion: next", "1,000,000 people", "$5", "7$", "0.5 of 10 is 5.",
        "#### 12,", "answer: 42!", "####  8", "$$$", "..", "#### 3\n", "it is 2 or 3.", "-.5 and -0.5",
    ]
    refs = ["Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "#### 1234", "#### -5", "#### 1000",
            "#### 12.50", "#### 0", "#### 0", "#### 72", "#### -7", "#### 3.14159", "#### 1.5", "#### 7",
            "#### 45", "#### 0", "#### -3", "#### -12", "#### -4", "#### 3", "#### 10", "#### 1000000",
            "#### 5", "#### 7", "#### 5", "#### 12", "#### 42", "#### 8", "#### 0", "#### 0", "#### 3",
            "#### 3", "#### -0.5"]
    out["gsm8k_extract"] = []
    for o, ref in zip(outputs, refs):
        st = regex_filter(o, flt["strict-match"]["regex_pattern"], flt["strict-match"].get("group_select", 0))
        fl = regex_filter(o, flt["flexible-extract"]["regex_pattern"], flt["flexible-extract"]["group_select"])
        out["gsm8k_extract"].append({"output": o, "reference": ref, "strict": st, "flexible": fl,
                                     "norm_strict": norm(st), "norm_flexible": norm(fl),
                                     "strict_ok": norm(st) == norm(ref), "flexible_ok": norm(fl) == norm(ref)})

    # ---- Math-500 (hendrycks_math500) ----
    mu = load_module(T + "hendrycks_math/utils.py", "math_utils")
    mhy = read_yaml(T + "hendrycks_math/hendrycks_math_algebra.yaml")
    mrows = jsonl(data + "/math500/test.jsonl")
    out["math500"] = []
    with open(chat_cfg, encoding="utf-8") as f:
        chat_template = json.load(f)["chat_template"]
    # HF transformers' chat-template environment: sandboxed, trim_blocks, lstrip_blocks, lenient undefined.
    import jinja2.sandbox
    chat_env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    for i in [0, 1, 2, 3, 4, 499]:
        d = mu.process_docs(ListDataset([mrows[i]]))[0]
        user = mrows[i]["problem"] + " Please reason step by step, and put your final answer within \\boxed{}."
        msgs = [{"role": "user", "content": user}]
        chat = {t: chat_env.from_string(chat_template).render(messages=msgs, add_generation_prompt=True,
                                                         enable_thinking=t) for t in (False, True)}
        out["math500"].append({"index": i, "prompt": render(mhy["doc_to_text"], d), "gold": d["answer"],
                               "chat_nothink": chat[False], "chat_think": chat[True]})
    pairs = [
        ("\\frac{1}{2}", "\\dfrac{1}{2}"), ("\\frac12", "\\frac{1}{2}"), ("0.5", "\\frac{1}{2}"), ("1/2", "\\frac12"),
        ("\\tfrac{3}{4}", "\\frac34"), ("\\left( 1, 2 \\right)", "(1,2)"), ("(1, 2)", "(1,2)"),
        ("10 \\text{ cm}", "10"), ("10\\text{cm}", "10"), ("90^\\circ", "90"), ("90^{\\circ}", "90"),
        ("50\\%", "50"), ("50%", "50"), ("\\$5", "5"), ("x = 5", "5"), ("xy = 5", "5"), ("abc = 5", "5"),
        ("\\sqrt3", "\\sqrt{3}"), ("2\\sqrt2", "2\\sqrt{2}"), ("\\sqrt{3}/2", "\\frac{\\sqrt{3}}{2}"),
        (".5", "0.5"), (" .5", "0.5"), ("{.5}", "{0.5}"), ("[1, 2)", "[1,2)"), ("(-\\infty, 3]", "(-\\infty,3]"),
        ("\\left[ 0, 1 \\right]", "[0,1]"), ("(1,2,3)", "(1, 2, 3)"), ("5", "5.0"), ("5", "05"),
        ("10", "10.0"), ("\\frac{2}{4}", "\\frac{1}{2}"), ("a/b", "\\frac{a}{b}"), ("3/x", "3/x"),
        ("\\text{ cm}\\text{ m}", "\\text{ cm}\\text{ m}"), ("1 \\text{ a} 2 \\text{ b}", "1"),
        ("\\sqrt", "\\sqrt"), ("\\frac", "\\frac"), ("x\\sqrt", "x\\sqrt"), ("\\frac1", "\\frac1"),
        ("\\boxed{5}", "5"), ("5\n", "5"), ("\\!5", "5"), ("\\\\frac{1}{2}", "\\frac{1}{2}"),
        ("2,000", "2000"), ("-3", "-3"), ("- 3", "-3"), ("+3/4", "\\frac{3}{4}"), ("03/4", "\\frac{3}{4}"),
        ("-1/2", "\\frac{-1}{2}"), ("1/-2", "\\frac{1}{-2}"), ("1_0/2", "\\frac{10}{2}"), ("1/2/3", "1/2/3"),
        ("\\frac{1}{2}x", "\\frac12x"), ("\\frac{a}b", "\\frac{a}{b}"), ("\\frac1{72}", "\\frac{1}{72}"),
        ("x=\\frac{1}{2}", "\\frac{1}{2}"), ("k=1=2", "1=2"), ("", ""), (".", "0."), ("\\infty", "\\infty"),
        ("\\pi", "3.14"), ("\\frac{\\pi}{2}", "\\frac\\pi2"), ("y = 2x + 3", "2x+3"), ("6\\%", "6%"),
        ("1,2", "1, 2"), ("\\frac{1}{2}", "0.5"), ("0.50", "\\frac{1}{2}"), ("\\dfrac{9}{4}", "2.25"),
        ("3\\sqrt{2}", "\\sqrt{18}"), ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"), ("25\\%", "0.25"),
        ("1000", "1,000"), ("\\$1,000", "1000"), ("\\text{(A)}", "(A)"), ("\\mbox{ cm}", "\\mbox{cm}"),
    ]
    out["math_pairs"] = []
    for a, b in pairs:
        def strip(s):
            try:
                return mu.strip_string(s)
            except Exception:
                return None
        out["math_pairs"].append({"a": a, "b": b, "strip_a": strip(a), "strip_b": strip(b),
                                  "equiv": bool(mu.is_equiv(a, b))})
    boxed = ["The answer is $\\boxed{5}$.", "\\boxed{\\frac{1}{2}} and then \\boxed{3}", "\\boxed{a{b}c}",
             "no box", "\\fbox{7}", "\\boxed 5$ end", "\\boxed{unclosed", "x \\boxed{\\left(1,2\\right)} y"]
    out["math_boxed"] = []
    for s in boxed:
        lb = mu.last_boxed_only_string(s)
        try:
            rb = mu.remove_boxed(lb) if lb is not None else None
        except (AssertionError, TypeError):
            rb = None
        out["math_boxed"].append({"s": s, "last": lb, "inner": rb})
    dollars = ["The answer is $5$.", "$x$ and $y$", "no dollars", "one $ only", "$$\\frac12$$"]
    out["math_dollar"] = []
    for s in dollars:
        ind = [p for p, c in enumerate(s) if c == "$"]
        out["math_dollar"].append({"s": s, "answer": s if len(ind) <= 1 else s[ind[0] + 1:ind[-1]]})

    # ---- Python's random ----
    r = random.Random(1234)
    out["pyrandom"] = {"u32_1234": [r.getrandbits(32) for _ in range(8)]}
    r = random.Random(1234)
    out["pyrandom"]["sample_7473_5"] = [r.sample(range(7473), 5) for _ in range(4)]
    r = random.Random(0)
    out["pyrandom"]["sample_small"] = [r.sample(range(10), 5), r.sample(range(30), 7), r.sample(range(100), 10),
                                       r.sample(range(5), 5), r.sample(range(1000), 1)]
    r = random.Random(2 ** 40 + 5)
    out["pyrandom"]["u32_big_seed"] = [r.getrandbits(32) for _ in range(4)]
    r = random.Random(7)
    out["pyrandom"]["randbelow"] = [r.randrange(n) for n in (1, 2, 3, 1000, 7473, 2 ** 31 - 1)]

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""check_fixtures -- runs our engine (`ENGINE -m DIR --ids ... -o FILE`) on every fixture made by
make_fixtures.py and prints max |delta logit| and argmax agreement against transformers' logits.bin.
    python3 tools/qwen3-reference/check_fixtures.py FIXDIR "build/bin/ql logits"
(tests/test_model.c makes the same comparison in C; this script is for the GPU machine, right after the
fixtures are made.) Exit status 1 if any max |delta| exceeds 1e-3 or any argmax differs."""
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qlref  # noqa: E402


def main():
    root, engine = sys.argv[1], sys.argv[2]
    ok = True
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "logits.bin")):
            continue
        _, _, seqs = qlref.read_logits(os.path.join(d, "logits.bin"))
        for si, (ids, ref) in enumerate(seqs):
            out = os.path.join(d, "ours-%d.bin" % si)
            r = subprocess.run(shlex.split(engine) + ["-m", d, "--ids", " ".join(map(str, ids)), "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print("FIXTURE %s seq %d: engine failed: %s" % (name, si, r.stderr.strip()))
                ok = False
                continue
            _, _, got = qlref.read_logits(out)
            os.remove(out)
            ours = got[0][1]
            delta = (ours - ref).abs().max().item()
            agree = int((ours.argmax(-1) == ref.argmax(-1)).sum())
            print("FIXTURE %s seq %d: T=%d max|dlogit|=%.3e argmax %d/%d" % (name, si, len(ids), delta, agree,
                                                                           len(ids)))
            ok = ok and delta <= 1e-3 and agree == len(ids)
    print("fixtures:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

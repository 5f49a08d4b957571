#!/usr/bin/env python3
"""Compare the engine's logits with a training run's reference logits (python stdlib only).

REF is a train.py / train_moe.py reference_logits.bin: magic "QLLOGIT1", u32 version 1, u32 T, u32 V, u32 0,
i32 ids[T], f32 logits[T][V] (transformers, BF16 weights in FP32 math). ENGINE is a `ql logits -o` file
(src/model/logits_file.h: "QLLOGITS", u32 version 1, u32 n_seqs, u32 V, u32 D, u32 n_hidden, then per
sequence u32 T, i32 ids[T], f32 logits[T][V], f32 hidden[n_hidden][T][D]); its first sequence is compared.
Prints max |delta logit|, the largest |logit| of the reference, and the argmax agreement; exits 1 when the
ids differ, max |delta| > --tol (default 1e-3, the bound of tests/test_model.c for qwen3-tiny) or any argmax
differs, 2 on a malformed file.

Usage: compare_logits.py REF ENGINE [--tol X]
"""
import array
import struct
import sys


def die(msg):
    sys.stderr.write("compare_logits: %s\n" % msg)
    sys.exit(2)


def floats(buf, off, n, path):
    if off + 4 * n > len(buf):
        die("%s: short file (expected %d more float32 values at byte %d)" % (path, n, off))
    a = array.array("f")
    a.frombytes(buf[off: off + 4 * n])
    if sys.byteorder != "little":
        a.byteswap()
    return a


def read_ref(path):
    buf = open(path, "rb").read()
    if len(buf) < 24 or buf[:8] != b"QLLOGIT1":
        die("%s: expected magic QLLOGIT1 (a train.py reference_logits.bin)" % path)
    ver, T, V, _ = struct.unpack_from("<4I", buf, 8)
    if ver != 1:
        die("%s: expected version 1, got %d" % (path, ver))
    ids = list(struct.unpack_from("<%di" % T, buf, 24))
    lg = floats(buf, 24 + 4 * T, T * V, path)
    return T, V, ids, lg


def read_engine(path):
    buf = open(path, "rb").read()
    if len(buf) < 28 or buf[:8] != b"QLLOGITS":
        die("%s: expected magic QLLOGITS (a `ql logits -o` file)" % path)
    ver, n_seqs, V, D, n_hidden = struct.unpack_from("<5I", buf, 8)
    if ver != 1 or n_seqs < 1:
        die("%s: expected version 1 and at least one sequence" % path)
    (T,) = struct.unpack_from("<I", buf, 28)
    ids = list(struct.unpack_from("<%di" % T, buf, 32))
    lg = floats(buf, 32 + 4 * T, T * V, path)
    return T, V, ids, lg


def main():
    args = sys.argv[1:]
    tol = 1e-3
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i: i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    T, V, ids, ref = read_ref(args[0])
    T2, V2, ids2, eng = read_engine(args[1])
    if (T, V) != (T2, V2) or ids != ids2:
        print("FAILED: shapes or ids differ (reference %d x %d, engine %d x %d)" % (T, V, T2, V2))
        sys.exit(1)
    worst, where, amax_ref, agree = 0.0, (0, 0), 0.0, 0
    for t in range(T):
        r = ref[t * V: (t + 1) * V]
        e = eng[t * V: (t + 1) * V]
        for v in range(V):
            d = abs(r[v] - e[v])
            if d > worst:
                worst, where = d, (t, v)
        amax_ref = max(amax_ref, max(abs(x) for x in r))
        agree += max(range(V), key=r.__getitem__) == max(range(V), key=e.__getitem__)
    ok = worst <= tol and agree == T
    print("%s: %d positions x %d logits: max |delta logit| %.3g (at position %d, id %d; largest |logit| %.3g),"
          " argmax equal at %d/%d (tolerance %.0e)" % ("ok" if ok else "FAILED", T, V, worst, where[0], where[1],
                                                       amax_ref, agree, T, tol))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

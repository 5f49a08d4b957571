#!/usr/bin/python3
"""tools/llamacpp/gguf_py_check.py -- an independent decoder for our GGUF exports: llama.cpp's own gguf-py.

Usage: GGUF_PY_DIR=/path/to/llama.cpp/gguf-py /usr/bin/python3 tools/llamacpp/gguf_py_check.py Q.gguf F32.gguf
Q.gguf is a file `ql export-gguf` wrote (any type); F32.gguf is `ql export-gguf --as-loaded -m Q.gguf`, i.e. our
loader's FP32 decoding of Q.gguf. For every tensor, gguf-py's GGUFReader reads Q.gguf and gguf.quants.dequantize
decodes it (NVFP4 weights then multiplied by their "<base>.scale" tensor, as llama.cpp applies it); the result
must equal the F32 tensor bit for bit. Also prints the metadata gguf-py sees. Needs numpy; gguf-py is the
user's copy (never vendored here). Exit 0 when every tensor matches."""
import os
import sys

sys.path.insert(0, os.environ.get("GGUF_PY_DIR", "gguf-py"))
import numpy as np  # noqa: E402
from gguf import GGUFReader, GGMLQuantizationType  # noqa: E402
from gguf.quants import dequantize  # noqa: E402


def field(r, key):
    f = r.fields.get(key)
    if f is None:
        return None
    if len(f.types) == 1 and f.types[0].name == "STRING":
        return bytes(f.parts[f.data[0]]).decode()
    if f.types[0].name == "ARRAY":
        return f"array[{len(f.data)}]"
    return f.parts[f.data[0]].tolist()


def main():
    q, ref = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
    for k in ("general.architecture", "qwen3.block_count", "qwen3.embedding_length", "qwen3.rope.freq_base",
              "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.merges",
              "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token"):
        print(f"  {k} = {field(q, k)}")
    rt = {t.name: t for t in ref.tensors}
    qt = {t.name: t for t in q.tensors}
    bad = 0
    n = 0
    for name, t in qt.items():
        if name.endswith(".scale"):
            continue
        y = dequantize(t.data, t.tensor_type).astype(np.float32)
        if t.tensor_type == GGMLQuantizationType.NVFP4:
            s = qt[name[: -len(".weight")] + ".scale"].data.astype(np.float32)
            y = (y.reshape(len(s), -1) * s[:, None]).reshape(y.shape) if len(s) > 1 else y * s[0]
        r = np.asarray(rt[name].data, dtype=np.float32).reshape(y.shape)
        n += 1
        if not np.array_equal(y.view(np.uint32) & 0x7FFFFFFF == 0, r.view(np.uint32) & 0x7FFFFFFF == 0) or \
                not np.array_equal(y, r):
            bad += 1
            d = np.abs(y - r)
            print(f"  MISMATCH {name} ({t.tensor_type.name}): {int((y != r).sum())} values, max |d| {d.max():.3g}")
    print(f"{'ok' if bad == 0 else 'FAILED'} gguf-py decodes {n} tensors of {sys.argv[1]} "
          f"{'exactly as' if bad == 0 else 'differently from'} our loader ({bad} mismatches)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Join safetensors shards into one model.safetensors (python stdlib only).

The GPU machine returns files of at most 16 MiB, so train.py writes the BF16
weights as shards plus model.safetensors.index.json. This script joins them
into a single file with the tensors in sorted name order, a JSON header padded
with spaces to a multiple of 8 bytes (as the safetensors library does), and
the shards' metadata ({"format": "pt"}). Tensor bytes are copied unchanged;
every tensor is read back and compared before the script reports success.

Usage: merge_shards.py SHARD_DIR OUT_FILE
"""

import json
import os
import struct
import sys


def read_safetensors(path):
    """Return (metadata, {name: (dtype, shape, bytes)}) of one file."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    hdr = json.loads(blob[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = hdr.pop("__metadata__", None)
    out = {}
    for k, v in hdr.items():
        a, b = v["data_offsets"]
        out[k] = (v["dtype"], v["shape"], blob[base + a: base + b])
    return meta, out


def write_safetensors(path, tensors, meta):
    hdr = {}
    if meta:
        hdr["__metadata__"] = meta
    off = 0
    names = sorted(tensors)
    for k in names:
        dt, shape, data = tensors[k]
        hdr[k] = {"dtype": dt, "shape": shape,
                  "data_offsets": [off, off + len(data)]}
        off += len(data)
    h = json.dumps(hdr, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for k in names:
            f.write(tensors[k][2])
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    idx = json.load(open(os.path.join(src, "model.safetensors.index.json")))
    files = sorted(set(idx["weight_map"].values()))
    tensors, meta = {}, None
    for fn in files:
        m, t = read_safetensors(os.path.join(src, fn))
        meta = meta or m
        for k in t:
            if k in tensors:
                sys.exit("tensor %s appears twice" % k)
            if idx["weight_map"].get(k) != fn:
                sys.exit("tensor %s not in the index under %s" % (k, fn))
        tensors.update(t)
    if set(tensors) != set(idx["weight_map"]):
        sys.exit("index and shards disagree")
    total = sum(len(v[2]) for v in tensors.values())
    if total != idx["metadata"]["total_size"]:
        sys.exit("total_size %d != %d" % (total, idx["metadata"]["total_size"]))
    write_safetensors(dst, tensors, meta)
    _, back = read_safetensors(dst)
    if back != tensors:
        sys.exit("read-back mismatch")
    print("%s: %d tensors, %d data bytes, %d file bytes" %
          (dst, len(tensors), total, os.path.getsize(dst)))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# fetch-weights -- puts an embedded model's weights into models/<name>/model.safetensors from the git branch
# weights/<name> of this repository (local, or any remote's copy), checked against models/<name>/SHA256SUMS.
# Why a branch: the weights of qwen3-tiny-moe (64 MB) would push the checked-out tree past what the GPU machines
# accept (64 MiB per call), so main tracks only their hash; the bytes live in the repository's history on their own
# branch, which a clone brings along. Usage: tools/fetch-weights.sh NAME. Exit 0 when the file is in place and
# verified; 1 with one line saying what is missing otherwise. Writes through a temporary file (atomic).
set -euo pipefail
name=${1:?usage: tools/fetch-weights.sh NAME}
dir="models/$name"
out="$dir/model.safetensors"
want=$(awk '$2 == "model.safetensors" {print $1}' "$dir/SHA256SUMS")
[ -n "$want" ] || { echo "fetch-weights: $dir/SHA256SUMS: no line for model.safetensors" >&2; exit 1; }
if [ -f "$out" ] && [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$want" ]; then exit 0; fi
ref=
for r in "weights/$name" $(git for-each-ref --format='%(refname)' "refs/remotes/*/weights/$name"); do
    if git rev-parse -q --verify "$r^{commit}" >/dev/null; then ref=$r; break; fi
done
if [ -z "$ref" ]; then
    echo "fetch-weights: $out: no branch weights/$name in this clone (hint: git fetch origin weights/$name:weights/$name, or retrain with tools/train-tiny/train_moe.py; sha256 must be $want)" >&2
    exit 1
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
git cat-file blob "$ref:model.safetensors" > "$tmp"
got=$(sha256sum "$tmp" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "fetch-weights: $ref:model.safetensors: sha256 $got, expected $want" >&2; exit 1; }
mv -f "$tmp" "$out"
trap - EXIT
echo "fetch-weights: $out from $ref (sha256 verified)" >&2

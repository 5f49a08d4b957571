#!/usr/bin/env bash
# fetch-weights -- puts an embedded model's weights into models/<name>/model.safetensors from this repository's
# history, checked against models/<name>/SHA256SUMS.
# Why not in the tree: the weights of qwen3-tiny-moe (48 MB) would push the checked-out tree past what the GPU
# machines accept (64 MiB per call), so main tracks only their hash. The bytes are a blob of main's own history:
# one commit adds models/<name>/model.safetensors and the next removes it from the tree, so every clone of main
# with its history holds them (a shallow clone does not: `git fetch --unshallow`). A branch weights/<name>
# (local or a remote's), the earlier home of the file, is searched too. Usage: tools/fetch-weights.sh NAME.
# Exit 0 when the file is in place and verified; 1 with one line saying what is missing otherwise. Writes
# through a temporary file (atomic).
set -euo pipefail
name=${1:?usage: tools/fetch-weights.sh NAME}
dir="models/$name"
out="$dir/model.safetensors"
want=$(awk '$2 == "model.safetensors" {print $1}' "$dir/SHA256SUMS")
[ -n "$want" ] || { echo "fetch-weights: $dir/SHA256SUMS: no line for model.safetensors" >&2; exit 1; }
if [ -f "$out" ] && [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$want" ]; then exit 0; fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# Candidates, newest first: the branch (file at its root), then every commit of HEAD's history whose tree
# holds the path. --full-history: the commits that add and remove the file sit on a merged branch, and the
# default history simplification drops a side branch whose end is TREESAME for the path (both lack the file).
cands=()
for r in "weights/$name" $(git for-each-ref --format='%(refname)' "refs/remotes/*/weights/$name"); do
    git rev-parse -q --verify "$r^{commit}" >/dev/null && cands+=("$r:model.safetensors")
done
for c in $(git rev-list --full-history HEAD -- "$out" 2>/dev/null); do
    git cat-file -e "$c:$out" 2>/dev/null && cands+=("$c:$out")
done
for obj in "${cands[@]}"; do
    git cat-file blob "$obj" > "$tmp"
    if [ "$(sha256sum "$tmp" | cut -d' ' -f1)" = "$want" ]; then
        mv -f "$tmp" "$out"
        trap - EXIT
        echo "fetch-weights: $out from $obj (sha256 verified)" >&2
        exit 0
    fi
done
if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then hint="this clone is shallow: git fetch --unshallow"
else hint="retrain with tools/train-tiny/train_moe.py"; fi
echo "fetch-weights: $out: no blob with sha256 $want in this clone's history (${#cands[@]} candidate(s) looked at; $hint)" >&2
exit 1

#!/usr/bin/env bash
# check-refactor -- prove that a change changed no number: builds git revision REV in a temporary worktree and
# the work tree as it is, runs the accuracy experiments of both on THIS machine (--force, into temporary
# results trees, so nothing committed is touched), and compares "metrics" and "cases" file by file
# (tools/compare-metrics.py --dirs). Both sides run on the same CPU and BLAS build, so the comparison is
# bit for bit; the committed results may come from another machine and are not the reference here.
# Usage: tools/check-refactor.sh REV [EXPERIMENT ...]   (default: e01-formats e02-perplexity e03-kld e08-targets)
# Cost: about 5 minutes per side for the defaults on 2 idle cores. Exit 0 when every file is the same.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: tools/check-refactor.sh REV [EXPERIMENT ...]" >&2; exit 2; }
rev=$1; shift
exps=${*:-e01-formats e02-perplexity e03-kld e08-targets}
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d /tmp/check-refactor.XXXXXX)
trap 'git -C "$top" worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git -C "$top" worktree add -q --detach "$tmp/base" "$rev"
run_side() {   # run_side DIR OUT: build the drivers in DIR and run every experiment into OUT
    local dir=$1 out=$2
    make -C "$dir" -j2 $(for e in $exps; do echo "build/bin/$e"; done) >/dev/null
    for e in $exps; do
        # e08 reads e02 / e03: point it at the same results tree; e03's reference cache is per side.
        (cd "$dir" && "build/bin/$e" --force --results "$out" $( [ "$e" = e03-kld ] && echo --cache "$out/.e03-ref" )) \
            2> "$out.$e.log" || { echo "check-refactor: $e failed in $dir (log: $out.$e.log)" >&2; exit 1; }
    done
}
mkdir -p "$tmp/res-base" "$tmp/res-here"
run_side "$tmp/base" "$tmp/res-base"
run_side "$top" "$tmp/res-here"
rm -rf "$tmp/res-base/.e03-ref" "$tmp/res-here/.e03-ref"
python3 "$top/tools/compare-metrics.py" --dirs "$tmp/res-here" "$tmp/res-base"

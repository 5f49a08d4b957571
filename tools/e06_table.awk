# e06_table.awk -- prints the Markdown table of the fraction of the roofline attained per kernel, shape and M
# from the committed e06 records (bench.jsonl and torch.jsonl of results/<model>@<gpu>/e06-kernels/), for the
# experiment's README and reports: numbers are copied from the records (3 decimals), never typed.
# Usage: awk -v mode=isolated|stream -v metric=roofline_frac -f tools/e06_table.awk DIR/bench.jsonl [DIR/torch.jsonl]
# Rows: (layer, N x K, M) in the order of the records; columns: the kernels below; "-" where not measured.

function field(line, key,    re, s) {
    re = "\"" key "\": (\"[^\"]*\"|[^,}]*)"
    if (!match(line, re)) return ""
    s = substr(line, RSTART, RLENGTH)
    sub("^\"" key "\": ", "", s)
    gsub(/^"|"$/, "", s)
    return s
}

BEGIN {
    if (mode == "") mode = "isolated"
    if (metric == "") metric = "roofline_frac"
    nk = split("nvfp4 mxfp4 int4-g32-sym int4-g128-sym int4-g32-asym int4-g128-asym cublas-bf16 cublaslt-fp8 torch-matmul-bf16 torch-scaled-mm-fp8", K, " ")
}

{
    if (field($0, "mode") != mode) next
    st = field($0, "depth")
    if (st != "" && st != "0" && st != "1") next
    row = field($0, "model") " | " field($0, "layer") " | " field($0, "N") " x " field($0, "K") " | " field($0, "M")
    if (!(row in seen)) { seen[row] = 1; rows[++nr] = row }
    v[row, field($0, "kernel")] = sprintf("%.3f", field($0, metric))
}

END {
    printf "| model | layer | N x K | M |"
    for (i = 1; i <= nk; i++) printf " %s |", K[i]
    printf "\n|---|---|---|---|"
    for (i = 1; i <= nk; i++) printf "---|"
    printf "\n"
    for (r = 1; r <= nr; r++) {
        printf "| %s |", rows[r]
        for (i = 1; i <= nk; i++) printf " %s |", ((rows[r], K[i]) in v) ? v[rows[r], K[i]] : "-"
        printf "\n"
    }
}

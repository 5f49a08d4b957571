# e06_results.awk -- turns the raw e06 benchmark records of one folder results/<model>@<gpu>/e06-kernels/
# (bench.jsonl from tests/bench_e06.cu, torch.jsonl from tools/e06_torch.py, manifest.json) into one results
# file per kernel, <kernel>.json, in the layout every figure and report reads (DESIGN.md "Results files"):
#   {"experiment": "e06-kernels", "model": M, "recipe": KERNEL, "manifest": <manifest.json>,
#    "metrics": {copy_gbps, cublas_bf16_gemm_tflops, cublaslt_fp8_gemm_tflops (the run's ceilings)},
#    "cases": [{"name": "<N>x<K>-M<M>[-stream|-d<depth>]", "metrics": {N, K, M, median_ms, p10_ms, p90_ms, gbps,
#               tflops, frac_copy, frac_compute, roofline_frac, copy_same_ms, copy_same_gbps, frac_copy_same,
#               frac_target (null where a record has none: stream mode, older records)}}, ...]}
# Records of mode "sweep" (bench_e06 --sweep: other work splits) are exploration only and skipped.
# Case names: the default launch ("isolated", pipeline depth 1 for the W4A16 GEMVs) is "<N>x<K>-M<M>"; the
# back-to-back mode adds "-stream"; another pipeline depth "-d<depth>". Nothing is computed here: numbers are copied as
# written by the benchmark. Usage (make e06-results does it for every folder):
#   awk -v dir=DIR -v model=NAME -f tools/e06_results.awk DIR/manifest.json DIR/bench.jsonl [DIR/torch.jsonl]
# Writes DIR/<kernel>.json.tmp files; the caller renames them into place. Input lines are the flat JSON
# objects the two programs print (string values without escapes), parsed by the regular expression below.

function field(line, key,    re, s) {
    re = "\"" key "\": (\"[^\"]*\"|[^,}]*)"
    if (!match(line, re)) return ""
    s = substr(line, RSTART, RLENGTH)
    sub("^\"" key "\": ", "", s)
    gsub(/^"|"$/, "", s)
    return s
}

FNR == 1 { file++ }
file == 1 { manifest = manifest (manifest == "" ? "" : "\n") $0; next }

{
    k = field($0, "kernel")
    mode = field($0, "mode")
    if (k == "" || mode == "sweep") next
    if (mode == "ceiling") {
        if (k == "copy") copy = field($0, "gbps")
        else if (k == "cublas-bf16-gemm") bf16 = field($0, "tflops")
        else if (k == "cublaslt-fp8-gemm") fp8 = field($0, "tflops")
        next
    }
    name = field($0, "N") "x" field($0, "K") "-M" field($0, "M")
    if (mode == "stream") name = name "-stream"
    w = field($0, "depth")
    if (mode != "stream" && w != "0" && w != "1") name = name "-d" w
    if (!(k in seen)) { seen[k] = 1; kernels[++nk] = k }
    shp = field($0, "N") "x" field($0, "K")
    if (!(shp in seen_shape)) { seen_shape[shp] = field($0, "layer"); shapes[++ns] = shp }
    present[k, name] = 1
    c = "{\"name\": \"" name "\", \"layer\": \"" field($0, "layer") "\", \"metrics\": {"
    n_f = split("N K M median_ms p10_ms p90_ms bytes gbps tflops frac_copy frac_compute roofline_frac copy_same_ms copy_same_gbps frac_copy_same frac_target", F, " ")
    for (i = 1; i <= n_f; i++) { fv = field($0, F[i]); c = c (i > 1 ? ", " : "") "\"" F[i] "\": " (fv == "" ? "null" : fv) }
    c = c "}}"
    cases[k] = cases[k] (cases[k] == "" ? "" : ",\n    ") c
}

END {
    if (copy == "" || bf16 == "") { print "e06_results.awk: " dir ": no ceiling lines in bench.jsonl" > "/dev/stderr"; exit 1 }
    if (fp8 == "") fp8 = "null"
    # Cases not measured for a kernel (the W4A16 GEMVs above M = 8, the stream mode of the big GEMMs, ...) are
    # written as null on the grid every figure reads: each shape seen, M in 1 4 8 64 512 4096, both modes.
    n_m = split("1 4 8 64 512 4096", MS, " ")
    for (i = 1; i <= nk; i++) {
        k = kernels[i]
        for (si = 1; si <= ns; si++)
            for (mi = 1; mi <= n_m; mi++)
                for (sfx = 0; sfx < 2; sfx++) {
                    name = shapes[si] "-M" MS[mi] (sfx ? "-stream" : "")
                    if ((k, name) in present) continue
                    cases[k] = cases[k] ",\n    {\"name\": \"" name "\", \"layer\": \"" seen_shape[shapes[si]] \
                        "\", \"metrics\": {\"median_ms\": null, \"gbps\": null, \"tflops\": null, \"frac_copy\": null, " \
                        "\"frac_compute\": null, \"roofline_frac\": null}}"
                }
    }
    for (i = 1; i <= nk; i++) {
        k = kernels[i]
        out = dir "/" k ".json.tmp"
        printf "{\n  \"experiment\": \"e06-kernels\",\n  \"model\": \"%s\",\n  \"recipe\": \"%s\",\n", model, k > out
        printf "  \"manifest\": %s,\n", manifest > out
        printf "  \"metrics\": {\"copy_gbps\": %s, \"cublas_bf16_gemm_tflops\": %s, \"cublaslt_fp8_gemm_tflops\": %s},\n", copy, bf16, fp8 > out
        printf "  \"cases\": [\n    %s\n  ]\n}\n", cases[k] > out
        close(out)
        print k
    }
}

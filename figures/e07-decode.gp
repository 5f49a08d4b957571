# e07-decode.gp -- figure 1 of e07-serving: decode throughput of our CUDA engine's serving path against the
# batch (sequences decoded in lock step at context 513) per recipe, Qwen3-8B shape (random seeded weights),
# H200, the faster of CUDA-graph replay and plain launches; dashed: each recipe's bound, batch x copy bandwidth
# / bytes a step must read (weights as stored, lm_head, the batch's embedding rows and KV cache), bandwidth
# measured in the same run. W8A8 / W4A4 recipes run weight-only here (the recipe's weight storage, FP16 / BF16
# activations): experiments/e07-serving/spec.en.md.
# Data: build/out/data/e07-decode.tsv (ql figdata from results/Qwen3-8B@H200/e07-serving/<recipe>.json, derived
# from the committed serve.jsonl by `make e07-results`).
#% data Qwen3-8B@H200/e07-serving
#% rows bf16 fp8 nvfp8 mxfp8 nvfp4-w4a16 mxfp4-w4a16 gptq awq
#% col recipe [name, str] recipe (results file)
#% col tok_s@B1 [tok/s, f64] decode tokens/s, batch 1
#% col tok_s@B8 [tok/s, f64] batch 8
#% col tok_s@B32 [tok/s, f64] batch 32
#% col bound_tok_s@B1 [tok/s, f64] bandwidth bound, batch 1
#% col bound_tok_s@B8 [tok/s, f64] bandwidth bound, batch 8
#% col bound_tok_s@B32 [tok/s, f64] bandwidth bound, batch 32

fig = 'e07-decode'
load 'figures/style.gp'
if (!exists("title_e07_decode")) title_e07_decode = (lang eq 'zh') ? \
    '解码吞吐量与批大小（Qwen3-8B 形状，H200，上下文 513）；虚线：带宽上限' : \
    'Decode throughput against batch (Qwen3-8B shape, H200, context 513); dashed: bandwidth bound'
if (!exists("lab_batch")) lab_batch = (lang eq 'zh') ? '批大小（同步解码的序列数，对数刻度）' : 'Batch (sequences decoded in lock step, log scale)'
if (!exists("lab_tok_s")) lab_tok_s = (lang eq 'zh') ? '解码 token/秒（对数刻度）' : 'Decode tokens/s (log scale)'
if (!exists("lab_no_data")) lab_no_data = (lang eq 'zh') ? '无 e07 结果（需要 GPU 运行）' : 'No e07 results (needs a GPU run)'

array Bv[3] = [1, 8, 32]
nrows = 0
stats datafile using (nrows = nrows + 1, 0) nooutput
array names[nrows > 0 ? nrows : 1]
set print $T
do for [i=0:nrows-1] {
    stats datafile every ::i::i using (names[i+1] = strcol(1), 0) nooutput
    do for [j=1:3] {
        v = NaN
        b = NaN
        stats datafile every ::i::i using (v = column(j+1), b = column(j+4), 0) nooutput
        if (v == v) { print sprintf("%g\t%g\t%g", Bv[j], v, b) }
    }
    print ""
    print ""
}
unset print

set title title_e07_decode
set xlabel lab_batch
set ylabel lab_tok_s
set logscale xy
set xrange [0.8:40]
set xtics ("1" 1, "8" 8, "32" 32)
set key outside right top
set grid xtics ytics
set bmargin 4
if (nrows == 0) { set label 1 lab_no_data at graph 0.5, 0.5 center; unset logscale }
plots = (nrows == 0) ? "plot [0:1][0:1] 0.5 with lines lc rgb '#ffffff' notitle" : \
    "plot for [i=0:nrows-1] $T index i using 1:2 with linespoints lt (i+1) title names[i+1], " . \
    "for [i=0:nrows-1] $T index i using 1:3 with lines lt (i+1) dt 2 notitle"

eval svg_begin
eval plots
eval png_begin
eval plots
unset output

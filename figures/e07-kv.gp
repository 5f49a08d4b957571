# e07-kv.gp -- figure 2 of e07-serving: KV-cache capacity (tokens) per recipe at 80% of the H200's memory, after
# the weights as stored and the engine's scratch, Qwen3-30B-A3B shape (where the weights are largest): our
# engine's FP32 cache as it stores it, and the same budget in a BF16 cache (2 bytes per element).
# capacity = (0.8 x GPU memory - weight bytes - scratch bytes) / KV bytes per token (all layers, K and V).
# Data: build/out/data/e07-kv.tsv (ql figdata from results/Qwen3-30B-A3B@H200/e07-serving/<recipe>.json).
#% data Qwen3-30B-A3B@H200/e07-serving
#% rows bf16 fp8 nvfp8 mxfp8 nvfp4-w4a16 mxfp4-w4a16 gptq awq
#% col recipe [name, str] recipe (results file)
#% col kv_capacity_tokens [tokens, f64] FP32 cache (as our engine stores it)
#% col kv_capacity_tokens_bf16 [tokens, f64] BF16 cache, same memory budget

fig = 'e07-kv'
load 'figures/style.gp'
if (!exists("title_e07_kv")) title_e07_kv = (lang eq 'zh') ? \
    'GPU 显存 80% 下的 KV 缓存容量（Qwen3-30B-A3B 形状，H200）' : \
    'KV-cache capacity at 80% of GPU memory (Qwen3-30B-A3B shape, H200)'
if (!exists("lab_recipe")) lab_recipe = (lang eq 'zh') ? '配方' : 'Recipe'
if (!exists("lab_kv_tokens")) lab_kv_tokens = (lang eq 'zh') ? 'KV 缓存容量（千 token）' : 'KV-cache capacity (thousand tokens)'
if (!exists("lab_kv_fp32")) lab_kv_fp32 = (lang eq 'zh') ? 'FP32 缓存（本引擎）' : 'FP32 cache (our engine)'
if (!exists("lab_kv_bf16")) lab_kv_bf16 = (lang eq 'zh') ? 'BF16 缓存' : 'BF16 cache'
if (!exists("lab_no_data")) lab_no_data = (lang eq 'zh') ? '无 e07 结果（需要 GPU 运行）' : 'No e07 results (needs a GPU run)'

nrows = 0
stats datafile using (nrows = nrows + 1, 0) nooutput

set title title_e07_kv
set xlabel lab_recipe
set ylabel lab_kv_tokens
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set key outside right top
set xtics rotate by 30 right scale 0
set bmargin 7
if (nrows == 0) { set label 1 lab_no_data at graph 0.5, 0.75 center }
plots = (nrows == 0) ? "plot [0:1][0:1] 0.5 with lines lc rgb '#ffffff' notitle" : \
    "plot datafile using ($2 / 1000):xtic(1) lt 1 title lab_kv_fp32, '' using ($3 / 1000) lt 2 title lab_kv_bf16"

eval svg_begin
eval plots
eval png_begin
eval plots
unset output

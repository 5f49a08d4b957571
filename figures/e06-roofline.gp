# e06-roofline.gp -- figure 1 of e06-kernels: the fraction of the roofline each kernel attains against the
# batch M (tokens per call) at one Qwen3-8B shape, the gate / up projection (N 12288 x K 4096), on the H200.
# The roofline of a call is max(bytes / copy bandwidth, flops / matrix rate), both ceilings measured in the
# same run (device-to-device copy; cuBLAS BF16 GEMM 8192^3, or cuBLASLt FP8 for the FP8 kernels); 1 means
# the call ran as fast as the larger of the two allows. Isolated calls (L2 flushed before each; median of
# 50). The packed W4A16 GEMVs exist for M <= 8 only; cuBLAS / cuBLASLt / PyTorch run every M.
# Data: build/out/data/e06-roofline.tsv (ql figdata from results/Qwen3-8B@H200/e06-kernels/<kernel>.json,
# which `make e06-results` derives from the committed bench.jsonl / torch.jsonl; a missing case is null).
#% data Qwen3-8B@H200/e06-kernels
#% rows nvfp4 mxfp4 int4-g128-sym int4-g128-asym int4-g32-asym cublas-bf16 cublaslt-fp8 torch-matmul-bf16 torch-scaled-mm-fp8
#% col recipe [name, str] kernel (results file)
#% col roofline_frac@12288x4096-M1 [1, f64] fraction of the roofline at M = 1
#% col roofline_frac@12288x4096-M4 [1, f64] at M = 4
#% col roofline_frac@12288x4096-M8 [1, f64] at M = 8
#% col roofline_frac@12288x4096-M64 [1, f64] at M = 64
#% col roofline_frac@12288x4096-M512 [1, f64] at M = 512
#% col roofline_frac@12288x4096-M4096 [1, f64] at M = 4096

fig = 'e06-roofline'
load 'figures/style.gp'
if (!exists("title_e06_roofline")) title_e06_roofline = (lang eq 'zh') ? \
    'Qwen3-8B gate/up（12288 × 4096）在 H200 上达到的屋顶线比例' : \
    'Fraction of the roofline attained, Qwen3-8B gate/up (12288 x 4096), H200'
if (!exists("lab_batch_m")) lab_batch_m = (lang eq 'zh') ? '每次调用的 token 数 M（对数刻度）' : 'Tokens per call M (log scale)'
if (!exists("lab_roofline_frac")) lab_roofline_frac = (lang eq 'zh') ? '屋顶线比例（1 = 达到上限）' : 'Fraction of the roofline (1 = at the ceiling)'
if (!exists("lab_no_data")) lab_no_data = (lang eq 'zh') ? '无 e06 结果（需要 GPU 运行）' : 'No e06 results (needs a GPU run)'

array Mv[6] = [1, 4, 8, 64, 512, 4096]
# Rows -> one datablock index per kernel, defined points only (a missing M is left out, so lines join the
# measured ones). No rows (no results): an empty frame that says so.
nrows = 0
stats datafile using (nrows = nrows + 1, 0) nooutput
array names[nrows > 0 ? nrows : 1]
set print $T
do for [i=0:nrows-1] {
    stats datafile every ::i::i using (names[i+1] = strcol(1), 0) nooutput
    do for [j=1:6] {
        v = NaN
        stats datafile every ::i::i using (v = column(j+1), 0) nooutput
        if (v == v) { print sprintf("%g\t%g", Mv[j], v) }
    }
    print ""
    print ""
}
unset print

set title title_e06_roofline
set xlabel lab_batch_m
set ylabel lab_roofline_frac
set logscale x 2
set xrange [0.7:6000]
set yrange [0:1.1]
set xtics ("1" 1, "4" 4, "8" 8, "64" 64, "512" 512, "4096" 4096) rotate by 0 center
set offsets 0, 0, 0, 0
set bmargin 4
set key outside right top
set grid xtics ytics
if (nrows == 0) { set label 1 lab_no_data at graph 0.5, 0.75 center }
# The palette has 8 colours (style.gp, cycle 8): series 9 on reuse a colour, so they are drawn dashed.
plots = (nrows == 0) ? "plot [1:4096][0:1] 0.5 with lines lc rgb '#ffffff' notitle" : \
    "plot 1 with lines lt 8 dt 2 lw 1 notitle, for [i=0:(nrows < 8 ? nrows : 8)-1] $T index i using 1:2 with linespoints lt (i+1) title names[i+1], \
     for [i=8:nrows-1] $T index i using 1:2 with linespoints lt (i+1) dt 2 title names[i+1]"

eval svg_begin
eval plots
eval png_begin
eval plots
unset output

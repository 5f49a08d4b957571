# e06-gbps.gp -- figure 2 of e06-kernels: bandwidth each kernel reaches at M = 1 (one token: decode) on the
# Linear shapes of Qwen3-8B, on the H200, in the steady state of a decode step (back-to-back calls over
# weights that together exceed 8 x the L2, so every call reads HBM), against the device-to-device copy
# bandwidth measured in the same run (dashed line). GB/s counts the bytes the call must move: the weight as
# stored (packed codes and scales for the 4-bit formats, 1 byte per weight for FP8, 2 for BF16), x and y.
# A 4-bit kernel moves ~3.5x fewer bytes than BF16, so at equal GB/s it is ~3.5x faster.
# Data: build/out/data/e06-gbps.tsv (ql figdata from results/Qwen3-8B@H200/e06-kernels/<kernel>.json).
#% data Qwen3-8B@H200/e06-kernels
#% rows nvfp4 mxfp4 int4-g32-sym int4-g64-sym int4-g128-sym int4-g32-asym int4-g64-asym int4-g128-asym cublas-bf16 cublaslt-fp8
#% col recipe [name, str] kernel (results file)
#% col gbps@4096x4096-M1-stream [GB/s, f64] q, o (4096 x 4096)
#% col gbps@1024x4096-M1-stream [GB/s, f64] k, v (1024 x 4096)
#% col gbps@12288x4096-M1-stream [GB/s, f64] gate, up (12288 x 4096)
#% col gbps@4096x12288-M1-stream [GB/s, f64] down (4096 x 12288)
#% col gbps@151936x4096-M1-stream [GB/s, f64] lm_head (151936 x 4096)
#% col copy_gbps [GB/s, f64] device-to-device copy bandwidth of the same run

fig = 'e06-gbps'
load 'figures/style.gp'
if (!exists("title_e06_gbps")) title_e06_gbps = (lang eq 'zh') ? \
    'M = 1 时各内核的带宽（Qwen3-8B 各线性层，H200，连续调用）' : \
    'Bandwidth at M = 1 by kernel (Qwen3-8B Linears, H200, back-to-back calls)'
if (!exists("lab_kernel")) lab_kernel = (lang eq 'zh') ? '内核' : 'Kernel'
if (!exists("lab_gbps")) lab_gbps = 'GB/s'
if (!exists("lab_copy_bw")) lab_copy_bw = (lang eq 'zh') ? '设备内拷贝带宽（同次运行）' : 'device copy bandwidth (same run)'
if (!exists("lab_no_data")) lab_no_data = (lang eq 'zh') ? '无 e06 结果（需要 GPU 运行）' : 'No e06 results (needs a GPU run)'
# The shape names of the five columns (the same in both languages but for the separators).
array shp[5]
if (lang eq 'zh') { shp[1] = 'q、o 4096×4096'; shp[2] = 'k、v 1024×4096'; shp[3] = 'gate、up 12288×4096'; \
    shp[4] = 'down 4096×12288'; shp[5] = 'lm_head 151936×4096' } \
else { shp[1] = 'q, o 4096x4096'; shp[2] = 'k, v 1024x4096'; shp[3] = 'gate, up 12288x4096'; \
    shp[4] = 'down 4096x12288'; shp[5] = 'lm_head 151936x4096' }

nrows = 0
copy = 0
stats datafile using (nrows = nrows + 1, copy = column(7), 0) nooutput

set title title_e06_gbps
set xlabel lab_kernel
set ylabel lab_gbps
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set key outside right top
set xtics rotate by 30 right scale 0
set bmargin 7
if (nrows == 0) { set label 1 lab_no_data at graph 0.5, 0.5 center }
if (nrows > 0 && copy > 0) { set arrow 1 from graph 0, first copy to graph 1, first copy nohead lc rgb '#000000' dt 2 lw 1; \
    set label 2 lab_copy_bw at graph 0.99, first copy offset 0, 0.6 right }
plots = (nrows == 0) ? "plot 1/0 notitle" : \
    "plot for [c=2:6] datafile using c:xtic(1) lt (c-1) title shp[c - 1]"

eval svg_begin
eval plots
eval png_begin
eval plots
unset output

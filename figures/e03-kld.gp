# e03-kld.gp -- figure 1 of e03-kld: KL(BF16 || recipe) per recipe on a log scale, mean, median and 99th
# percentile over the scored tokens, each with its 95 % bootstrap interval. BF16 itself (exactly 0) cannot sit
# on a log axis and is left out. Lower is better; one decade is a tenfold change in divergence. One line per
# recipe, in the recipe table's order. figures/e03-kld-moe.gp draws the same for qwen3-tiny-moe.
# Data: build/out/data/e03-kld.tsv, written by `ql figdata` from the lines below and the results files.
#% data e03-kld
#% rows -bf16
#% col recipe [name, str] recipe (the results file name)
#% col kld_mean [nat, f64] mean KL divergence per token
#% col kld_mean_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_mean_hi [nat, f64] 95 % bootstrap interval, high end
#% col kld_median [nat, f64] median KL divergence
#% col kld_median_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_median_hi [nat, f64] 95 % bootstrap interval, high end
#% col kld_p99 [nat, f64] 99th percentile of the KL divergence
#% col kld_p99_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_p99_hi [nat, f64] 95 % bootstrap interval, high end

if (!exists("fig")) fig = 'e03-kld'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e03_kld")) title_e03_kld = (lang eq 'zh') ? '相对 BF16 的 KL 散度' : 'KL divergence from BF16'
if (!exists("lab_kld")) lab_kld = (lang eq 'zh') ? 'KL(BF16 ‖ 方案)（nat，对数刻度）' : 'KL(BF16 || recipe) (nats, log scale)'
if (!exists("lab_kld_mean")) lab_kld_mean = (lang eq 'zh') ? '均值' : 'mean'
if (!exists("lab_kld_median")) lab_kld_median = (lang eq 'zh') ? '中位数' : 'median'
if (!exists("lab_kld_p99")) lab_kld_p99 = (lang eq 'zh') ? '第 99 百分位' : '99th percentile'

# One line per recipe in the recipe table's order, top to bottom (y = -row), the three statistics stacked
# within the line; 24 px per line.
stats datafile using 2 nooutput
N = STATS_records
fig_h = 130 + 24 * N
set title title_e03_kld . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '')
set xlabel lab_kld
set logscale x
set format x '%.0e'
set yrange [-(N - 0.5):0.5]
set ytics 1 scale 0
set lmargin at screen 0.17
set grid xtics mxtics ytics
set key outside right top
dy = 0.22

eval svg_begin
plot datafile using 2:(-$0 + dy):3:4:ytic(1) with xerrorbars lt 1 title lab_kld_mean, \
     ''       using 5:(-$0):6:7 with xerrorbars lt 3 title lab_kld_median, \
     ''       using 8:(-$0 - dy):9:10 with xerrorbars lt 2 title lab_kld_p99
eval png_begin
replot
unset output

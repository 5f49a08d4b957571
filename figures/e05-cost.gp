# e05-cost.gp -- figure 2 of e05-calibration: what calibration costs, per calibration size N (log scale), one
# line per algorithm and group size: left, the wall time of quant_apply (calibration passes, searches and
# rounding; model loading and evaluation excluded), right, the process's peak resident memory while loading,
# calibrating and quantizing that configuration (VmHWM after a reset: core/memstat.h). Measured on the machine
# that ran it, whose load is not controlled: read times as relative.
# figures/e05-cost-moe.gp draws the same for qwen3-tiny-moe (optional source: a note until e05 ran on it).
# Data: build/out/data/e05-cost.tsv, written by `ql figdata` from the lines below and the results files.
#% data e05-calibration optional
#% col recipe [name, str] configuration (<algo>-g<G>-n<N>)
#% col algorithm [name, str] gptq or awq
#% col group_size [1, f64] INT4 group size G
#% col calib_seqs [1, f64] calibration sequences N
#% col quant_seconds [s, f64] wall time of the quantization
#% col peak_rss_mib [MiB, f64] peak RSS of loading + calibrating + quantizing
#% col calib_len [1, f64] tokens per calibration sequence

if (!exists("fig")) fig = 'e05-cost'
load 'figures/style.gp'
if (!exists("title_e05_cost")) title_e05_cost = (lang eq 'zh') ? '量化耗时与峰值内存' : 'Quantization time and peak memory'
title_e05_cost = title_e05_cost . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '')
# No rows (an optional source without results, e.g. qwen3-tiny-moe before e05 ran on it): a note, no panels.
if (!exists("lab_no_e05")) lab_no_e05 = (lang eq 'zh') ? '尚无结果：%s 上未运行 e05-calibration' : 'No results yet: e05-calibration has not run on %s'
undefine STATS_*
stats datafile using 3 nooutput
if (!exists("STATS_records") || STATS_records == 0) {
    fig_h = 160
    eval svg_begin
    set title title_e05_cost
    unset border; unset tics; unset key; unset grid
    set xrange [0:1]; set yrange [0:1]
    set label 1 sprintf(lab_no_e05, exists("fig_model") ? fig_model : 'this model') at graph 0.5, graph 0.5 center
    plot 2 notitle
    eval png_begin
    replot
    unset output
    exit
}

if (!exists("lab_calib_seqs")) lab_calib_seqs = (lang eq 'zh') ? '校准序列数 N（对数刻度）' : 'Calibration sequences N (log scale)'
if (!exists("lab_quant_s")) lab_quant_s = (lang eq 'zh') ? '量化耗时（秒）' : 'Quantization time (s)'
if (!exists("lab_peak_rss")) lab_peak_rss = (lang eq 'zh') ? '峰值常驻内存（MiB）' : 'Peak RSS (MiB)'
if (!exists("lab_group")) lab_group = 'g'

set logscale x
set xtics (128, 215, 512)
set grid xtics ytics
set offsets graph 0.05, graph 0.05, 0, 0
set key top left
set xlabel lab_calib_seqs
lt_of(a) = (a eq 'gptq') ? 1 : 2
dt_of(g) = (g == 32) ? 1 : (g == 64) ? 2 : 3

panels = "set multiplot layout 1,2 title title_e05_cost; \
  set ylabel lab_quant_s; \
  plot for [a in 'gptq awq'] for [g in '32 64 128'] datafile \
    using ((strcol(2) eq a && $3 == g + 0) ? $4 : NaN):5 \
    with linespoints lt lt_of(a) dt dt_of(g + 0) title sprintf('%s %s%s', a, lab_group, g); \
  set ylabel lab_peak_rss; \
  plot for [a in 'gptq awq'] for [g in '32 64 128'] datafile \
    using ((strcol(2) eq a && $3 == g + 0) ? $4 : NaN):6 \
    with linespoints lt lt_of(a) dt dt_of(g + 0) notitle; \
  unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels

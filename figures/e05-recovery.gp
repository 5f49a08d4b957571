# e05-recovery.gp -- figure 1 of e05-calibration: recovery against BF16 per calibration size N (x, log scale),
# one line per algorithm and group size: left, mean KL(BF16 || quantized) with its 95 % block-bootstrap
# interval (lower is better); right, the paired ln(PPL_q / PPL_bf16) on the same tokens with its 95 % interval
# (0 = BF16's perplexity; below 0 the quantized model scores the evaluation text better). The calibration
# length per sequence is the run's (the default run's short sequences or --full's 2048 / 512: spec).
# figures/e05-recovery-moe.gp draws the same for qwen3-tiny-moe (optional source: a note until e05 ran on it).
# Data: build/out/data/e05-recovery.tsv, written by `ql figdata` from the lines below and the results files.
#% data e05-calibration optional
#% col recipe [name, str] configuration (<algo>-g<G>-n<N>)
#% col algorithm [name, str] gptq or awq
#% col group_size [1, f64] INT4 group size G
#% col calib_seqs [1, f64] calibration sequences N
#% col kld_mean [nat, f64] mean KL divergence per token against BF16
#% col kld_mean_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_mean_hi [nat, f64] 95 % bootstrap interval, high end
#% col ln_ppl_ratio [1, f64] paired mean of NLL_q - NLL_bf16 = ln(PPL_q / PPL_bf16)
#% col ln_ppl_ratio_lo [1, f64] 95 % bootstrap interval, low end
#% col ln_ppl_ratio_hi [1, f64] 95 % bootstrap interval, high end

if (!exists("fig")) fig = 'e05-recovery'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e05_recovery")) title_e05_recovery = (lang eq 'zh') ? 'GPTQ / AWQ：校准样本数与分组大小' : 'GPTQ / AWQ: calibration size and group size'
title_e05_recovery = title_e05_recovery . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '')
# No rows (an optional source without results, e.g. qwen3-tiny-moe before e05 ran on it): a note, no panels.
if (!exists("lab_no_e05")) lab_no_e05 = (lang eq 'zh') ? '尚无结果：%s 上未运行 e05-calibration' : 'No results yet: e05-calibration has not run on %s'
undefine STATS_*
stats datafile using 3 nooutput
if (!exists("STATS_records") || STATS_records == 0) {
    fig_h = 160
    eval svg_begin
    set title title_e05_recovery
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
if (!exists("lab_e05_kld")) lab_e05_kld = (lang eq 'zh') ? 'KL(BF16 ‖ 量化模型)（nat）' : 'KL(BF16 || quantized) (nats)'
if (!exists("lab_e05_lnppl")) lab_e05_lnppl = (lang eq 'zh') ? 'ln(PPL / PPL_bf16)（配对）' : 'ln(PPL / PPL_bf16) (paired)'
if (!exists("lab_group")) lab_group = 'g'

set logscale x
set xtics (128, 215, 512)
set grid xtics ytics
set offsets graph 0.05, graph 0.05, 0, 0
set key top right
set xlabel lab_calib_seqs
# Small horizontal offsets keep the six intervals at one N apart.
off(a, g) = exp(((a eq 'gptq' ? -1 : 1) * (g == 32 ? 1 : g == 64 ? 2 : 3)) * 0.012)
lt_of(a) = (a eq 'gptq') ? 1 : 2
dt_of(g) = (g == 32) ? 1 : (g == 64) ? 2 : 3

panels = "set multiplot layout 1,2 title title_e05_recovery; \
  set ylabel lab_e05_kld; \
  plot for [a in 'gptq awq'] for [g in '32 64 128'] datafile \
    using ((strcol(2) eq a && $3 == g + 0) ? $4 * off(a, g + 0) : NaN):5:6:7 \
    with yerrorlines lt lt_of(a) dt dt_of(g + 0) title sprintf('%s %s%s', a, lab_group, g); \
  set ylabel lab_e05_lnppl; set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead lt 8 dt 2; \
  plot for [a in 'gptq awq'] for [g in '32 64 128'] datafile \
    using ((strcol(2) eq a && $3 == g + 0) ? $4 * off(a, g + 0) : NaN):8:9:10 \
    with yerrorlines lt lt_of(a) dt dt_of(g + 0) notitle; \
  unset arrow 1; unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels

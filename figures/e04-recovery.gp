# e04-recovery.gp -- figure 2 of e04-tasks: recovery = acc_recipe / acc_bf16 of the multiple-choice tasks
# per recipe (one line per recipe in the recipe table's order, top to bottom, its bits per weight beside the
# name), with the paired 95 % bootstrap interval of the ratio (items resampled jointly for the recipe and
# BF16), the line 1 (no loss) and the seed's targets 0.95 (FP8) and 0.90 (FP4) dashed. The four tasks are
# stacked within each line so their intervals do not overlap. A ratio near chance / chance says little: the
# notebook says which are resolved. (Against bits on an x axis, 23 recipes on three bit widths overprint.)
# figures/e04-recovery-moe.gp draws the same for qwen3-tiny-moe (optional source: a note until it has run).
# Data: build/out/data/e04-recovery.tsv, written by `ql figdata` from the lines below and the results files.
#% data e04-tasks optional
#% rows -bf16
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col hellaswag_acc_norm_recovery [1, f64] HellaSwag acc_norm recovery
#% col hellaswag_acc_norm_recovery_ci95_lo [1, f64] low
#% col hellaswag_acc_norm_recovery_ci95_hi [1, f64] high
#% col arc_easy_acc_recovery [1, f64] ARC-Easy acc recovery
#% col arc_easy_acc_recovery_ci95_lo [1, f64] low
#% col arc_easy_acc_recovery_ci95_hi [1, f64] high
#% col arc_challenge_acc_recovery [1, f64] ARC-Challenge acc recovery
#% col arc_challenge_acc_recovery_ci95_lo [1, f64] low
#% col arc_challenge_acc_recovery_ci95_hi [1, f64] high
#% col mmlu_acc_recovery [1, f64] MMLU acc recovery
#% col mmlu_acc_recovery_ci95_lo [1, f64] low
#% col mmlu_acc_recovery_ci95_hi [1, f64] high

if (!exists("fig")) fig = 'e04-recovery'
load 'figures/style.gp'
if (!exists("title_e04_recovery")) title_e04_recovery = (lang eq 'zh') ? '各方案的任务得分保持率' : 'Task-score recovery by recipe'
if (!exists("lab_recovery")) lab_recovery = (lang eq 'zh') ? '保持率 acc / acc_BF16（配对 95% 区间）' : 'Recovery acc / acc_BF16 (paired 95 % interval)'
if (!exists("lab_target_note")) lab_target_note = (lang eq 'zh') ? '实线：1（无损失）；虚线：目标 0.95（FP8）与 0.90（FP4）' : 'solid: 1 (no loss); dashed: targets 0.95 (FP8) and 0.90 (FP4)'
if (!exists("lab_no_results")) lab_no_results = (lang eq 'zh') ? '尚无结果：%s 上未运行 e04-tasks' : 'No results yet: e04-tasks has not run on %s'
fig_title = title_e04_recovery . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '') . "\n" . lab_target_note

undefine STATS_*
stats datafile using 3 nooutput
N = exists("STATS_records") ? STATS_records : 0
if (N == 0) {
    # An optional source with no results (ql figdata wrote the header only): a note instead of the plot.
    fig_h = 160
    eval svg_begin
    set title fig_title
    unset border; unset tics; unset key; unset grid
    set xrange [0:1]; set yrange [0:1]
    set label 1 sprintf(lab_no_results, exists("fig_model") ? fig_model : 'this model') at graph 0.5, graph 0.5 center
    plot 2 notitle
    eval png_begin
    replot
    unset output
    exit
}

fig_h = 170 + 26 * N
if (fig_h < 340) fig_h = 340
set title fig_title
set xlabel lab_recovery
set yrange [-(N - 0.5):0.5]
set ytics scale 0
set lmargin at screen 0.20
set grid xtics ytics
set key outside right top
set arrow 1 from 1, graph 0 to 1, graph 1 nohead lt 8 lw 1 back
set arrow 2 from 0.95, graph 0 to 0.95, graph 1 nohead lt 8 dt 2 lw 1 back
set arrow 3 from 0.90, graph 0 to 0.90, graph 1 nohead lt 8 dt 3 lw 1 back
# Each line's tic: the recipe's name and its bits per weight, at the centre of its four stacked points.
rlab(name, bits) = sprintf('%s (%.3g b)', name, bits)
array RL[N]
stats datafile using (RL[int($0) + 1] = rlab(strcol(1), $2), 0) nooutput
set ytics ()
do for [k = 1:N] { set ytics add (RL[k] -(k - 1)) }
set offsets graph 0.03, graph 0.03, 0, 0
dy(k) = (2.5 - k) * 0.19

eval svg_begin
plot datafile using 3:(-$0 + dy(1)):4:5 with xerrorbars lt 1 title 'HellaSwag acc_norm', \
     ''       using 6:(-$0 + dy(2)):7:8 with xerrorbars lt 2 title 'ARC-Easy acc', \
     ''       using 9:(-$0 + dy(3)):10:11 with xerrorbars lt 3 title 'ARC-Challenge acc', \
     ''       using 12:(-$0 + dy(4)):13:14 with xerrorbars lt 4 title 'MMLU acc'
eval png_begin
replot
unset output

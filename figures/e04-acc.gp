# e04-acc.gp -- figure 1 of e04-tasks: the headline score of every task per recipe, with its 95 % percentile
# bootstrap interval over the scored items (each recipe alone), and the chance level of the multiple-choice
# tasks (mean of 1 / number of choices over the scored items) as a dashed line. Panels: HellaSwag acc_norm,
# ARC-Easy acc, ARC-Challenge acc, MMLU acc (micro), GSM8K flexible-extract exact match, Math-500 (lm-eval)
# exact match, Math-500 (chat protocol) acc. The intervals here are per recipe; whether two recipes differ is
# the paired difference in the results (metric *_diff_bf16 with its interval), which is far narrower.
# Layout: one line per recipe (every results file, in the recipe table's order, top to bottom), the seven
# panels side by side sharing those lines. figures/e04-acc-moe.gp draws the same for qwen3-tiny-moe, whose
# e04 results may not exist yet: with no row (either model: the sources are optional) the figure is a note.
# Data: build/out/data/e04-acc.tsv, written by `ql figdata` from the lines below and the results files.
#% data e04-tasks optional
#% col recipe [name, str] recipe (the results file name)
#% col hellaswag_acc_norm [1, f64] HellaSwag acc_norm
#% col hellaswag_acc_norm_ci95_lo [1, f64] 95 % bootstrap interval, low
#% col hellaswag_acc_norm_ci95_hi [1, f64] 95 % bootstrap interval, high
#% col arc_easy_acc [1, f64] ARC-Easy acc
#% col arc_easy_acc_ci95_lo [1, f64] low
#% col arc_easy_acc_ci95_hi [1, f64] high
#% col arc_challenge_acc [1, f64] ARC-Challenge acc
#% col arc_challenge_acc_ci95_lo [1, f64] low
#% col arc_challenge_acc_ci95_hi [1, f64] high
#% col mmlu_acc [1, f64] MMLU acc (micro average over the scored items)
#% col mmlu_acc_ci95_lo [1, f64] low
#% col mmlu_acc_ci95_hi [1, f64] high
#% col gsm8k_exact_match_flexible [1, f64] GSM8K exact match, flexible-extract
#% col gsm8k_exact_match_flexible_ci95_lo [1, f64] low
#% col gsm8k_exact_match_flexible_ci95_hi [1, f64] high
#% col math500_exact_match [1, f64] Math-500 (hendrycks_math500) exact match
#% col math500_exact_match_ci95_lo [1, f64] low
#% col math500_exact_match_ci95_hi [1, f64] high
#% col math500_chat_acc [1, f64] Math-500 (chat protocol) acc, strip_string equivalence
#% col math500_chat_acc_ci95_lo [1, f64] low
#% col math500_chat_acc_ci95_hi [1, f64] high
#% col chance@hellaswag [1, f64] chance level of HellaSwag
#% col chance@arc_easy [1, f64] chance level of ARC-Easy
#% col chance@arc_challenge [1, f64] chance level of ARC-Challenge
#% col chance@mmlu [1, f64] chance level of MMLU

if (!exists("fig")) fig = 'e04-acc'
load 'figures/style.gp'
if (!exists("title_e04_acc")) title_e04_acc = (lang eq 'zh') ? '各方案的任务得分（95% 自助法区间）' : 'Task scores by recipe (95 % bootstrap intervals)'
if (!exists("lab_score")) lab_score = (lang eq 'zh') ? '得分' : 'score'
if (!exists("lab_chance_note")) lab_chance_note = (lang eq 'zh') ? '虚线：选择题的随机水平' : 'dashed: chance level of the multiple-choice tasks'
if (!exists("lab_no_results")) lab_no_results = (lang eq 'zh') ? '尚无结果：%s 上未运行 e04-tasks' : 'No results yet: e04-tasks has not run on %s'
fig_title = title_e04_acc . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '') . "\n" . lab_chance_note
array T[7]
T[1] = 'HellaSwag acc_norm'
T[2] = 'ARC-Easy acc'
T[3] = 'ARC-Challenge acc'
T[4] = 'MMLU acc'
T[5] = (lang eq 'zh') ? 'GSM8K（flexible）' : 'GSM8K (flexible)'
T[6] = (lang eq 'zh') ? 'Math-500（lm-eval）' : 'Math-500 (lm-eval)'
T[7] = (lang eq 'zh') ? 'Math-500（对话）' : 'Math-500 (chat)'

undefine STATS_*
stats datafile using 2 nooutput
N = exists("STATS_records") ? STATS_records : 0
if (N == 0) {
    # An optional source with no results (ql figdata wrote the header only): a note instead of panels.
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

# The chance levels: the same for every row (the scored items are the same), read from the first.
array C[4]
do for [k = 1:4] { stats datafile every ::0::0 using (C[k] = column(22 + k), 0) nooutput }

# One line per recipe, 22 px each, row 0 on top (y = -row); seven panels between x = 0.17 and 0.99 of the
# width, each with its own x axis (MC tasks from 0, generation tasks on [0, 1]).
fig_w = 1100
fig_h = 160 + 22 * N
set yrange [-(N - 0.5):0.5]
set ytics 1 scale 0
set grid xtics ytics
set xtics font ',8'
set format x '%.2g'
set key off
set tmargin 5.5
set bmargin 3
pw = (0.99 - 0.17) / 7.0
chance_line(x) = sprintf("set arrow 1 from %.9g, graph 0 to %.9g, graph 1 nohead lt 8 dt 2 lw 1 front", x, x)

panels = "set multiplot title fig_title; \
  do for [k = 1:7] { set title T[k] font ',9'; \
    set lmargin at screen (0.17 + (k - 1) * pw + (k > 1 ? 0.012 : 0)); set rmargin at screen (0.17 + k * pw - 0.012); \
    set format y (k == 1 ? '%g' : ''); \
    if (k <= 4) { set xrange [0:*]; set xtics 0.1; eval chance_line(C[k]) } else { set xrange [0:1]; set xtics 0.5; unset arrow 1 }; \
    if (k == 1) { plot datafile using (column(3 * k - 1)):(-$0):(column(3 * k)):(column(3 * k + 1)):ytic(1) with xerrorbars lt k notitle } \
    else { plot datafile using (column(3 * k - 1)):(-$0):(column(3 * k)):(column(3 * k + 1)) with xerrorbars lt k notitle } }; \
  unset arrow 1; unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

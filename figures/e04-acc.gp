# e04-acc.gp -- figure 1 of e04-tasks: the headline score of every task per recipe, with its 95 % percentile
# bootstrap interval over the scored items (each recipe alone), and the chance level of the multiple-choice
# tasks (mean of 1 / number of choices over the scored items) as a dashed line. Panels: HellaSwag acc_norm,
# ARC-Easy acc, ARC-Challenge acc, MMLU acc (micro), GSM8K flexible-extract exact match, Math-500 (lm-eval)
# exact match, Math-500 (chat protocol) acc. The intervals here are per recipe; whether two recipes differ is
# the paired difference in the results (metric *_diff_bf16 with its interval), which is far narrower.
# Data: build/out/data/e04-acc.tsv, written by `ql figdata` from the lines below and the results files.
#% data e04-tasks
#% rows bf16 fp8 nvfp8 mxfp8 nvfp4 mxfp4 nvfp4-w4a16 mxfp4-w4a16
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

fig = 'e04-acc'
load 'figures/style.gp'
if (!exists("title_e04_acc")) title_e04_acc = (lang eq 'zh') ? '各方案的任务得分（95% 自助法区间）' : 'Task scores by recipe (95 % bootstrap intervals)'
if (!exists("lab_score")) lab_score = (lang eq 'zh') ? '得分' : 'score'
if (!exists("lab_chance")) lab_chance = (lang eq 'zh') ? '随机水平' : 'chance'
array T[7]
T[1] = 'HellaSwag acc_norm'
T[2] = 'ARC-Easy acc'
T[3] = 'ARC-Challenge acc'
T[4] = 'MMLU acc'
T[5] = (lang eq 'zh') ? 'GSM8K 精确匹配（flexible）' : 'GSM8K exact match (flexible)'
T[6] = (lang eq 'zh') ? 'Math-500（lm-eval）' : 'Math-500 (lm-eval)'
T[7] = (lang eq 'zh') ? 'Math-500（对话协议）' : 'Math-500 (chat protocol)'

# The chance levels: the same for every row (the scored items are the same), read from the first.
array C[4]
do for [k = 1:4] { stats datafile every ::0::0 using (C[k] = column(22 + k), 0) nooutput }

set xtics rotate by 45 right scale 0 font ',8'
set grid ytics
set ytics font ',8'
set format y '%.2g'
set offsets 0.5, 0.5, 0, 0
set key off
# MC panels start at 0; generation panels (often all 0 on a small model) span the whole [0, 1].
set bmargin 5

panels = "set multiplot layout 2,4 title title_e04_acc; \
  do for [k = 1:7] { set title T[k] font ',10'; set ylabel (k == 1 || k == 5) ? lab_score : ''; \
    if (k <= 4) { set yrange [0:*]; set ytics 0.1 } else { set yrange [0:1]; set ytics 0.25 }; \
    if (k <= 4) { plot C[k] with lines lt 8 dt 2 lw 1 title lab_chance, \
                       datafile using 0:(column(3 * k - 1)):(column(3 * k)):(column(3 * k + 1)):xtic(1) with yerrorbars lt k notitle } \
    else { plot datafile using 0:(column(3 * k - 1)):(column(3 * k)):(column(3 * k + 1)):xtic(1) with yerrorbars lt k notitle } }; \
  unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

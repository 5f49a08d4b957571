# e04-recovery.gp -- figure 2 of e04-tasks: recovery = acc_recipe / acc_bf16 of the multiple-choice tasks
# against the storage of the quantized Linear weights (bits per weight, scales included, log2 axis), with the
# paired 95 % bootstrap interval of the ratio (items resampled jointly for the recipe and BF16), the line 1
# (no loss) and the seed's targets 0.95 (FP8) and 0.90 (FP4) dashed. Tasks are offset slightly along x so
# their intervals do not overlap. A ratio near chance / chance says little: the notebook says which are
# resolved.
# Data: build/out/data/e04-recovery.tsv, written by `ql figdata` from the lines below and the results files.
#% data e04-tasks
#% rows fp8 nvfp8 mxfp8 nvfp4 mxfp4 nvfp4-w4a16 mxfp4-w4a16
#% sort bits_per_weight
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

fig = 'e04-recovery'
load 'figures/style.gp'
if (!exists("title_e04_recovery")) title_e04_recovery = (lang eq 'zh') ? '任务得分保持率与权重存储' : 'Task-score recovery against weight storage'
if (!exists("lab_bits_per_weight")) lab_bits_per_weight = (lang eq 'zh') ? '每个权重的比特数（含缩放因子，对数刻度）' : 'Bits per weight (scales included, log scale)'
if (!exists("lab_recovery")) lab_recovery = (lang eq 'zh') ? '保持率 acc / acc_BF16（配对 95% 区间）' : 'Recovery acc / acc_BF16 (paired 95 % interval)'
if (!exists("lab_target")) lab_target = (lang eq 'zh') ? '目标 0.95 / 0.90' : 'targets 0.95 / 0.90'

set title title_e04_recovery
set xlabel lab_bits_per_weight
set ylabel lab_recovery
set logscale x 2
set xrange [3.5:12]
set xtics (4, 4.5, 5, 6, 8, 10)
set grid xtics ytics
set key outside right top

# Multiplicative offsets on the log axis: recipes that store the same bits (a W4A4 recipe and its W4A16
# twin; fp8 and nvfp8) sit left and right of their x by row parity (2^-+0.06), and the four tasks of a recipe
# are spread 2^(1/60) apart around that.
par(r) = 2 ** ((int(r) % 2) ? 0.06 : -0.06)
off(k) = 2 ** ((k - 2.5) / 60.0)
eval svg_begin
plot 1 with lines lt 8 lw 1 notitle, \
     0.95 with lines lt 8 dt 2 lw 1 title lab_target, 0.90 with lines lt 8 dt 3 lw 1 notitle, \
     datafile using ($2 * par($0) * off(1)):3:4:5 with yerrorbars lt 1 title 'HellaSwag acc_norm', \
     ''       using ($2 * par($0) * off(2)):6:7:8 with yerrorbars lt 2 title 'ARC-Easy acc', \
     ''       using ($2 * par($0) * off(3)):9:10:11 with yerrorbars lt 3 title 'ARC-Challenge acc', \
     ''       using ($2 * par($0) * off(4)):12:13:14 with yerrorbars lt 4 title 'MMLU acc', \
     ''       using ($2 * par($0)):(0.0):1 with labels rotate by 90 left offset 0,0.5 font ',7' textcolor rgb '#555555' notitle
eval png_begin
replot
unset output

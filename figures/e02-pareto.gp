# e02-pareto.gp -- figure 2 of e02-perplexity: WikiText-2 perplexity against the storage of the quantized
# Linear weights (bits per weight, scales included, log2 axis), one point per recipe coloured by family, and
# the Pareto front: the recipes no other recipe beats on both axes (fewer or equal bits and lower perplexity),
# joined by a dashed line and labelled (labels alternate right and left). Down and left is better. W4A4
# recipes and their W4A16 twins store the same weights, so they share an x position; the activation format
# shows only in the perplexity. figures/e02-pareto-moe.gp draws the same for qwen3-tiny-moe.
# Data: build/out/data/e02-pareto.tsv, written by `ql figdata` from the lines below and the results files.
#% data e02-perplexity
#% sort bits_per_weight
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col ppl [1, f64] WikiText-2 test perplexity (or text sampled from BF16 when no data exists)

if (!exists("fig")) fig = 'e02-pareto'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e02_pareto")) title_e02_pareto = (lang eq 'zh') ? '困惑度与权重存储的权衡' : 'Perplexity against weight storage'
if (!exists("lab_bits_per_weight")) lab_bits_per_weight = (lang eq 'zh') ? '每个权重的比特数（含缩放因子，对数刻度）' : 'Bits per weight (scales included, log scale)'
if (!exists("lab_ppl_wt")) lab_ppl_wt = (lang eq 'zh') ? 'WikiText-2 困惑度（越低越好）' : 'WikiText-2 perplexity (lower is better)'
if (!exists("lab_recipes")) lab_recipes = (lang eq 'zh') ? '方案' : 'recipes'
if (!exists("lab_pareto")) lab_pareto = (lang eq 'zh') ? 'Pareto 前沿' : 'Pareto front'

set title title_e02_pareto . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '')
set xlabel lab_bits_per_weight
set ylabel lab_ppl_wt
set logscale x 2
set xrange [3.5:20]
set xtics (4, 4.5, 5, 6, 8, 10, 12, 16)
set grid xtics ytics
set offsets 0, 0, graph 0.08, graph 0.08
set key top right

# Families, for colour only, read from the recipe name (the names are the recipe table's, DESIGN.md):
# 8 bits or more (BF16, the FP8 recipes, int8), the FP4 RTN recipes, the INT4 RTN baselines, GPTQ, AWQ.
family(name, bits) = bits >= 7.9 ? 1 : strstrt(name, 'gptq') ? 4 : strstrt(name, 'awq') ? 5 : strstrt(name, 'rtn') ? 3 : 2
if (!exists("lab_fam_8bit")) lab_fam_8bit = (lang eq 'zh') ? '8 比特及以上' : '8 bits and more'
if (!exists("lab_fam_fp4")) lab_fam_fp4 = (lang eq 'zh') ? 'FP4 RTN' : 'FP4, RTN'
if (!exists("lab_fam_int4")) lab_fam_int4 = (lang eq 'zh') ? 'INT4 RTN' : 'INT4, RTN'
if (!exists("lab_fam_gptq")) lab_fam_gptq = 'GPTQ'
if (!exists("lab_fam_awq")) lab_fam_awq = 'AWQ'
array FAM_LAB[5] = [lab_fam_8bit, lab_fam_fp4, lab_fam_int4, lab_fam_gptq, lab_fam_awq]

# Read the rows into arrays, then keep the points that no other point dominates. Rows come sorted by bits,
# so the front, taken in row order, runs left to right. It is drawn through the '+' pseudo-file: gnuplot 5.4
# finds no valid points when it plots an array directly under style.gp's tab datafile separator.
# Only the front is labelled (with 23 recipes most points share three bit widths, and their labels would
# overprint one another); every point is in the table beside the figure. Front points below 6 bits (the
# 4-bit cluster) get their labels in a column right of the cluster, top to bottom in front order (the front
# falls as it runs right, so the leader lines do not cross); the others are labelled beside their point.
stats datafile using 2 nooutput
N = STATS_records
array X[N]
array Y[N]
array NAME[N]
stats datafile using (X[int($0) + 1] = $2, Y[int($0) + 1] = $3, NAME[int($0) + 1] = strcol(1), 0) nooutput
array F[N]
nf = 0
do for [a = 1:N] {
    F[a] = 1
    do for [b = 1:N] {
        if ((X[b] <= X[a] && Y[b] < Y[a]) || (X[b] < X[a] && Y[b] <= Y[a])) { F[a] = 0 }
    }
    nf = nf + F[a]
}
array FX[nf]
array FY[nf]
array FN[nf]
k = 0
do for [a = 1:N] { if (F[a]) { k = k + 1; FX[k] = X[a]; FY[k] = Y[a]; FN[k] = NAME[a] } }
# Which families are present: only those are plotted (an empty one would get a key entry and a warning).
array FAM_N[5] = [0, 0, 0, 0, 0]
do for [a = 1:N] { FAM_N[family(NAME[a], X[a])] = FAM_N[family(NAME[a], X[a])] + 1 }
fams = ''
do for [f = 1:5] { if (FAM_N[f]) { fams = fams . sprintf(' %d', f) } }

nl = 0
do for [k = 1:nf] { if (FX[k] < 6) { nl = nl + 1 } }
j = 0
do for [k = 1:nf] {
    if (FX[k] < 6) {
        j = j + 1
        ly = 0.80 - 0.7 * (j - 1) / (nl > 8 ? nl : 8)
        eval sprintf("set label %d FN[%d] at first 4.85, graph %.4f left font ',9' textcolor rgb '#333333' front", 100 + k, k, ly)
        eval sprintf("set arrow %d from first 4.8, graph %.4f to first FX[%d], first FY[%d] nohead lc rgb '#999999' lw 0.5 back", 100 + k, ly, k, k)
    } else {
        eval sprintf("set label %d FN[%d] at first FX[%d], first FY[%d] %s offset char %.1f,%.1f font ',9' textcolor rgb '#333333' front", \
                     100 + k, k, k, k, k % 2 ? 'left' : 'right', k % 2 ? 1.0 : -1.0, k % 2 ? 0.5 : -0.5)
    }
}

eval svg_begin
plot sample [i=1:nf:1] '+' using (FX[int(i)]):(FY[int(i)]) with linespoints lt 8 dt 2 lw 1 pt 6 ps 2.2 title lab_pareto, \
     for [fs in fams] datafile using 2:(family(strcol(1), $2) == fs + 0 ? $3 : NaN) with points lt (fs + 0) title FAM_LAB[fs + 0]
eval png_begin
replot
unset output

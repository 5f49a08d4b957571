# e03-pareto.gp -- figure 2 of e03-kld: mean KL(BF16 || recipe) against the storage of the quantized Linear
# weights (bits per weight, scales included, log2 axis; KLD on a log axis), one labelled point per recipe,
# and the Pareto front (no other recipe has fewer or equal bits and a lower KLD), as in e02-pareto. BF16
# (KLD exactly 0) cannot sit on the log axis and is left out. Down and left is better. Where perplexity
# differences drown in sampling noise (a small model, few windows), this paired measure still ranks formats.
# Data: build/out/data/e03-pareto.tsv, written by `ql figdata` from the lines below and the results files.
#% data e03-kld
#% rows -bf16
#% sort bits_per_weight
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col kld_mean [nat, f64] mean KL divergence per token against BF16

fig = 'e03-pareto'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e03_pareto")) title_e03_pareto = (lang eq 'zh') ? 'KL 散度与权重存储的权衡' : 'KL divergence against weight storage'
if (!exists("lab_bits_per_weight")) lab_bits_per_weight = (lang eq 'zh') ? '每个权重的比特数（含缩放因子，对数刻度）' : 'Bits per weight (scales included, log scale)'
if (!exists("lab_kld_mean_log")) lab_kld_mean_log = (lang eq 'zh') ? '平均 KL(BF16 ‖ 方案)（nat，对数刻度）' : 'Mean KL(BF16 || recipe) (nats, log scale)'
if (!exists("lab_recipes")) lab_recipes = (lang eq 'zh') ? '方案' : 'recipes'
if (!exists("lab_pareto")) lab_pareto = (lang eq 'zh') ? 'Pareto 前沿' : 'Pareto front'

set title title_e03_pareto
set xlabel lab_bits_per_weight
set ylabel lab_kld_mean_log
set logscale y
set format y '%.0e'
set logscale x 2
set xrange [3.5:12]
set xtics (4, 4.5, 5, 6, 8, 10)
set grid xtics ytics
set offsets 0, 0, 0, 0
set key top right

# Read the rows into arrays, then keep the points that no other point dominates. Rows come sorted by bits,
# so the front, taken in row order, runs left to right. It is drawn through the '+' pseudo-file: gnuplot 5.4
# finds no valid points when it plots an array directly under style.gp's tab datafile separator.
stats datafile using 2 nooutput
N = STATS_records
array X[N]
array Y[N]
stats datafile using (X[int($0) + 1] = $2, Y[int($0) + 1] = $3, 0) nooutput
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
k = 0
do for [a = 1:N] { if (F[a]) { k = k + 1; FX[k] = X[a]; FY[k] = Y[a] } }

eval svg_begin
plot sample [i=1:nf:1] '+' using (FX[int(i)]):(FY[int(i)]) with linespoints lt 8 dt 2 lw 1 pt 6 ps 2.2 title lab_pareto, \
     datafile using 2:3 with points lt 1 title lab_recipes, \
     ''       using 2:(int($0) % 2 ? NaN : $3):1 with labels left offset char 0.8,0.4 font ',8' textcolor rgb '#333333' notitle, \
     ''       using 2:(int($0) % 2 ? $3 : NaN):1 with labels right offset char -0.8,-0.4 font ',8' textcolor rgb '#333333' notitle
eval png_begin
replot
unset output

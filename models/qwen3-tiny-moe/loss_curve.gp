# loss_curve.gp -- the training curve of qwen3-tiny-moe: training loss (mean over each 10 steps) and the
# validation loss (all 176 windows of 2048 tokens of the held-out tail, bf16 autocast, every 500 steps and at the end)
# against the tokens seen, in nats per token. Run from the repository root:
#   gnuplot -e "lang='zh'" models/qwen3-tiny-moe/loss_curve.gp     (lang 'en' by default)
# Data: models/qwen3-tiny-moe/train_log.tsv, written by tools/train-tiny/train_moe.py (columns: step, tokens, lr,
# train_loss, val_loss (empty where not evaluated), elapsed_s, aux_loss). Output: build/out/qwen3-tiny-moe-loss.<lang>.svg/png.
#% col step [1, i64] optimizer step
#% col tokens [token, i64] training tokens seen
#% col lr [1, f64] learning rate
#% col train_loss [nat/token, f64] mean training loss over the last 10 steps
#% col val_loss [nat/token, f64] validation loss, empty where not evaluated
#% col elapsed_s [s, f64] training time
#% col aux_loss [1, f64] mean load-balancing loss over the last 10 steps (uniform routing: 4)

fig = 'qwen3-tiny-moe-loss'
if (!exists("datafile")) datafile = 'models/qwen3-tiny-moe/train_log.tsv'
load 'figures/style.gp'

# This figure's own words (kept here so that the model folder is self-contained).
if (lang eq 'zh') {
    t_title = 'qwen3-tiny-moe 训练曲线（2390 万参数，每词元激活 1210 万，2048 词元窗口）'
    t_x = '已训练词元数（百万）'
    t_y = '交叉熵损失（nat/词元）'
    t_train = '训练损失（每 10 步平均）'
    t_val = '验证损失（留出的 1% 语料）'
} else {
    t_title = 'qwen3-tiny-moe training curve (23.9M parameters, 12.1M active per token, 2048-token windows)'
    t_x = 'Training tokens seen (millions)'
    t_y = 'Cross-entropy loss (nats per token)'
    t_train = 'training loss (mean of 10 steps)'
    t_val = 'validation loss (held-out 1% of the corpus)'
}

set title t_title
set xlabel t_x
set ylabel t_y
set yrange [2.5:6]
set xrange [0:*]
set grid xtics ytics
set key top right

eval svg_begin
plot datafile using ($2 / 1e6):4 with lines lt 1 lw 1 title t_train, \
     ''       using ($2 / 1e6):($5 == $5 ? $5 : NaN) with linespoints lt 2 title t_val
eval png_begin
replot
unset output

# e02-ppl.gp -- figure 1 of e02-perplexity: perplexity of every recipe, WikiText-2 (left) and the C4 slice
# (right), one line per recipe in the recipe table's order (top to bottom), points with +-1 standard error
# (delta method on the per-token NLL) and the BF16 value as a dashed vertical line, so a recipe's cost is its
# distance to the right of the line. Lower is better. figures/e02-ppl-moe.gp draws the same for qwen3-tiny-moe
# by setting fig and fig_model and loading this file. The error bars are those of each
# absolute perplexity; recipes are scored on the same tokens, so their differences are far better resolved
# than the bars suggest (e03-kld measures them pairwise).
# Data: build/out/data/e02-ppl.tsv, written by `ql figdata` from the lines below and the results files.
#% data e02-perplexity
#% col recipe [name, str] recipe (the results file name)
#% col ppl [1, f64] WikiText-2 test perplexity (or text sampled from BF16 when no data exists)
#% col ppl_stderr [1, f64] standard error of ppl (delta method)
#% col ppl_c4 [1, f64] C4 slice perplexity
#% col ppl_c4_stderr [1, f64] standard error of ppl_c4
#% col data [name, str] evaluation text: files (the pinned data) or sampled-bf16 (no data found)

if (!exists("fig")) fig = 'e02-ppl'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e02_ppl")) title_e02_ppl = (lang eq 'zh') ? '各方案的困惑度' : 'Perplexity by recipe'
if (!exists("lab_ppl")) lab_ppl = (lang eq 'zh') ? '困惑度（越低越好）' : 'Perplexity (lower is better)'
if (!exists("lab_wikitext2")) lab_wikitext2 = 'WikiText-2'
if (!exists("lab_c4")) lab_c4 = 'C4'
if (!exists("lab_ppl_note")) lab_ppl_note = (lang eq 'zh') ? '点：困惑度 ± 标准误；虚线：BF16 基线' : 'points: perplexity ± standard error; dashed line: BF16 baseline'
if (!exists("lab_sampled")) lab_sampled = (lang eq 'zh') ? 'BF16 模型采样文本（无数据文件）' : 'Text sampled from BF16 (no data files)'
# No key (a key is no wider than its narrow panel and wraps): the title's second line says what is drawn.
fig_title = title_e02_ppl . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '') . "\n" . lab_ppl_note

# The BF16 row gives the reference lines; it is found by name (each stats call below resets STATS_*, so
# every value is copied out at once: reading STATS_max after a later stats was the old C4-line-at-0 bug).
undefine STATS_*
stats datafile using 2 nooutput
N = STATS_records
undefine STATS_*
stats datafile using (strcol(1) eq 'bf16' ? $2 : NaN) nooutput
bf16_wt = exists("STATS_max") ? STATS_max : NaN
# Without the C4 file (no data at all: sampled text) column 4 is all NaN: draw the first panel only.
undefine STATS_*
stats datafile using (strcol(1) eq 'bf16' ? $4 : NaN) nooutput
bf16_c4 = exists("STATS_max") ? STATS_max : NaN
have_c4 = bf16_c4 == bf16_c4
# With no data files the first panel scores text sampled from the BF16 model: its title says so.
sampled = 0
stats datafile every ::0::0 using (sampled = (strcol(6) eq 'sampled-bf16'), 0) nooutput
title_first = sampled ? lab_sampled : lab_wikitext2

# One line per recipe, 22 px each, row 0 (bf16) on top: y = -row.
fig_h = 150 + 22 * N
set yrange [-(N - 0.5):0.5]
set ytics 1 scale 0
set grid xtics ytics
set offsets graph 0.05, graph 0.05, 0, 0
set bmargin 4
set tmargin 5.5
unset key
# BF16 reference: a dashed vertical line through the panel.
bf16_line(x) = sprintf("set arrow 1 from %.9g, graph 0 to %.9g, graph 1 nohead lt 8 dt 2 lw 1 front", x, x)

# Two panels, drawn once per terminal (multiplot cannot be replotted); the left one carries the recipe names,
# the right one shares its rows. Margins are fixed in screen units so that both plot areas line up.
panels = "set multiplot title fig_title; \
  set lmargin at screen 0.17; set rmargin at screen (have_c4 ? 0.55 : 0.97); \
  set xlabel lab_ppl; set title title_first; eval bf16_line(bf16_wt); \
  plot datafile using 2:(-$0):3:ytic(1) with xerrorbars lt 1 notitle; \
  if (have_c4) { set format y ''; set title lab_c4; eval bf16_line(bf16_c4); \
    set lmargin at screen 0.62; set rmargin at screen 0.97; \
    plot datafile using 4:(-$0):5 with xerrorbars lt 1 notitle; set format y '%g' }; \
  unset arrow 1; unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

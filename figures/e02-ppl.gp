# e02-ppl.gp -- figure 1 of e02-perplexity: perplexity of every recipe, WikiText-2 (left) and the C4 slice
# (right), points with +-1 standard error (delta method on the per-token NLL) and the BF16 value as a dashed
# line, so a recipe's cost is its height above the line. Lower is better. The error bars are those of each
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

fig = 'e02-ppl'
load 'figures/style.gp'
# The figure's own text, unless labels_<lang>.gp defines it (then that wins).
if (!exists("title_e02_ppl")) title_e02_ppl = (lang eq 'zh') ? '各方案的困惑度' : 'Perplexity by recipe'
if (!exists("lab_recipe")) lab_recipe = (lang eq 'zh') ? '方案' : 'Recipe'
if (!exists("lab_ppl")) lab_ppl = (lang eq 'zh') ? '困惑度（越低越好）' : 'Perplexity (lower is better)'
if (!exists("lab_wikitext2")) lab_wikitext2 = 'WikiText-2'
if (!exists("lab_c4")) lab_c4 = 'C4'
if (!exists("lab_bf16_line")) lab_bf16_line = (lang eq 'zh') ? 'BF16 基线' : 'BF16 baseline'
if (!exists("lab_ppl_se")) lab_ppl_se = (lang eq 'zh') ? '困惑度 ± 标准误' : 'perplexity ± standard error'

# The BF16 row is the first (rows follow the recipe table, bf16 first): its values draw the reference lines.
stats datafile every ::0::0 using 2 nooutput
bf16_wt = STATS_max
# Without the C4 file (no data at all: sampled text) column 4 is all NaN: draw the first panel only.
undefine STATS_*
stats datafile every ::0::0 using 4 nooutput
have_c4 = exists("STATS_max")
# With no data files the first panel scores text sampled from the BF16 model: its title says so.
sampled = 0
stats datafile every ::0::0 using (sampled = (strcol(6) eq 'sampled-bf16'), 0) nooutput
if (!exists("lab_sampled")) lab_sampled = (lang eq 'zh') ? 'BF16 模型采样文本（无数据文件）' : 'Text sampled from BF16 (no data files)'
title_first = sampled ? lab_sampled : lab_wikitext2
bf16_c4 = have_c4 ? STATS_max : 0

set xtics rotate by 35 right scale 0
set grid ytics
set offsets 0.5, 0.5, graph 0.3, 0
set key top left
set bmargin 6
set xlabel lab_recipe

# Two panels, drawn once per terminal (multiplot cannot be replotted).
panels = "set multiplot layout 1,(have_c4 ? 2 : 1) title title_e02_ppl; \
  set ylabel lab_ppl; set title title_first; \
  plot bf16_wt with lines lt 8 dt 2 lw 1 title lab_bf16_line, \
       datafile using 0:2:3:xtic(1) with yerrorbars lt 1 title lab_ppl_se; \
  if (have_c4) { unset ylabel; set title lab_c4; \
    plot bf16_c4 with lines lt 8 dt 2 lw 1 title lab_bf16_line, \
         datafile using 0:4:5:xtic(1) with yerrorbars lt 2 title lab_ppl_se }; \
  unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

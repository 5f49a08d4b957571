# e02-ratio.gp -- figure 2 of e02-perplexity: the paired ratio PPL_recipe / PPL_BF16 of every recipe on the same
# tokens, WikiText-2 (left) and the C4 slice (right), with its 95 % interval (exp(ln ratio -+ 1.96 se), se the
# larger of the per-token error, as llama.cpp reports it, and the 128-token batch-means error; see
# src/eval/ppl_paired.h). A recipe whose interval misses the line at 1 differs resolvably from BF16; the dashed
# lines at 1/0.95 and 1/0.90 are where a perplexity recovery of 95 % and 90 % would sit (e08's targets).
# Results written before the paired statistics existed have no ratio columns: they are NaN and draw nothing.
# Data: build/out/data/e02-ratio.tsv, written by `ql figdata` from the lines below and the results files.
#% data e02-perplexity
#% col recipe [name, str] recipe (the results file name)
#% col ppl_ratio [1, f64?] PPL / PPL_bf16 on WikiText-2 (same tokens)
#% col ppl_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_ratio_ci95_hi [1, f64?] upper end of its 95 % interval
#% col ppl_c4_ratio [1, f64?] PPL / PPL_bf16 on the C4 slice
#% col ppl_c4_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_c4_ratio_ci95_hi [1, f64?] upper end of its 95 % interval

fig = 'e02-ratio'
load 'figures/style.gp'
if (!exists("title_e02_ratio")) title_e02_ratio = (lang eq 'zh') ? '与 BF16 配对的困惑度比（同一批词元）' : 'Perplexity ratio to BF16, paired on the same tokens'
if (!exists("lab_recipe")) lab_recipe = (lang eq 'zh') ? '方案' : 'Recipe'
if (!exists("lab_ratio")) lab_ratio = (lang eq 'zh') ? 'PPL / PPL(BF16)（越低越好）' : 'PPL / PPL(BF16) (lower is better)'
if (!exists("lab_wikitext2")) lab_wikitext2 = 'WikiText-2'
if (!exists("lab_c4")) lab_c4 = 'C4'
if (!exists("lab_ratio_ci")) lab_ratio_ci = (lang eq 'zh') ? '比值与 95% 区间' : 'ratio with 95% interval'
if (!exists("lab_equal")) lab_equal = (lang eq 'zh') ? '与 BF16 相同' : 'equal to BF16'
if (!exists("lab_targets")) lab_targets = (lang eq 'zh') ? '恢复率 95% / 90%' : 'recovery 95% / 90%'

# C4 columns all NaN (no C4 file): the first panel only.
stats datafile using 5 nooutput
have_c4 = exists("STATS_records") && STATS_records > 0 && exists("STATS_max")

set xtics rotate by 35 right scale 0
set grid ytics
set offsets 0.5, 0.5, graph 0.45, graph 0.1
set key top left
set bmargin 6
set xlabel lab_recipe

panels = "set multiplot layout 1,(have_c4 ? 2 : 1) title title_e02_ratio; \
  set ylabel lab_ratio; set title lab_wikitext2; \
  plot 1 with lines lt 8 dt 2 lw 1 title lab_equal, 1/0.95 with lines lt 8 dt 3 lw 1 title lab_targets, \
       1/0.90 with lines lt 8 dt 3 lw 1 notitle, \
       datafile using 0:2:3:4:xtic(1) with yerrorbars lt 1 title lab_ratio_ci; \
  if (have_c4) { unset ylabel; set title lab_c4; \
    plot 1 with lines lt 8 dt 2 lw 1 title lab_equal, 1/0.95 with lines lt 8 dt 3 lw 1 title lab_targets, \
         1/0.90 with lines lt 8 dt 3 lw 1 notitle, \
         datafile using 0:5:6:7:xtic(1) with yerrorbars lt 2 title lab_ratio_ci }; \
  unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

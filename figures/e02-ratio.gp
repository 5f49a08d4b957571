# e02-ratio.gp -- figure 2 of e02-perplexity: the paired ratio PPL_recipe / PPL_BF16 of every recipe on the same
# tokens, WikiText-2 (left) and the C4 slice (right), with its 95 % interval (exp(ln ratio -+ 1.96 se), se the
# larger of the per-token error, as llama.cpp reports it, and the 128-token batch-means error; see
# src/eval/ppl_paired.h). A recipe whose interval misses the line at 1 differs resolvably from BF16; the dashed
# lines at 1/0.95 and 1/0.90 are where a perplexity recovery of 95 % and 90 % would sit (e08's targets).
# Results written before the paired statistics existed have no ratio columns: they are NaN and draw nothing;
# with no ratio at all the figure is a note saying so. One line per recipe in the recipe table's order (top to
# bottom), as e02-ppl. figures/e02-ratio-moe.gp draws the same for qwen3-tiny-moe.
# Data: build/out/data/e02-ratio.tsv, written by `ql figdata` from the lines below and the results files.
#% data e02-perplexity
#% col recipe [name, str] recipe (the results file name)
#% col ppl_ratio [1, f64?] PPL / PPL_bf16 on WikiText-2 (same tokens)
#% col ppl_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_ratio_ci95_hi [1, f64?] upper end of its 95 % interval
#% col ppl_c4_ratio [1, f64?] PPL / PPL_bf16 on the C4 slice
#% col ppl_c4_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_c4_ratio_ci95_hi [1, f64?] upper end of its 95 % interval

if (!exists("fig")) fig = 'e02-ratio'
load 'figures/style.gp'
if (!exists("title_e02_ratio")) title_e02_ratio = (lang eq 'zh') ? '与 BF16 配对的困惑度比（同一批词元）' : 'Perplexity ratio to BF16, paired on the same tokens'
if (!exists("lab_ratio")) lab_ratio = (lang eq 'zh') ? 'PPL / PPL(BF16)（越低越好）' : 'PPL / PPL(BF16) (lower is better)'
if (!exists("lab_wikitext2")) lab_wikitext2 = 'WikiText-2'
if (!exists("lab_c4")) lab_c4 = 'C4'
if (!exists("lab_ratio_note")) lab_ratio_note = (lang eq 'zh') ? '点：比值与 95% 区间；实线：与 BF16 相同；虚线：恢复率 95% / 90%' : 'points: ratio with 95% interval; solid: equal to BF16; dashed: recovery 95% / 90%'
if (!exists("lab_no_ratio")) lab_no_ratio = (lang eq 'zh') ? '这些结果中没有配对比值（请重新运行 e02）' : 'No paired ratios in these results (rerun e02)'
fig_title = title_e02_ratio . (exists("fig_model") ? ((lang eq 'zh') ? '：' : ': ') . fig_model : '') . "\n" . lab_ratio_note

# Rows: every recipe, recipe-table order, top to bottom (y = -row); 22 px each.
undefine STATS_*
stats datafile using 0 nooutput
N = STATS_records
# Results written before the paired statistics existed have NaN ratios: with none at all, a note.
undefine STATS_*
stats datafile using 2 nooutput
have_wt = exists("STATS_records") && STATS_records > 0
undefine STATS_*
stats datafile using 5 nooutput
have_c4 = exists("STATS_records") && STATS_records > 0
if (!have_wt && !have_c4) {
    fig_h = 160
    eval svg_begin
    set title fig_title
    unset border; unset tics; unset key; unset grid
    set xrange [0:1]; set yrange [0:1]
    set label 1 lab_no_ratio at graph 0.5, graph 0.5 center
    plot 2 notitle
    eval png_begin
    replot
    unset output
    exit
}

fig_h = 150 + 22 * N
set yrange [-(N - 0.5):0.5]
set ytics 1 scale 0
set grid xtics ytics
set offsets graph 0.05, graph 0.05, 0, 0
set bmargin 4
set tmargin 5.5
unset key
# The reference lines are plotted (not arrows), so that the x range always takes them in.
refs = "sample [t=0:1:1] '+' using (1):(0.5 - t * N) with lines lt 8 lw 1 notitle, \
  [t=0:1:1] '+' using (1/0.95):(0.5 - t * N) with lines lt 8 dt 2 lw 1 notitle, \
  [t=0:1:1] '+' using (1/0.90):(0.5 - t * N) with lines lt 8 dt 2 lw 1 notitle"

panels = "set multiplot title fig_title; \
  set lmargin at screen 0.17; set rmargin at screen (have_c4 ? 0.55 : 0.97); \
  set xlabel lab_ratio; set title lab_wikitext2; \
  plot @refs, datafile using 2:(-$0):3:4:ytic(1) with xerrorbars lt 1 notitle; \
  if (have_c4) { set format y ''; set title lab_c4; \
    set lmargin at screen 0.62; set rmargin at screen 0.97; \
    plot @refs, datafile using 5:(-$0):6:7 with xerrorbars lt 2 notitle; set format y '%g' }; \
  unset multiplot"

eval svg_begin
eval panels
eval png_begin
eval panels
unset output

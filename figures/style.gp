# style.gp -- the look shared by every figure (load 'figures/style.gp' first in each figures/<fig>.gp).
# Inputs (gnuplot -e): lang ('en' | 'zh', default 'en'); datafile, svgfile, pngfile (defaults derive from
# the variable fig, which the figure script sets before loading this file). Never the environment's LANG.
# Fonts: "Noto Sans CJK SC" (fonts-noto-cjk) carries both Latin and Chinese glyphs, so one font serves both
# languages. Colours: the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies.
# Output: each figure is drawn once to SVG (svg_begin), then replotted to PNG (png_begin; 2x pixels).

if (!exists("lang")) lang = 'en'
if (lang ne 'en' && lang ne 'zh') {
    print sprintf("style.gp: lang must be 'en' or 'zh', got '%s'", lang)
    exit status 2
}
if (!exists("fig")) fig = 'figure'
if (!exists("datafile")) datafile = sprintf('build/out/data/%s.tsv', fig)
if (!exists("svgfile")) svgfile = sprintf('build/out/%s.%s.svg', fig, lang)
if (!exists("pngfile")) pngfile = sprintf('build/out/%s.%s.png', fig, lang)

load sprintf('figures/labels_%s.gp', lang)

set encoding utf8
# The TSVs from ql figdata: tab-separated, '#' comments, nulls written as NaN.
set datafile separator "\t"
set datafile commentschars "#"
set datafile missing "NaN"

font_name = 'Noto Sans CJK SC'
font_size = 11
fig_w = 860
fig_h = 480
# noenhanced: recipe names hold '-' and digits only, but labels may hold '_' or '^', which enhanced
# text mode would turn into sub- and superscripts.
# The size is read when svg_begin / png_begin is evaluated, so a figure may set fig_w / fig_h after loading
# this file (e.g. from its row count: a plot with one line per recipe grows with the recipes).
font_spec = sprintf('%s,%d', font_name, font_size)
svg_begin = "set terminal svg size fig_w,fig_h fixed noenhanced font font_spec background rgb 'white'; set output svgfile"
# fontscale 2 also doubles the explicit sizes a figure gives (font ',8'), so both outputs look alike.
png_begin = "set terminal pngcairo size 2 * fig_w,2 * fig_h noenhanced font font_spec fontscale 2 linewidth 2 background rgb 'white'; set output pngfile"

# Okabe-Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow, black.
set linetype 1 lc rgb '#0072B2' lw 1.5 pt 7 ps 1.1
set linetype 2 lc rgb '#D55E00' lw 1.5 pt 5 ps 1.1
set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 1.3
set linetype 4 lc rgb '#E69F00' lw 1.5 pt 13 ps 1.3
set linetype 5 lc rgb '#CC79A7' lw 1.5 pt 11 ps 1.3
set linetype 6 lc rgb '#56B4E9' lw 1.5 pt 15 ps 1.1
set linetype 7 lc rgb '#F0E442' lw 1.5 pt 3 ps 1.1
set linetype 8 lc rgb '#000000' lw 1.5 pt 1 ps 1.1
set linetype cycle 8

set border 3 lc rgb '#555555'
set tics nomirror textcolor rgb '#333333'
set grid ytics lc rgb '#dddddd' lw 1 dt 1
set key noautotitle
set key box lc rgb '#cccccc' opaque samplen 2 spacing 1.1

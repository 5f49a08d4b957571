# e01-bits.gp -- figure 2 of e01-formats: SQNR (dB) against bits per element, one point per format and
# series for Gaussian data and for Gaussian data with outlier rows; Gaussian points are labelled with the
# format, alternately right and left of the point in SQNR order, so formats of equal cost and similar
# SQNR (the FP8 variants at 8 bits) do not print on top of each other. Up and left is better: more accuracy for fewer bits. The x axis is log2 (4, 8, 16 bits evenly).
# Data: build/out/data/e01-bits.tsv, written by `ql figdata` from the lines below and the results files.
#% data synthetic/e01-formats
#% sort sqnr_db_gaussian
#% col recipe [name, str] quantization scheme (the results file name)
#% col bits_per_element [bit, f64] storage bits per element, scales included
#% col sqnr_db_gaussian [dB, f64] signal-to-quantization-noise ratio, Gaussian N(0,1) data
#% col sqnr_db_outlier_rows [dB, f64] SQNR, Gaussian data with a few large-magnitude channels in every row
#% col sqnr_db_weights [dB, f64] SQNR, every decoder Linear of the embedded model (qwen3-tiny)

fig = 'e01-bits'
load 'figures/style.gp'

set title title_e01_bits
set xlabel lab_bits
set ylabel lab_sqnr_db
set logscale x 2
set xrange [3:20]
set xtics (4, 4.5, 5, 6, 8, 10, 12, 16)
set grid xtics ytics
set key bottom right

# Label layout: rows come sorted by SQNR; even rows are labelled right of their point, odd rows left.
# On each side a label within a cluster (x within 2^0.25) is pushed up to keep `gap` above the previous
# one, so the near-identical FP8 variants at 8 bits stay legible. Each side resets its state at row 0,
# because replot (for the PNG) evaluates the expressions again. Left labels end at the cluster's power of
# two (or at their point, if that is further left), so they never run into the right labels of points
# just left of them (8 and 8.25 bits against 8.5).
stats datafile using 3 nooutput
gap = (STATS_max - STATS_min) * 0.045
near(x, lx) = abs(log(x) - log(lx)) < 0.25 * log(2)
label_r(x, y) = (int($0) == 0 ? (rx = 1e-9, ry = -1e9) : 0, \
                 int($0) % 2 != 0 ? NaN : (ny = (near(x, rx) && y < ry + gap) ? ry + gap : y, rx = x, ry = ny, ny))
anchor_l(x) = (p2 = 2 ** floor(log(x) / log(2) + 0.5), x < p2 ? x : p2)
label_l(x, y) = (int($0) == 0 ? (lx = 1e-9, ly = -1e9) : 0, \
                 int($0) % 2 != 1 ? NaN : (ny = (near(x, lx) && y < ly + gap) ? ly + gap : y, lx = x, ly = ny, ny))

# 999 dB marks an exact reconstruction (BF16 weights stored as BF16): not a point on this axis.
eval svg_begin
plot datafile using 2:3 with points lt 1 title lab_gaussian, \
     ''       using 2:4 with points lt 2 title lab_outlier_rows, \
     ''       using 2:($5 >= 999 ? NaN : $5) with points lt 3 title lab_weights, \
     ''       using 2:(label_r($2, $3)):1 with labels left offset char 0.8,0 font ',8' textcolor rgb '#333333' notitle, \
     ''       using (anchor_l($2)):(label_l($2, $3)):1 with labels right offset char -0.8,0 font ',8' textcolor rgb '#333333' notitle
eval png_begin
replot
unset output

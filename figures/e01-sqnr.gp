# e01-sqnr.gp -- figure 1 of e01-formats: SQNR (dB) of every format on each synthetic distribution and on real weights,
# as clustered bars, formats ordered by storage cost (most bits first). Higher is better.
# Data: build/out/data/e01-sqnr.tsv, written by `ql figdata` from the lines below and the results files.
#% data synthetic/e01-formats
#% sort -bits_per_element
#% col recipe [name, str] quantization scheme (the results file name)
#% col bits_per_element [bit, f64] storage bits per element, scales included
#% col sqnr_db_gaussian [dB, f64] signal-to-quantization-noise ratio, Gaussian N(0,1) data
#% col sqnr_db_laplace [dB, f64] SQNR, Laplace data
#% col sqnr_db_student_t [dB, f64] SQNR, Student's t data (heavy tails)
#% col sqnr_db_outlier_rows [dB, f64] SQNR, Gaussian data with a few large-magnitude channels in every row
#% col sqnr_db_weights [dB, f64] SQNR, every decoder Linear of the embedded model (qwen3-tiny), each its own tensor

fig = 'e01-sqnr'
load 'figures/style.gp'

set title title_e01_sqnr
set ylabel lab_sqnr_db
set xlabel lab_scheme
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.9 border lc rgb '#ffffff'
set boxwidth 0.95
set xtics rotate by 35 right scale 0
set key top right
set bmargin 7

# 999 dB marks an exact reconstruction (BF16 weights stored as BF16): no bar is drawn for it.
eval svg_begin
plot datafile using 3:xtic(1) title lab_gaussian lt 1, \
     ''       using 4 title lab_laplace lt 2, \
     ''       using 5 title lab_student_t lt 3, \
     ''       using 6 title lab_outlier_rows lt 4, \
     ''       using ($7 >= 999 ? NaN : $7) title lab_weights lt 5
eval png_begin
replot
unset output

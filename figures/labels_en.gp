# labels_en.gp -- English text of every figure (loaded by style.gp for lang='en'). The same variable names
# must exist in labels_zh.gp; tests/test_report.c checks that both files define the same set.
lab_scheme = 'Format (results file)'
lab_sqnr_db = 'SQNR (dB)'
lab_bits = 'Bits per element (scales included, log scale)'
lab_gaussian = 'Gaussian'
lab_laplace = 'Laplace'
lab_student_t = "Student's t"
lab_outlier_rows = 'Gaussian + outlier rows'
lab_weights = 'qwen3-tiny weights (all decoder Linears)'
title_e01_sqnr = 'Quantization error by format and distribution'
title_e01_bits = 'Error against storage cost'

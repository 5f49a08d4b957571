# labels_zh.gp -- 图中所有文字的中文版本（style.gp 在 lang='zh' 时载入）。变量名须与 labels_en.gp 一致，
# tests/test_report.c 会检查两者定义的变量集合相同。
lab_scheme = '格式（结果文件）'
lab_sqnr_db = '信噪比 SQNR（dB）'
lab_bits = '每元素比特数（含缩放因子，对数坐标）'
lab_gaussian = '高斯分布'
lab_laplace = '拉普拉斯分布'
lab_student_t = '学生 t 分布'
lab_outlier_rows = '高斯 + 离群行'
lab_weights = 'qwen3-tiny 权重（全部解码器线性层）'
title_e01_sqnr = '各格式在不同分布下的量化误差'
title_e01_bits = '误差与存储开销'

# e05-cost-moe.gp -- figure 2 of e05-calibration for the embedded mixture of experts (qwen3-tiny-moe), drawn by figures/e05-cost.gp from
# the rows below, whatever model `make figures` is given; its grid includes g128 (expert K = 128). Optional
# source: until e05-calibration has run on qwen3-tiny-moe the TSV holds no row and the figure says so.
# Data: build/out/data/e05-cost-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e05-calibration optional
#% col recipe [name, str] configuration (<algo>-g<G>-n<N>)
#% col algorithm [name, str] gptq or awq
#% col group_size [1, f64] INT4 group size G
#% col calib_seqs [1, f64] calibration sequences N
#% col quant_seconds [s, f64] wall time of the quantization
#% col peak_rss_mib [MiB, f64] peak RSS of loading + calibrating + quantizing
#% col calib_len [1, f64] tokens per calibration sequence

fig = 'e05-cost-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e05-cost.gp'

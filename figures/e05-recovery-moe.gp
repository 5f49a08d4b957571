# e05-recovery-moe.gp -- figure 1 of e05-calibration for the embedded mixture of experts (qwen3-tiny-moe), drawn by figures/e05-recovery.gp from
# the rows below, whatever model `make figures` is given; its grid includes g128 (expert K = 128). Optional
# source: until e05-calibration has run on qwen3-tiny-moe the TSV holds no row and the figure says so.
# Data: build/out/data/e05-recovery-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e05-calibration optional
#% col recipe [name, str] configuration (<algo>-g<G>-n<N>)
#% col algorithm [name, str] gptq or awq
#% col group_size [1, f64] INT4 group size G
#% col calib_seqs [1, f64] calibration sequences N
#% col kld_mean [nat, f64] mean KL divergence per token against BF16
#% col kld_mean_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_mean_hi [nat, f64] 95 % bootstrap interval, high end
#% col ln_ppl_ratio [1, f64] paired mean of NLL_q - NLL_bf16 = ln(PPL_q / PPL_bf16)
#% col ln_ppl_ratio_lo [1, f64] 95 % bootstrap interval, low end
#% col ln_ppl_ratio_hi [1, f64] 95 % bootstrap interval, high end

fig = 'e05-recovery-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e05-recovery.gp'

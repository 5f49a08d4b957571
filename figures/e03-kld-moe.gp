# e03-kld-moe.gp -- figure 1 of e03-kld for the embedded mixture of experts (qwen3-tiny-moe), drawn by
# figures/e03-kld.gp from the rows below, whatever model `make figures` is given (all 26 recipes:
# the retrained model's expert K = 128 holds every grid; models/qwen3-tiny-moe/MODEL_CARD.md).
# Data: build/out/data/e03-kld-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e03-kld
#% rows -bf16
#% col recipe [name, str] recipe (the results file name)
#% col kld_mean [nat, f64] mean KL divergence per token
#% col kld_mean_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_mean_hi [nat, f64] 95 % bootstrap interval, high end
#% col kld_median [nat, f64] median KL divergence
#% col kld_median_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_median_hi [nat, f64] 95 % bootstrap interval, high end
#% col kld_p99 [nat, f64] 99th percentile of the KL divergence
#% col kld_p99_lo [nat, f64] 95 % bootstrap interval, low end
#% col kld_p99_hi [nat, f64] 95 % bootstrap interval, high end

fig = 'e03-kld-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e03-kld.gp'

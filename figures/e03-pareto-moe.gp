# e03-pareto-moe.gp -- figure 2 of e03-kld for the embedded mixture of experts (qwen3-tiny-moe), drawn by figures/e03-pareto.gp
# from the rows below, whatever model `make figures` is given (all 26 recipes: the retrained model's
# expert K = 128 holds every grid; models/qwen3-tiny-moe/MODEL_CARD.md).
# Data: build/out/data/e03-pareto-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e03-kld
#% rows -bf16
#% sort bits_per_weight
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col kld_mean [nat, f64] mean KL divergence per token against BF16

fig = 'e03-pareto-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e03-pareto.gp'

# e02-pareto-moe.gp -- figure 2 of e02-perplexity for the embedded mixture of experts (qwen3-tiny-moe), drawn by figures/e02-pareto.gp
# from the rows below, whatever model `make figures` is given (all 26 recipes: the retrained model's
# expert K = 128 holds every grid; models/qwen3-tiny-moe/MODEL_CARD.md).
# Data: build/out/data/e02-pareto-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e02-perplexity
#% sort bits_per_weight
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col ppl [1, f64] WikiText-2 test perplexity (or text sampled from BF16 when no data exists)

fig = 'e02-pareto-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e02-pareto.gp'

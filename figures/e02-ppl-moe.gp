# e02-ppl-moe.gp -- figure 1 of e02-perplexity for the embedded mixture of experts (qwen3-tiny-moe), drawn by
# figures/e02-ppl.gp (same panels and reading) from the rows below, whatever model `make figures` is given.
# All 26 recipes: the retrained model's experts have K = moe_intermediate_size = 128, which every grid
# holds (the first model's 192 held no g128 or 128x128-block recipe; models/qwen3-tiny-moe/MODEL_CARD.md).
# Data: build/out/data/e02-ppl-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e02-perplexity
#% col recipe [name, str] recipe (the results file name)
#% col ppl [1, f64] WikiText-2 test perplexity (or text sampled from BF16 when no data exists)
#% col ppl_stderr [1, f64] standard error of ppl (delta method)
#% col ppl_c4 [1, f64] C4 slice perplexity
#% col ppl_c4_stderr [1, f64] standard error of ppl_c4
#% col data [name, str] evaluation text: files (the pinned data) or sampled-bf16 (no data found)

fig = 'e02-ppl-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e02-ppl.gp'

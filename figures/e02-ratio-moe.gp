# e02-ratio-moe.gp -- figure 2 of e02-perplexity (the paired ratio PPL / PPL_BF16) for the embedded mixture of
# experts (qwen3-tiny-moe), drawn by figures/e02-ratio.gp from the rows below, whatever model `make figures` is
# given. Results that predate the paired statistics draw the note of e02-ratio.gp.
# Data: build/out/data/e02-ratio-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e02-perplexity
#% col recipe [name, str] recipe (the results file name)
#% col ppl_ratio [1, f64?] PPL / PPL_bf16 on WikiText-2 (same tokens)
#% col ppl_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_ratio_ci95_hi [1, f64?] upper end of its 95 % interval
#% col ppl_c4_ratio [1, f64?] PPL / PPL_bf16 on the C4 slice
#% col ppl_c4_ratio_ci95_lo [1, f64?] lower end of its 95 % interval
#% col ppl_c4_ratio_ci95_hi [1, f64?] upper end of its 95 % interval

fig = 'e02-ratio-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e02-ratio.gp'

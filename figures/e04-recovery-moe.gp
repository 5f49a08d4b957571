# e04-recovery-moe.gp -- figure 2 of e04-tasks for the embedded mixture of experts (qwen3-tiny-moe), drawn
# by figures/e04-recovery.gp from the rows below, whatever model `make figures` is given. The source is
# optional: until e04-tasks has run on qwen3-tiny-moe the TSV holds no row and the figure says so.
# Data: build/out/data/e04-recovery-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e04-tasks optional
#% rows -bf16
#% col recipe [name, str] recipe (the results file name)
#% col bits_per_weight [bit, f64] storage of the decoder-block Linear weights per weight, scales included
#% col hellaswag_acc_norm_recovery [1, f64] HellaSwag acc_norm recovery
#% col hellaswag_acc_norm_recovery_ci95_lo [1, f64] low
#% col hellaswag_acc_norm_recovery_ci95_hi [1, f64] high
#% col arc_easy_acc_recovery [1, f64] ARC-Easy acc recovery
#% col arc_easy_acc_recovery_ci95_lo [1, f64] low
#% col arc_easy_acc_recovery_ci95_hi [1, f64] high
#% col arc_challenge_acc_recovery [1, f64] ARC-Challenge acc recovery
#% col arc_challenge_acc_recovery_ci95_lo [1, f64] low
#% col arc_challenge_acc_recovery_ci95_hi [1, f64] high
#% col mmlu_acc_recovery [1, f64] MMLU acc recovery
#% col mmlu_acc_recovery_ci95_lo [1, f64] low
#% col mmlu_acc_recovery_ci95_hi [1, f64] high

fig = 'e04-recovery-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e04-recovery.gp'

# e04-acc-moe.gp -- figure 1 of e04-tasks for the embedded mixture of experts (qwen3-tiny-moe), drawn by
# figures/e04-acc.gp from the rows below, whatever model `make figures` is given. The source is optional:
# until e04-tasks has run on qwen3-tiny-moe the TSV holds no row and the figure says so.
# Data: build/out/data/e04-acc-moe.tsv, written by `ql figdata` from the lines below and the results files.
#% data qwen3-tiny-moe/e04-tasks optional
#% col recipe [name, str] recipe (the results file name)
#% col hellaswag_acc_norm [1, f64] HellaSwag acc_norm
#% col hellaswag_acc_norm_ci95_lo [1, f64] 95 % bootstrap interval, low
#% col hellaswag_acc_norm_ci95_hi [1, f64] 95 % bootstrap interval, high
#% col arc_easy_acc [1, f64] ARC-Easy acc
#% col arc_easy_acc_ci95_lo [1, f64] low
#% col arc_easy_acc_ci95_hi [1, f64] high
#% col arc_challenge_acc [1, f64] ARC-Challenge acc
#% col arc_challenge_acc_ci95_lo [1, f64] low
#% col arc_challenge_acc_ci95_hi [1, f64] high
#% col mmlu_acc [1, f64] MMLU acc (micro average over the scored items)
#% col mmlu_acc_ci95_lo [1, f64] low
#% col mmlu_acc_ci95_hi [1, f64] high
#% col gsm8k_exact_match_flexible [1, f64] GSM8K exact match, flexible-extract
#% col gsm8k_exact_match_flexible_ci95_lo [1, f64] low
#% col gsm8k_exact_match_flexible_ci95_hi [1, f64] high
#% col math500_exact_match [1, f64] Math-500 (hendrycks_math500) exact match
#% col math500_exact_match_ci95_lo [1, f64] low
#% col math500_exact_match_ci95_hi [1, f64] high
#% col math500_chat_acc [1, f64] Math-500 (chat protocol) acc, strip_string equivalence
#% col math500_chat_acc_ci95_lo [1, f64] low
#% col math500_chat_acc_ci95_hi [1, f64] high
#% col chance@hellaswag [1, f64] chance level of HellaSwag
#% col chance@arc_easy [1, f64] chance level of ARC-Easy
#% col chance@arc_challenge [1, f64] chance level of ARC-Challenge
#% col chance@mmlu [1, f64] chance level of MMLU

fig = 'e04-acc-moe'
fig_model = 'qwen3-tiny-moe'
load 'figures/e04-acc.gp'

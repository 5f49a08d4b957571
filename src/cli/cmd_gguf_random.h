/* cmd_gguf_random -- "ql gguf-random": a GGUF v3 file (qwen3 architecture keys, the Qwen3 tokenizer) holding
 * the random seeded weights that the CUDA serving engine makes for its e07-serving speed runs
 * (src/engine/qwen3_cuda.cu srv_create_random, kernels/serve_gemv.cu serve_w_random), so llama.cpp can be
 * measured on the same weights (issue 15; tools/llamacpp/gpu_peer.sh).
 *
 * The engine's stream: tensor id (embed 1, lm_head 2, final norm 3, layer l at 1000 + 16 l: attn_norm +0,
 * mlp_norm +1, q_norm +2, k_norm +3, fused q|k|v +4, o +5, fused gate|up +9, down +10), s0 = rng_hash(seed, id),
 * codes from rng_hash(s0, 1), scales from rng_hash(s0, 2); Linear rms 1 / sqrt(K), embeddings rms 1; norms
 * 1 + 0.2 (u - 0.5) from rng_hash(rng_hash(seed, id), i). This file draws the same values on the host:
 *   --type bf16   every Linear BF16, bit for bit the engine's bf16 recipe;
 *   --type q4_0   every Linear Q4_0 holding exactly the engine's gptq storage (INT4 sym, FP16 scale per 128:
 *                 the scale replicated over its four 32-blocks, the nibble q kept, (q - 8) d = (q - 8) s);
 *   --type mxfp4  every Linear ggml MXFP4 holding exactly the engine's mxfp4-w4a16 storage (E2M1 codes, E8M0
 *                 per 32; the nibbles reordered to ggml's j / j + 16 pairing);
 *   --type q8_0   every Linear Q8_0 re-quantized (formats/ggml_block.h's rule: FP16 d = amax / 127 per 32,
 *                 RNE) from the engine's fp8 recipe values (E4M3 x FP32 scale per 128 x 128): NOT the same
 *                 numbers (Q8_0 cannot hold E4M3 x block scale exactly); each element within d / 2.
 * general.file_type is llama.cpp's ftype of the type (BF16 32, Q8_0 7, Q4_0 2, MXFP4 38: display only).
 * In every type token_embd and output (untied shapes) are BF16 and the norms F32, exactly the engine's. The
 * fused q|k|v and gate|up are split by rows into attn_q / attn_k / attn_v and ffn_gate / ffn_up. MoE shapes are
 * refused. Deterministic: the bytes do not depend on --threads. The whole file is built in memory, then
 * written (gguf_writer, path.tmp + fsync + rename): about the file's size in RAM. */
#ifndef SRC_CLI_CMD_GGUF_RANDOM_H
#define SRC_CLI_CMD_GGUF_RANDOM_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql gguf-random --shape NAME|CONFIG.json --type bf16|q8_0|q4_0|mxfp4 -o OUT.gguf [--tokenizer DIR]
 * [--seed S] [--threads N]; argv[0] is "gguf-random". Returns 0; dies (1) on unreadable input, exits 2 on a
 * bad command line. */
int cmd_gguf_random(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif

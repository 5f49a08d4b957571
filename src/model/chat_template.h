/* chat_template -- Qwen3's chat template, written out in C.
 * Renders the same string as the Jinja "chat_template" of Qwen3's tokenizer_config.json for messages without
 * tools: an optional leading system message, user / assistant turns (and tool results), the generation prompt,
 * and enable_thinking=false's empty "<think>\n\n</think>\n\n". The rendered string is then encoded with
 * tokenizer_encode, which turns the "<|im_start|>"-style markers into their special ids. */
#ifndef SRC_MODEL_CHAT_TEMPLATE_H
#define SRC_MODEL_CHAT_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FNV-1a 64 of the template text this module implements (Qwen3's, 4116 bytes). */
#define CHAT_TEMPLATE_QWEN3_FNV1A64 UINT64_C(0x2bfdb7aa9754484e)

struct chat_message {
    const char *role;              /* "system", "user", "assistant" or "tool" (other roles render nothing) */
    const char *content;           /* never NULL */
    const char *reasoning_content; /* assistant only: the thinking text; NULL = take it from <think>..</think> */
};

/* Renders n messages as Qwen3's template does, with add_generation_prompt and enable_thinking (1 = the
 * template's default, thinking allowed; 0 = the prompt closes an empty think block). Returns a fresh
 * NUL-terminated string; caller frees. */
char *chat_template_render(const struct chat_message *msgs, size_t n, int add_generation_prompt,
                           int enable_thinking);

/* Returns 1 when the Jinja text (tokenizer_config.json's "chat_template") is the one chat_template_render
 * implements, byte for byte (compared by FNV-1a 64 and length), else 0. */
int chat_template_is_qwen3(const char *jinja);

#ifdef __cplusplus
}
#endif
#endif

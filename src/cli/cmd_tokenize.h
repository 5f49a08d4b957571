/* cmd_tokenize -- "ql tokenize": UTF-8 text on stdin, its Qwen3 token ids on stdout (one line, space-separated).
 * Added and special tokens written in the text ("<|im_start|>") become their ids, as in HF tokenizers.
 * With --decode the direction is reversed: ids (any whitespace between them) in, the exact bytes out.
 * The tokenizer is src/model/tokenizer.h; errors go to stderr. */
#ifndef SRC_CLI_CMD_TOKENIZE_H
#define SRC_CLI_CMD_TOKENIZE_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql tokenize --tokenizer PATH [--decode]; argv[0] is "tokenize". Returns 0; dies (1) on an unreadable or
 * unsupported tokenizer or a malformed id, exits 2 on a bad command line. */
int cmd_tokenize(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif

/* chat_template -- Qwen3's chat template, written out in C (see chat_template.h).
 *
 * What the Jinja template does when no tools are given, step by step:
 *
 *   1. A first message with role "system" becomes "<|im_start|>system\n" + content + "<|im_end|>\n".
 *   2. last_query = the index of the last "user" message whose content is not a wrapped tool response
 *      (does not both start with "<tool_response>" and end with "</tool_response>"); n-1 if there is none.
 *   3. Each message in order:
 *      user, or system not first:  "<|im_start|>" + role + "\n" + content + "<|im_end|>\n"
 *      assistant:  reasoning = reasoning_content if given; else, when content holds "</think>",
 *                    content   = the text after the last "</think>", leading newlines stripped,
 *                    reasoning = the text before the first "</think>", trailing newlines stripped, then the
 *                                part after the last "<think>", leading newlines stripped;
 *                  if the message comes after last_query and (it is the last message or reasoning is not
 *                  empty): "<|im_start|>assistant\n<think>\n" + reasoning stripped of newlines at both ends
 *                  + "\n</think>\n\n" + content with leading newlines stripped;
 *                  else "<|im_start|>assistant\n" + content; then "<|im_end|>\n" in both cases.
 *      tool:       "<|im_start|>user" before the first of a run of tool messages, then
 *                  "\n<tool_response>\n" + content + "\n</tool_response>", and "<|im_end|>\n" after the last.
 *   4. add_generation_prompt: "<|im_start|>assistant\n", plus "<think>\n\n</think>\n\n" when
 *      enable_thinking is false.
 *
 * Python's split()[0] / split()[-1] and strip('\n') are written as slices over the content. */
#include "model/chat_template.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

struct slice {
    const char *p;
    size_t n;
};

struct out {
    char *p;
    size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n) {
    if (o->n + n + 1 > o->cap) {
        o->cap = o->cap ? o->cap : 256;
        while (o->n + n + 1 > o->cap) o->cap *= 2;
        o->p = xrealloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }
static void put_slice(struct out *o, struct slice s) { put(o, s.p, s.n); }

static struct slice slice_of(const char *s) { return (struct slice){s, strlen(s)}; }

/* The offset of the first / last occurrence of needle in s, or -1. */
static long find_first(struct slice s, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= s.n; i++)
        if (!memcmp(s.p + i, needle, k)) return (long)i;
    return -1;
}

static long find_last(struct slice s, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = s.n + 1; i-- > 0;)
        if (i + k <= s.n && !memcmp(s.p + i, needle, k)) return (long)i;
    return -1;
}

/* Python's s.split(sep)[-1]: what follows the last occurrence (all of s when there is none). */
static struct slice after_last(struct slice s, const char *sep) {
    long i = find_last(s, sep);
    if (i < 0) return s;
    size_t skip = (size_t)i + strlen(sep);
    return (struct slice){s.p + skip, s.n - skip};
}

/* Python's s.split(sep)[0]: what precedes the first occurrence (all of s when there is none). */
static struct slice before_first(struct slice s, const char *sep) {
    long i = find_first(s, sep);
    return i < 0 ? s : (struct slice){s.p, (size_t)i};
}

static struct slice lstrip_nl(struct slice s) {
    while (s.n && s.p[0] == '\n') s.p++, s.n--;
    return s;
}

static struct slice rstrip_nl(struct slice s) {
    while (s.n && s.p[s.n - 1] == '\n') s.n--;
    return s;
}

static int starts_with(const char *s, const char *pre) { return !strncmp(s, pre, strlen(pre)); }

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

static void render_assistant(struct out *o, const struct chat_message *m, int after_query, int last) {
    struct slice content = slice_of(m->content), reasoning = {"", 0};
    if (m->reasoning_content) {
        reasoning = slice_of(m->reasoning_content);
    } else if (find_first(content, "</think>") >= 0) {
        struct slice all = content;
        content = lstrip_nl(after_last(all, "</think>"));
        reasoning = lstrip_nl(after_last(rstrip_nl(before_first(all, "</think>")), "<think>"));
    }
    puts_(o, "<|im_start|>");
    puts_(o, m->role);
    if (after_query && (last || reasoning.n > 0)) {
        puts_(o, "\n<think>\n");
        put_slice(o, rstrip_nl(lstrip_nl(reasoning)));
        puts_(o, "\n</think>\n\n");
        put_slice(o, lstrip_nl(content));
    } else {
        puts_(o, "\n");
        put_slice(o, content);
    }
    puts_(o, "<|im_end|>\n");
}

char *chat_template_render(const struct chat_message *msgs, size_t n, int add_generation_prompt,
                           int enable_thinking) {
    struct out o = {0};
    put(&o, "", 0); /* an empty result is still a string */
    for (size_t i = 0; i < n; i++)
        CHECK(msgs[i].role && msgs[i].content, "chat message %zu lacks a role or content", i);

    if (n > 0 && !strcmp(msgs[0].role, "system")) {
        puts_(&o, "<|im_start|>system\n");
        puts_(&o, msgs[0].content);
        puts_(&o, "<|im_end|>\n");
    }

    size_t last_query = n ? n - 1 : 0;
    for (size_t i = n; i-- > 0;) {
        const struct chat_message *m = &msgs[i];
        if (!strcmp(m->role, "user") &&
            !(starts_with(m->content, "<tool_response>") && ends_with(m->content, "</tool_response>"))) {
            last_query = i;
            break;
        }
    }

    for (size_t i = 0; i < n; i++) {
        const struct chat_message *m = &msgs[i];
        if (!strcmp(m->role, "user") || (!strcmp(m->role, "system") && i > 0)) {
            puts_(&o, "<|im_start|>");
            puts_(&o, m->role);
            puts_(&o, "\n");
            puts_(&o, m->content);
            puts_(&o, "<|im_end|>\n");
        } else if (!strcmp(m->role, "assistant")) {
            render_assistant(&o, m, i > last_query, i + 1 == n);
        } else if (!strcmp(m->role, "tool")) {
            if (i == 0 || strcmp(msgs[i - 1].role, "tool") != 0) puts_(&o, "<|im_start|>user");
            puts_(&o, "\n<tool_response>\n");
            puts_(&o, m->content);
            puts_(&o, "\n</tool_response>");
            if (i + 1 == n || strcmp(msgs[i + 1].role, "tool") != 0) puts_(&o, "<|im_end|>\n");
        }
    }

    if (add_generation_prompt) {
        puts_(&o, "<|im_start|>assistant\n");
        if (!enable_thinking) puts_(&o, "<think>\n\n</think>\n\n");
    }
    return o.p;
}

int chat_template_is_qwen3(const char *jinja) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t n = 0;
    for (; jinja[n]; n++) h = (h ^ (uint8_t)jinja[n]) * 0x100000001b3ull;
    return n == 4116 && h == CHAT_TEMPLATE_QWEN3_FNV1A64;
}

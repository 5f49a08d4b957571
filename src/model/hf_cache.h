/* hf_cache -- a Hugging Face model id ("Qwen/Qwen3-8B") resolved to a folder of the local Hugging Face cache,
 * without any network access. Layout (huggingface_hub, file_download.py / constants.py): the hub cache is
 * $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; a model
 * lives in <hub>/models--<org>--<name>/, refs/main holds the commit hash of the main branch and
 * snapshots/<hash>/ the files. An id may carry a revision, "org/name@<hash or ref>" (refs/<ref>, else a
 * snapshot named so). A path that exists is returned as given. API: hf_cache_resolve / hf_cache_find. */
#ifndef SRC_MODEL_HF_CACHE_H
#define SRC_MODEL_HF_CACHE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Looks name up: returns a malloc'd path (the folder itself when name exists on disk; the snapshot folder when
 * name is an id found in a cache), or NULL when name is an id found nowhere, with the searched folders written
 * into searched (n bytes, "A, B"). A name that is not id-shaped (not exactly "org/name", or starting with '.'
 * or '/') and does not exist is returned as given, so the caller's own "not found" error names it. */
char *hf_cache_find(const char *name, char *searched, size_t n);

/* hf_cache_find, dying with one line naming the id and every folder searched when it is not cached. */
char *hf_cache_resolve(const char *name);

#ifdef __cplusplus
}
#endif
#endif

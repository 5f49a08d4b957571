/* i18n -- the few fixed strings that the report code itself writes (figure captions' "Figure 1",
 * navigation, the index page, the footer), in English and Simplified Chinese. Everything else a reader
 * sees comes from the Markdown sources of each language. The language is always an explicit argument
 * ("en" or "zh"), never the process locale. */
#ifndef SRC_REPORT_I18N_H
#define SRC_REPORT_I18N_H

#ifdef __cplusplus
extern "C" {
#endif

enum i18n_key {
    I18N_HTML_LANG,      /* value of <html lang>: "en", "zh-CN" */
    I18N_FIGURE,         /* "Figure %d" */
    I18N_CAPTION_SEP,    /* between "Figure 1" and the caption */
    I18N_INDEX_TITLE,    /* title of the index page */
    I18N_INDEX_INTRO,    /* one paragraph under it */
    I18N_NOTEBOOKS,      /* heading: the notebooks */
    I18N_PAPER,          /* heading: the paper */
    I18N_BACK,           /* link text back to the index */
    I18N_OTHER_LANG,     /* link text to the same page in the other language */
    I18N_FOOTER,         /* how the page was made */
    I18N_N_KEYS
};

/* Returns 1 for "en" and "zh", else 0. */
int i18n_lang_ok(const char *lang);

/* The other language ("zh" for "en" and vice versa). */
const char *i18n_other(const char *lang);

/* The string for key in lang (a static string); lang must satisfy i18n_lang_ok. */
const char *i18n_str(const char *lang, enum i18n_key key);

#ifdef __cplusplus
}
#endif
#endif

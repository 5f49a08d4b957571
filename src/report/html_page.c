/* html_page -- see html_page.h. */
#include "report/html_page.h"

#include <string.h>

#include "core/check.h"
#include "report/i18n.h"
#include "core/strbuf.h"

/* One stylesheet for both languages. Chinese text gets a CJK font first (:lang(zh)), so Latin letters
 * inside Chinese prose do not fall back glyph by glyph; numbers use tabular figures so table columns align. */
static const char css[] =
    ":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg-alt:#f6f8fa;--accent:#0969da}\n"
    "html{font-size:16px}\n"
    "body{margin:0;color:var(--fg);background:#fff;line-height:1.6;"
    "font-family:\"Noto Sans\",\"Helvetica Neue\",Arial,\"Noto Sans CJK SC\",\"Noto Sans SC\",\"PingFang SC\","
    "\"Microsoft YaHei\",sans-serif}\n"
    ":lang(zh) body,body:lang(zh){font-family:\"Noto Sans CJK SC\",\"Noto Sans SC\",\"PingFang SC\","
    "\"Microsoft YaHei\",\"Noto Sans\",sans-serif;line-height:1.8}\n"
    "nav{border-bottom:1px solid var(--line);padding:.6rem 1.5rem;font-size:.9rem;background:var(--bg-alt)}\n"
    "nav a{color:var(--accent);text-decoration:none;margin-right:1.2rem}\n"
    "main{max-width:52rem;margin:0 auto;padding:1rem 1.5rem 3rem}\n"
    "h1,h2,h3{line-height:1.3;margin-top:1.8em}\n"
    "h1{font-size:1.9rem;margin-top:.8em}h2{font-size:1.4rem;border-bottom:1px solid var(--line);padding-bottom:.2em}\n"
    "a{color:var(--accent)}\n"
    "code,pre{font-family:\"Noto Sans Mono\",\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:.88em}\n"
    "code{background:var(--bg-alt);padding:.1em .3em;border-radius:4px}\n"
    "pre{background:var(--bg-alt);padding:.8em 1em;overflow-x:auto;border-radius:6px}pre code{padding:0}\n"
    "table{border-collapse:collapse;margin:1.2em 0;font-variant-numeric:tabular-nums;display:block;overflow-x:auto}\n"
    "th,td{border:1px solid var(--line);padding:.3em .7em}th{background:var(--bg-alt)}\n"
    "figure{margin:1.5em 0;text-align:center}\n"
    "figure img{max-width:100%;height:auto}\n"
    "figcaption{color:var(--muted);font-size:.92rem;margin-top:.4em}\n"
    "blockquote{margin:1em 0;padding:.2em 1em;border-left:4px solid var(--line);color:var(--muted)}\n"
    "footer{max-width:52rem;margin:0 auto;padding:1rem 1.5rem 2rem;color:var(--muted);font-size:.85rem;"
    "border-top:1px solid var(--line)}\n";

/* Runs once everything (images included) has loaded or failed; an <img> that failed has naturalWidth 0. */
static const char img_script[] =
    "(function(){function check(){var im=document.images,ok=0;"
    "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
    "var r=document.documentElement;r.setAttribute('data-img-total',String(im.length));"
    "r.setAttribute('data-img-loaded',String(ok));"
    "r.setAttribute('data-img-state',ok===im.length?'ok':'broken');}"
    "window.addEventListener('load',check);})();";

char *html_page_build(const struct html_page *pg) {
    CHECK(i18n_lang_ok(pg->lang) && pg->title && pg->body_html && pg->file_name, "html_page_build: incomplete page");
    const char *other = i18n_other(pg->lang);
    struct strbuf b = {0};
    strbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
                  i18n_str(pg->lang, I18N_HTML_LANG));
    strbuf_puts(&b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    strbuf_puts(&b, "<meta name=\"generator\" content=\"ql report\">\n<title>");
    strbuf_html(&b, pg->title);
    strbuf_printf(&b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<nav>", css);
    if (!pg->is_index) {
        strbuf_puts(&b, "<a href=\"index.html\">\xe2\x86\x90 ");
        strbuf_puts(&b, i18n_str(pg->lang, I18N_BACK));
        strbuf_puts(&b, "</a>");
    }
    strbuf_printf(&b, "<a href=\"../%s/", other);
    strbuf_html(&b, pg->file_name);
    strbuf_printf(&b, "\" hreflang=\"%s\">%s</a></nav>\n<main>\n", i18n_str(other, I18N_HTML_LANG),
                  i18n_str(pg->lang, I18N_OTHER_LANG));
    strbuf_puts(&b, pg->body_html);
    strbuf_printf(&b, "</main>\n<footer>%s</footer>\n<script>%s</script>\n</body>\n</html>\n",
                  i18n_str(pg->lang, I18N_FOOTER), img_script);
    return strbuf_take(&b);
}

/* cmd_report -- "ql report": renders one Markdown source (a notebook or the paper) with its placeholders
 * filled from results into a standalone HTML page plus the resolved Markdown beside it, copying the
 * figures it shows; or, with --index, the index page of a language. See src/report/placeholders.h for
 * the placeholder syntax. Nothing reads the locale: the language is the --lang flag. */
#ifndef SRC_CLI_CMD_REPORT_H
#define SRC_CLI_CMD_REPORT_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql report [--lang en|zh] [--results DIR] [--model NAME|DIR] [--figures DIR] --out PAGE.html SOURCE.md
 * ql report --index [--lang en|zh] --out DIR/index.html RESOLVED.md ...
 * argv[0] is "report". Returns 0; dies (1) on an unknown key or missing figure, exits 2 on usage errors. */
int cmd_report(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif

/* cmd_figdata -- "ql figdata": writes the TSV behind one figure from the results JSON (src/report/figdata.h
 * describes the "#%" spec lines a figure script carries). gnuplot reads only these TSVs; drivers never
 * call gnuplot. The write is atomic. */
#ifndef SRC_CLI_CMD_FIGDATA_H
#define SRC_CLI_CMD_FIGDATA_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql figdata [--results DIR] [--model NAME|DIR] --out FILE.tsv FIGURE.gp; argv[0] is "figdata".
 * Returns 0; dies (1) on missing results, exits 2 on a bad command line. */
int cmd_figdata(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif

/* cmd_data_verify -- "ql data-verify": checks the pinned evaluation files (the one table, src/data/dataset.c)
 * exactly as the programs will read them: each file is looked up with dataset_find (--data-dir, $QL_DATA_DIR,
 * ./data, ../shared/data; the first hit wins, as in every driver), and that copy is hashed against its pin.
 * A copy with another hash is NOT verified (one error line naming the path and both hashes) even when a later
 * directory holds a good one, because the programs would read the damaged one and stop. `make data` is this
 * command plus the downloads: --fetch-list writes what is missing and downloadable, --install moves a
 * downloaded file into place only when its hash is the pinned one. */
#ifndef SRC_CLI_CMD_DATA_VERIFY_H
#define SRC_CLI_CMD_DATA_VERIFY_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql data-verify [--data-dir DIR] [--fetch-list FILE] | --install NAME FILE --data-dir DIR; argv[0] is
 * "data-verify". Returns 0 when every pinned file is found and verified (or the installed file matches),
 * 1 when any is missing or differs; exits 2 on a bad command line. */
int cmd_data_verify(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif

/* memstat -- the process's peak resident memory (RSS), for the memory column of quantization runs (e05).
 * Linux only: the peak is VmHWM of /proc/self/status (kB); memstat_peak_reset writes "5" to
 * /proc/self/clear_refs, which resets VmHWM to the current RSS (Linux >= 4.0, Documentation/filesystems/
 * proc.rst), so a peak can be measured per phase of one process. Where the reset is refused, the peak is the
 * process's whole-life peak (reset returns -1 and the caller records that). Elsewhere both return -1. */
#ifndef SRC_CORE_MEMSTAT_H
#define SRC_CORE_MEMSTAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Resets the peak to the current RSS. Returns 0, or -1 when the kernel refused (the peak is then not reset). */
int memstat_peak_reset(void);

/* The peak RSS in bytes since the last successful reset (or since the start), or -1 when unknown. */
int64_t memstat_peak_rss_bytes(void);

#ifdef __cplusplus
}
#endif
#endif

/* timer -- clocks for logs and speed measurements (never for seeds: STYLE.md section 6).
 * monotonic_seconds is CLOCK_MONOTONIC, for durations; wall_seconds is CLOCK_REALTIME (seconds since the epoch),
 * for the timing sidecar of a run; process_cpu_seconds is CLOCK_PROCESS_CPUTIME_ID (CPU time of every thread of
 * the process), which a loaded machine inflates far less than wall time: for cost estimates on a shared host. */
#ifndef SRC_CORE_TIMER_H
#define SRC_CORE_TIMER_H

#ifdef __cplusplus
extern "C" {
#endif

double monotonic_seconds(void);
double wall_seconds(void);
double process_cpu_seconds(void);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How long wisp itself takes to handle KVM_RUN exits (--exit-stats).
 *
 * Each vCPU thread keeps one struct exit_timing.  For every return from
 * KVM_RUN it adds the time from that return to its next KVM_RUN call (or
 * to the stop decision, for the last exit) to the histogram of the exit's
 * kind.  The histograms are fixed arrays: adding a sample never allocates
 * and costs a few instructions.
 *
 * Histogram buckets are log-linear: values below 16 ns have one bucket
 * each; above, every power of two [2^e, 2^(e+1)) is split into 16 equal
 * buckets, so a bucket is at most 1/16 of its lower bound wide.  Values of
 * 2^40 ns (about 18 minutes) and more share the last bucket.  A percentile
 * is reported as the midpoint of the bucket holding the sample of that rank
 * (nearest rank), so it is within about 3% of the true sample.
 *
 * When the vCPU thread ends it prints exit_timing_format()'s line to
 * stderr, one per vCPU, in this format (a stable interface: tools/bench
 * and guest-tests/run parse it):
 *
 *   wisp: vcpuN exits: io C (median M ns, p90 P ns), mmio C (...), other C (...); clock read R ns
 *
 * N is the vCPU index, C the number of exits of that kind, M and P the
 * median and 90th percentile of wisp's handling time in nanoseconds.  A kind
 * with no exits reads "io 0" without the parenthesis.  "io" is
 * KVM_EXIT_IO (port I/O), "mmio" KVM_EXIT_MMIO, "other" every other return
 * from KVM_RUN (interrupted runs, system events, HLT and the like).
 *
 * R is the median time between two back-to-back clock_gettime() calls,
 * measured when the thread starts.  Each sample spans about one such read
 * (from inside the first call to inside the second), so M - R estimates the
 * handling alone; R matters where reading the clock is slow (a host whose
 * clocksource is the HPET: about 900 ns under QEMU TCG, some 20-30 ns with
 * the TSC).  "; clock read ..." is left out when it was not measured.
 */
#ifndef WISP_EXIT_TIMING_H
#define WISP_EXIT_TIMING_H

#include <stddef.h>
#include <stdint.h>

#define EXIT_HIST_SUB_BITS	4
#define EXIT_HIST_SUB		(1u << EXIT_HIST_SUB_BITS)	/* 16 */
#define EXIT_HIST_MAX_EXP	40	/* values >= 2^40 share the last bucket */
#define EXIT_HIST_BUCKETS	((EXIT_HIST_MAX_EXP - EXIT_HIST_SUB_BITS + 1) * \
				 EXIT_HIST_SUB)

enum exit_kind {
	EXIT_KIND_IO,
	EXIT_KIND_MMIO,
	EXIT_KIND_OTHER,
	EXIT_KINDS,
};

struct exit_hist {
	uint64_t count;
	uint64_t bucket[EXIT_HIST_BUCKETS];
};

/* Per-vCPU; written by its own thread only. */
struct exit_timing {
	struct exit_hist kind[EXIT_KINDS];
	struct exit_hist clock;	/* back-to-back clock reads, at start */
};

/* The bucket of a value; monotonic in @ns. */
static inline unsigned int exit_hist_bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < EXIT_HIST_SUB)
		return (unsigned int)ns;
	e = 63 - (unsigned int)__builtin_clzll(ns);
	if (e >= EXIT_HIST_MAX_EXP)
		return EXIT_HIST_BUCKETS - 1;
	return (e - EXIT_HIST_SUB_BITS + 1) * EXIT_HIST_SUB +
	       (unsigned int)((ns >> (e - EXIT_HIST_SUB_BITS)) &
			      (EXIT_HIST_SUB - 1));
}

static inline void exit_hist_add(struct exit_hist *h, uint64_t ns)
{
	h->count++;
	h->bucket[exit_hist_bucket(ns)]++;
}

/* The kind of a struct kvm_run exit_reason. */
enum exit_kind exit_kind_of(uint32_t exit_reason);

/* "io", "mmio" or "other". */
const char *exit_kind_name(enum exit_kind kind);

/* The smallest value that falls into bucket @b, and the bucket's width. */
uint64_t exit_hist_bucket_low(unsigned int b);
uint64_t exit_hist_bucket_width(unsigned int b);

/*
 * The @pct-th percentile (1..100) by nearest rank, as the midpoint of its
 * bucket (rounded down); 0 for an empty histogram.
 */
uint64_t exit_hist_percentile(const struct exit_hist *h, unsigned int pct);

/*
 * Write vCPU @vcpu's line (the format above, with a newline) into @buf of
 * @size bytes.  Returns what snprintf would: the length it needed.
 */
int exit_timing_format(const struct exit_timing *t, unsigned int vcpu,
		       char *buf, size_t size);

#endif

// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <linux/kvm.h>

#include "exit_timing.h"

enum exit_kind exit_kind_of(uint32_t exit_reason)
{
	switch (exit_reason) {
	case KVM_EXIT_IO:
		return EXIT_KIND_IO;
	case KVM_EXIT_MMIO:
		return EXIT_KIND_MMIO;
	default:
		return EXIT_KIND_OTHER;
	}
}

const char *exit_kind_name(enum exit_kind kind)
{
	static const char *const names[EXIT_KINDS] = {
		[EXIT_KIND_IO] = "io",
		[EXIT_KIND_MMIO] = "mmio",
		[EXIT_KIND_OTHER] = "other",
	};

	return kind < EXIT_KINDS ? names[kind] : "?";
}

uint64_t exit_hist_bucket_low(unsigned int b)
{
	unsigned int e;

	if (b < EXIT_HIST_SUB)
		return b;
	e = b / EXIT_HIST_SUB + EXIT_HIST_SUB_BITS - 1;
	return (uint64_t)(EXIT_HIST_SUB + b % EXIT_HIST_SUB)
	       << (e - EXIT_HIST_SUB_BITS);
}

uint64_t exit_hist_bucket_width(unsigned int b)
{
	if (b < EXIT_HIST_SUB)
		return 1;
	return 1ULL << (b / EXIT_HIST_SUB - 1);
}

uint64_t exit_hist_percentile(const struct exit_hist *h, unsigned int pct)
{
	uint64_t rank, seen = 0;
	unsigned int b;

	if (!h->count)
		return 0;
	if (pct < 1)
		pct = 1;
	if (pct > 100)
		pct = 100;
	/* Nearest rank: the smallest sample with pct% of them at or below. */
	rank = (h->count * pct + 99) / 100;
	for (b = 0; b < EXIT_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank)
			return exit_hist_bucket_low(b) +
			       exit_hist_bucket_width(b) / 2;
	}
	return exit_hist_bucket_low(EXIT_HIST_BUCKETS - 1);
}

int exit_timing_format(const struct exit_timing *t, unsigned int vcpu,
		       char *buf, size_t size)
{
	size_t used = 0;
	int n, k;

#define APPEND(...)							\
	do {								\
		n = snprintf(buf + (used < size ? used : size),		\
			     used < size ? size - used : 0, __VA_ARGS__);	\
		if (n < 0)						\
			return n;					\
		used += (size_t)n;					\
	} while (0)

	APPEND("wisp: vcpu%u exits:", vcpu);
	for (k = 0; k < EXIT_KINDS; k++) {
		const struct exit_hist *h = &t->kind[k];

		APPEND("%s %s %llu", k ? "," : "", exit_kind_name(k),
		       (unsigned long long)h->count);
		if (h->count)
			APPEND(" (median %llu ns, p90 %llu ns)",
			       (unsigned long long)exit_hist_percentile(h, 50),
			       (unsigned long long)exit_hist_percentile(h, 90));
	}
	if (t->clock.count)
		APPEND("; clock read %llu ns",
		       (unsigned long long)exit_hist_percentile(&t->clock, 50));
	APPEND("\n");
#undef APPEND
	return (int)used;
}

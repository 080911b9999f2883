// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot: a guest for snapshot, restore and migration tests (mode
 * snapshot of guest-tests/run).  Two things that a restored or migrated
 * VM must carry on with intact:
 *
 *   a count of 10 ms LAPIC timer ticks, printed every 5 ticks as
 *
 *	COUNT: 1234
 *
 *   and a region of RAM (mem_mib MiB above the image), filled at CPL3 with
 *   a pattern derived from the seed: every 8-byte word of page p holds a
 *   value computed from (seed, p, gen[p], word), gen[] a generation per
 *   page.  Every check ticks a round regenerates the whole region at CPL3,
 *   compares it word by word and prints
 *
 *	MEMSUM OK <round> <hash of the region, hex>
 *	MEMSUM BAD <round> <hash> <n> bad words, first at <addr>: <found>, expected <value>
 *
 *   then rewrites churn pages with their next generation, so that RAM
 *   keeps changing between rounds.
 *
 * With write=fast it rewrites pages (the next generation, page after page
 * round the region) at CPL3 all the time it is not printing or checking,
 * or at most write_mib_s MiB/s when that is given: a guest that dirties
 * memory for migration's convergence tests.
 *
 * It takes one command on the serial input (the UART's receive interrupt,
 * GSI 4, as the counter guest): q reports and exits through the exit port
 * (status 0 if no round was BAD).
 *
 * Parameters: mem_mib=N (default 16, 1 to 256), seed=N, check=TICKS
 * (default 50), churn=PAGES (default a sixteenth of the region),
 * write=fast, write_mib_s=N (0: no limit), wait=S (default 300: the
 * guest's own limit in ticks counted, so time paused does not count),
 * corrupt=R (a check of the check: before round R, one word of the
 * region changes behind the pattern's back, so that round is BAD).
 */
#include "guest.h"

#define TICK_VEC	0x40
#define RX_VEC		0x41
#define TICK_US		10000
#define TICKS_PER_S	(1000000 / TICK_US)
#define PRINT_TICKS	5

#define UART_MCR	4
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT2	0x08
#define UART_IER_RDI	0x01
#define COM1_GSI	4

#define PAGE		4096UL
#define WORDS		(PAGE / 8)
#define MIB		(1UL << 20)
#define MAX_MIB		256
#define MAX_PAGES	(MAX_MIB * MIB / PAGE)
#define GOLDEN		0x9e3779b97f4a7c15ULL

static volatile u64 ticks;
static volatile u32 rx_irqs;

/* The region and what it must hold; read and written at CPL3 too. */
static u64 region, pages, seed;
static u32 gen[MAX_PAGES];
static u64 cursor;		/* the next page to rewrite */

/* What the last verify found. */
static u64 sum, bad_words, first_bad, first_found, first_want;

static void tick_handler(struct trap_frame *f)
{
	(void)f;
	ticks++;
	lapic_eoi();
}

static void rx_handler(struct trap_frame *f)
{
	(void)f;
	rx_irqs++;
	lapic_eoi();
}

/*
 * Some PVM builds raise #UD for the `int $0x80` by which CPL3 code goes
 * back to run_user() (docs/testing.md, "The PVM probe"); the return value
 * is in RDI by then, so a #UD at CPL3 returns as the gate would have.
 * Under KVM it never fires.
 */
static void ud_handler(struct trap_frame *f)
{
	if ((f->cs & 3) == 3)
		user_return(f->rdi);
	fatal_trap(f);
}

static int drain_rx(void)
{
	int c, last = -1;

	for (int i = 0; i < 64 && (c = serial_getc()) >= 0; i++)
		last = c;
	return last;
}

static inline u64 mix64(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Word 0 of page @p at generation @g; word i adds i * GOLDEN. */
static inline u64 page_base(u64 p, u32 g)
{
	return mix64(seed ^ (p << 32) ^ g ^ GOLDEN);
}

static inline void write_page(u64 p)
{
	volatile u64 *w = (volatile u64 *)(region + p * PAGE);
	u64 v = page_base(p, gen[p]);

	for (u64 i = 0; i < WORDS; i++, v += GOLDEN)
		w[i] = v;
}

/* CPL3: the whole region at generation 0. */
static u64 user_fill(u64 arg)
{
	(void)arg;
	for (u64 p = 0; p < pages; p++) {
		gen[p] = 0;
		write_page(p);
	}
	return 0;
}

/* CPL3: compares the region with the pattern; the number of bad words. */
static u64 user_verify(u64 arg)
{
	u64 h = 0xcbf29ce484222325ULL, bad = 0;

	(void)arg;
	for (u64 p = 0; p < pages; p++) {
		const volatile u64 *w = (const volatile u64 *)(region + p * PAGE);
		u64 want = page_base(p, gen[p]);

		for (u64 i = 0; i < WORDS; i++, want += GOLDEN) {
			u64 v = w[i];

			h = (h ^ v) * 0x100000001b3ULL;
			if (v == want)
				continue;
			if (!bad) {
				first_bad = (u64)&w[i];
				first_found = v;
				first_want = want;
			}
			bad++;
		}
	}
	sum = h;
	bad_words = bad;
	return bad;
}

/*
 * CPL3: rewrites up to @n pages with their next generation, round the
 * region; stops early when @stop_on_tick and a tick came.  Pages written.
 */
static u64 rewrite(u64 n, bool stop_on_tick)
{
	u64 t = ticks, done = 0;

	while (done < n && !(stop_on_tick && ticks != t)) {
		u64 p = cursor;

		gen[p]++;
		write_page(p);
		cursor = p + 1 == pages ? 0 : p + 1;
		done++;
	}
	return done;
}

/* CPL3: one word in the middle of the region, changed. */
static u64 user_corrupt(u64 arg)
{
	(void)arg;
	((volatile u64 *)region)[pages * WORDS / 2 + 3] ^= 1ULL << 17;
	return 0;
}

static u64 user_churn(u64 n)
{
	return rewrite(n, false);
}

static u64 user_write(u64 n)
{
	return rewrite(n, true);
}

/* User code with interrupts on (ticks count meanwhile); back with off. */
static u64 run_user_irq(u64 (*fn)(u64), u64 arg)
{
	u64 ret;

	irq_enable();
	ret = run_user(fn, arg);
	irq_disable();
	return ret;
}

/* The region: the first mem_mib MiB of RAM above the image, 1 MiB aligned. */
static bool find_region(u64 mib)
{
	u64 start = ((u64)__image_end + MIB - 1) & ~(MIB - 1);
	u64 end = start + mib * MIB;

	for (int i = 0; i < memmap_count(); i++) {
		const struct memmap_entry *e = memmap_get(i);

		if (e->type == MEMMAP_RAM && e->addr <= start &&
		    e->addr + e->size >= end && end <= mapped_limit()) {
			region = start;
			pages = mib * MIB / PAGE;
			return true;
		}
	}
	return false;
}

int main(void)
{
	u64 mib = cmdline_get_ulong("mem_mib", 16);
	u64 check = cmdline_get_ulong("check", 50);
	u64 limit = cmdline_get_ulong("wait", 300) * TICKS_PER_S;
	u64 rate = cmdline_get_ulong("write_mib_s", 0);
	u64 corrupt = cmdline_get_ulong("corrupt", 0);
	const char *write = cmdline_get("write");
	bool fast = write && !strcmp(write, "fast");
	u64 next_print = PRINT_TICKS, next_check, churn, rounds = 0, bad = 0;
	u64 per_tick, budget = 0, budget_tick = ~0ULL, written = 0;
	u32 rx_seen;
	bool quit = false;

	seed = cmdline_get_ulong("seed", 0x5eed);
	test_begin("snapshot");
	if (!mib || mib > MAX_MIB || !check) {
		report(false, "snapshot: mem_mib must be 1 to %d, check at least 1",
		       MAX_MIB);
		return 0;
	}
	if (!find_region(mib)) {
		report(false, "snapshot: no %lu MiB of RAM above the image at %p",
		       mib, __image_end);
		return 0;
	}
	set_trap_handler(6, ud_handler);	/* #UD */
	churn = cmdline_get_ulong("churn", pages / 16);
	/* write_mib_s: pages per tick, at least one. */
	per_tick = rate ? (rate * MIB / PAGE + TICKS_PER_S - 1) / TICKS_PER_S :
		   ~0ULL;
	run_user(user_fill, 0);

	lapic_enable();
	set_trap_handler(TICK_VEC, tick_handler);
	set_trap_handler(RX_VEC, rx_handler);
	ioapic_route(COM1_GSI, RX_VEC, 0, 0);
	outb(COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	outb(COM1 + UART_IER, UART_IER_RDI);
	drain_rx();
	rx_seen = rx_irqs;
	printf("READY: snapshot guest: %lu MiB at %#lx, seed %#lx, a round "
	       "every %lu ticks, %s; command q\n", mib, region, seed, check,
	       !fast ? "idle between rounds" :
	       rate ? "writing memory (limited)" : "writing memory fast");
	if (fast && rate)
		printf("WRITE: at most %lu pages per tick (%lu MiB/s)\n",
		       per_tick, rate);
	next_check = check;
	lapic_timer_start(TICK_VEC, lapic_timer_khz() * TICK_US / 1000, true);
	irq_disable();
	while (!quit && ticks < limit) {
		if (fast && budget_tick != ticks) {
			budget_tick = ticks;
			budget = per_tick;
		}
		if (fast && budget) {
			u64 n = run_user_irq(user_write, budget);

			budget -= n > budget ? budget : n;
			written += n;
		} else {
			safe_halt();
			irq_disable();
		}
		if (ticks >= next_print) {
			printf("COUNT: %lu\n", ticks);
			next_print = ticks + PRINT_TICKS;
		}
		if (ticks >= next_check) {
			rounds++;
			if (rounds == corrupt)
				run_user_irq(user_corrupt, 0);
			if (!run_user_irq(user_verify, 0)) {
				printf("MEMSUM OK %lu %016lx\n", rounds, sum);
			} else {
				bad++;
				printf("MEMSUM BAD %lu %016lx %lu bad words, first "
				       "at %#lx: %#lx, expected %#lx\n", rounds,
				       sum, bad_words, first_bad, first_found,
				       first_want);
			}
			if (!fast && churn)
				run_user_irq(user_churn, churn);
			next_check = ticks + check;
		}
		if (rx_irqs != rx_seen) {
			rx_seen = rx_irqs;
			if (drain_rx() == 'q')
				quit = true;
		}
	}
	lapic_timer_stop();
	report(rounds > 0 && !bad, "snapshot: %lu rounds, %lu BAD, %lu ticks, "
	       "%lu pages written between rounds", rounds, bad, ticks,
	       written);
	report(quit, "snapshot: %s", quit ? "quit on 'q'" :
	       "no 'q' before the wait= limit");
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * smp: starts cpus=N CPUs.  Every AP checks in with its LAPIC ID and
 * CPUID's APIC ID, runs code at CPL3, and takes a fixed IPI from the BSP.
 */
#include "guest.h"

#define IPI_VEC		0x60
#define WAIT_US		20000000

struct checkin {
	int in;
	u32 lapic_id;
	u32 cpuid_id;
	u64 user_result;
	int ipis;
};

static struct checkin cpus[MAX_CPUS];

static u32 cpuid_apic_id(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

static u64 user_square(u64 x)
{
	return x * x + 1;
}

static void ipi_handler(struct trap_frame *f)
{
	(void)f;
	__atomic_add_fetch(&cpus[cpu_id()].ipis, 1, __ATOMIC_SEQ_CST);
	lapic_eoi();
}

/* Runs on each AP; waits (bounded) for the BSP's IPI before returning. */
static void ap_checkin(int id)
{
	struct checkin *c = &cpus[id];
	u64 deadline;

	c->lapic_id = lapic_id();
	c->cpuid_id = cpuid_apic_id();
	c->user_result = run_user(user_square, id);
	__atomic_store_n(&c->in, 1, __ATOMIC_RELEASE);
	deadline = tsc_deadline_us(WAIT_US);
	irq_enable();
	while (!__atomic_load_n(&c->ipis, __ATOMIC_ACQUIRE) &&
	       !tsc_expired(deadline))
		cpu_relax();
	irq_disable();
}

static bool wait_all(int n, bool (*cond)(int id))
{
	u64 deadline = tsc_deadline_us(WAIT_US);

	for (int id = 1; id < n; id++)
		while (!cond(id))
			if (tsc_expired(deadline))
				return false;
	return true;
}

static bool checked_in(int id)
{
	return __atomic_load_n(&cpus[id].in, __ATOMIC_ACQUIRE);
}

static bool ipi_seen(int id)
{
	return __atomic_load_n(&cpus[id].ipis, __ATOMIC_ACQUIRE) > 0;
}

static void check_ids(int n)
{
	bool ok = true;
	u32 seen = 0;

	for (int id = 0; id < n; id++) {
		struct checkin *c = &cpus[id];

		printf("cpu %d: lapic id %u, cpuid id %u, user %lu\n", id,
		       c->lapic_id, c->cpuid_id, c->user_result);
		if (c->lapic_id != (u32)id || c->cpuid_id != (u32)id ||
		    (seen & (1U << (c->lapic_id & 31))))
			ok = false;
		seen |= 1U << (c->lapic_id & 31);
	}
	report(ok, "APIC IDs are 0..%d, distinct, equal to CPUID's", n - 1);
	ok = true;
	for (int id = 1; id < n; id++)
		ok &= cpus[id].user_result == (u64)id * id + 1;
	report(ok, "every AP ran code at CPL3");
}

int main(void)
{
	int n = cmdline_get_ulong("cpus", 0);
	int online;

	test_begin("smp-start");
	if (n < 1 || n > MAX_CPUS) {
		report(false, "smp: need cpus=N (1..%d) on the command line",
		       MAX_CPUS);
		return 0;
	}
	set_trap_handler(IPI_VEC, ipi_handler);
	lapic_enable();
	cpus[0].lapic_id = lapic_id();
	cpus[0].cpuid_id = cpuid_apic_id();
	cpus[0].in = 1;
	online = smp_start(n, ap_checkin);
	report(online == n, "%d of %d CPUs online", online, n);
	report(wait_all(n, checked_in), "all APs checked in");
	check_ids(n);

	test_begin("smp-ipi");
	for (int id = 1; id < n; id++)
		lapic_send_ipi(id, APIC_DM_FIXED | IPI_VEC);
	report(wait_all(n, ipi_seen), "fixed IPI delivered to every AP");
	report(wait_all(n, cpu_done), "every AP finished its function");
	return 0;
}

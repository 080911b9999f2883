// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "exit.h"

/* Unclaimed accesses logged per vCPU at -v before going quiet. */
#define UNCLAIMED_LOG_LIMIT	10

static int stop_with(struct exit_stop *stop, int status, bool dump,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int stop_with(struct exit_stop *stop, int status, bool dump,
		     const char *fmt, ...)
{
	va_list ap;

	stop->status = status;
	stop->dump = dump;
	va_start(ap, fmt);
	vsnprintf(stop->why, sizeof(stop->why), fmt, ap);
	va_end(ap);
	return 1;
}

static void log_unclaimed(const struct exit_env *env, uint64_t count,
			  const char *bus, uint64_t addr, uint32_t len,
			  bool is_write)
{
	if (env->verbose <= 0 || count > UNCLAIMED_LOG_LIMIT)
		return;
	fprintf(stderr, "wisp: unclaimed %s %s of %u bytes at 0x%llx%s\n", bus,
		is_write ? "write" : "read", len, (unsigned long long)addr,
		count == UNCLAIMED_LOG_LIMIT ? " (no more such messages)" : "");
}

static int handle_pio(const struct exit_env *env, struct kvm_run *run,
		      size_t run_size, struct exit_stop *stop)
{
	uint32_t size = run->io.size, count = run->io.count, i;
	uint64_t offset = run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data;

	if ((size != 1 && size != 2 && size != 4) || !count ||
	    offset > run_size || (uint64_t)size * count > run_size - offset)
		return stop_with(stop, WISP_EXIT_SOFTWARE, true,
				 "malformed PIO exit (port 0x%x, size %u, count %u, offset %llu)",
				 run->io.port, size, count,
				 (unsigned long long)offset);
	data = (uint8_t *)run + offset;
	for (i = 0; i < count; i++, data += size) {
		if (!bus_access(env->pio, env->reader, run->io.port, data, size, is_write))
			log_unclaimed(env, ++env->stats->unclaimed_pio, "port",
				      run->io.port, size, is_write);
	}
	return 0;
}

static int handle_mmio(const struct exit_env *env, struct kvm_run *run,
		       struct exit_stop *stop)
{
	uint32_t len = run->mmio.len;

	if (!len || len > sizeof(run->mmio.data))
		return stop_with(stop, WISP_EXIT_SOFTWARE, true,
				 "malformed MMIO exit (address 0x%llx, length %u)",
				 (unsigned long long)run->mmio.phys_addr, len);
	if (!bus_access(env->mmio, env->reader, run->mmio.phys_addr, run->mmio.data, len,
			run->mmio.is_write))
		log_unclaimed(env, ++env->stats->unclaimed_mmio, "MMIO",
			      run->mmio.phys_addr, len, run->mmio.is_write);
	return 0;
}

static int handle_system_event(struct kvm_run *run, struct exit_stop *stop)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return stop_with(stop, WISP_EXIT_OK, false, "guest powered off");
	case KVM_SYSTEM_EVENT_RESET:
		return stop_with(stop, WISP_EXIT_RESET, false, "guest reset");
	case KVM_SYSTEM_EVENT_CRASH:
		return stop_with(stop, WISP_EXIT_PANIC, false, "guest crashed");
	default:
		return stop_with(stop, WISP_EXIT_SOFTWARE, true,
				 "unknown KVM system event %u",
				 run->system_event.type);
	}
}

int exit_dispatch(const struct exit_env *env, struct kvm_run *run,
		  size_t run_size, struct exit_stop *stop)
{
	uint32_t reason = run->exit_reason;

	env->stats->by_reason[reason < EXIT_REASON_SLOTS ? reason : 0]++;
	switch (reason) {
	case KVM_EXIT_IO:
		return handle_pio(env, run, run_size, stop);
	case KVM_EXIT_MMIO:
		return handle_mmio(env, run, stop);
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(run, stop);
	case KVM_EXIT_SHUTDOWN:
		return stop_with(stop, WISP_EXIT_CRASH, true,
				 "guest triple fault (KVM_EXIT_SHUTDOWN)");
	case KVM_EXIT_FAIL_ENTRY:
		return stop_with(stop, WISP_EXIT_CRASH, true,
				 "VM entry failed (KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return stop_with(stop, WISP_EXIT_CRASH, true,
				 "KVM internal error (suberror %u%s)",
				 run->internal.suberror,
				 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				 ": instruction emulation failed" : "");
	default:
		return stop_with(stop, WISP_EXIT_SOFTWARE, true,
				 "unhandled KVM exit reason %u", reason);
	}
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Construction of a VM in one fixed order (vm_create) and teardown in the
 * reverse order (vm_destroy).  Reading vm_create() top to bottom tells
 * what a VM is made of.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../devices/acpi_pm.h"
#include "../devices/debug_exit.h"
#include "../devices/i8042.h"
#include "../devices/pvpanic.h"
#include "../devices/serial.h"
#include "../devices/testdev.h"
#include "../devices/virtio/blk.h"
#include "../firmware/acpi.h"
#include "../firmware/longmode.h"
#include "boot_x86.h"
#include "cmdline.h"
#include "cpu_x86.h"
#include "irq.h"
#include "migrate.h"
#include "snapshot.h"
#include "vm.h"

_Static_assert(CPU_BOOT_CS == LONGMODE_BOOT_CS && CPU_BOOT_DS == LONGMODE_BOOT_DS,
	       "the boot GDT holds the selectors the vCPU starts with");

/* Devices and firmware describe one platform; pin their shared numbers. */
_Static_assert(ACPI_PM_PIO_BASE == ACPI_SLEEP_CONTROL_PORT, "ACPI PM port");
_Static_assert(ACPI_PM_RESET_VALUE == ACPI_RESET_VALUE, "ACPI reset value");
_Static_assert(PVPANIC_MMIO_BASE == ACPI_PVPANIC_BASE, "pvpanic address");
_Static_assert(SERIAL_COM1_BASE == ACPI_COM1_PORT, "COM1 port");
_Static_assert(SERIAL_COM1_GSI == ACPI_COM1_GSI, "COM1 GSI");
_Static_assert(WISP_MAX_CPUS <= ACPI_MAX_CPUS, "vCPU limit");

/* How long the final console flush waits for a slow reader. */
#define CONSOLE_CLOSE_TIMEOUT_MS	1000

/* ---- stopping ---------------------------------------------------------- */

bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_status, __ATOMIC_ACQUIRE) >= 0;
}

int vm_harvest_dirty(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	if (!vm->kvm.dirty_ring_entries)
		return 0;
	pthread_mutex_lock(&vm->dirty_lock);
	for (i = 0; i < vm->n_vcpus; i++)
		vcpu_harvest_dirty(&vm->vcpus[i]);
	if (ioctl(vm->kvm.vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
		ret = -errno;
	pthread_mutex_unlock(&vm->dirty_lock);
	return ret;
}

void vm_stop_now(struct vm *vm, int status)
{
	vm_request_stop(vm, status);
	vm->loop.stop = true;	/* not one more event, device kicks included */
}

void vm_request_stop(struct vm *vm, int status)
{
	int none = -1;
	uint64_t one = 1;

	if (!__atomic_compare_exchange_n(&vm->stop_status, &none, status, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	if (write(vm->stop_src.fd, &one, sizeof(one)) < 0)
		perror("wisp: eventfd");
	/* Parked vCPUs wake up to see it. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* ---- announcing a restored or migrated guest ------------------------------- */

/*
 * Its network devices each send a RARP from the guest's MAC
 * (net_announce) ANNOUNCE_ROUNDS times: as the guest runs again, then
 * ANNOUNCE_FIRST_GAP_MS later, then every ANNOUNCE_STEP_MS.  Switches
 * and bridges learn its new port at once, without waiting for the guest
 * to send.  Best effort: a full or missing tap skips a round.
 */
#define ANNOUNCE_ROUNDS		5
#define ANNOUNCE_FIRST_GAP_MS	50
#define ANNOUNCE_STEP_MS	100

static void arm_announce(struct vm *vm, unsigned int ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = ms / 1000,
		.it_value.tv_nsec = (ms % 1000) * 1000000L + 1,	/* 0 disarms */
	};

	if (timerfd_settime(vm->announce_src.fd, 0, &its, NULL))
		perror("wisp: announce: timerfd");
}

static void on_announce(struct ev_source *src, uint32_t events)
{
	struct vm *vm = src->data;
	uint64_t expirations;
	unsigned int i, sent = 0;
	int ret;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 ||
	    !vm->announce_left)
		return;
	for (i = 0; i < vm->n_nets; i++) {
		ret = net_announce(vm->nets[i]);
		if (!ret)
			sent++;
		else if (vm->cfg->verbose)
			fprintf(stderr, "wisp: announce: network device %u: %s\n",
				i, strerror(-ret));
	}
	if (vm->cfg->verbose)
		fprintf(stderr, "wisp: announce: round %u: a RARP from %u of %u network devices\n",
			ANNOUNCE_ROUNDS - vm->announce_left + 1, sent,
			vm->n_nets);
	vm->announce_left--;
	if (vm->announce_left)
		arm_announce(vm, vm->announce_left == ANNOUNCE_ROUNDS - 1 ?
				 ANNOUNCE_FIRST_GAP_MS : ANNOUNCE_STEP_MS);
}

static int setup_announce(struct vm *vm, struct wisp_err *err)
{
	vm->announce_src = (struct ev_source){
		.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
		.cb = on_announce, .data = vm,
	};
	if (vm->announce_src.fd < 0 ||
	    evloop_add(&vm->loop, &vm->announce_src, EPOLLIN))
		return err_set(err, WISP_EXIT_OSERR, errno, "timerfd: %s",
			       strerror(errno));
	vm->announce_left = ANNOUNCE_ROUNDS;
	return 0;
}

/* The first time a restored or migrated guest runs; else nothing. */
static void start_announcing(struct vm *vm)
{
	if (vm->announce_src.fd < 0 ||
	    __atomic_exchange_n(&vm->announce_started, true, __ATOMIC_ACQ_REL))
		return;
	arm_announce(vm, 0);
}

/* ---- pause, resume, power button ----------------------------------------- */

int vm_pause(struct vm *vm, unsigned int timeout_ms)
{
	unsigned int i, started = 0;
	struct timespec deadline;
	int ret = 0;

	__atomic_store_n(&vm->pause_requested, true, __ATOMIC_SEQ_CST);
	for (i = 0; i < vm->n_vcpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		vcpu_kick(&vm->vcpus[i]);
		started++;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->n_parked < started && !vm_stopping(vm) && !ret)
		ret = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock,
					     &deadline);
	if (vm->n_parked >= started)
		ret = 0;
	pthread_mutex_unlock(&vm->pause_lock);
	if (vm_stopping(vm))
		return -ESHUTDOWN;
	if (ret) {
		vm_resume(vm);
		return -ETIMEDOUT;
	}
	return 0;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_requested, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	start_announcing(vm);
}

bool vm_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE);
}

void vm_power_button(struct vm *vm)
{
	/* The GED's interrupt: an edge, level 1 then 0. */
	vm->hs.irq_line(vm, ACPI_GED_GSI, 1);
	vm->hs.irq_line(vm, ACPI_GED_GSI, 0);
}

void vm_fail(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->err_lock);
	if (!vm->err.status && !vm_stopping(vm)) {
		vm->err.status = status;
		va_start(ap, fmt);
		vsnprintf(vm->err.msg, sizeof(vm->err.msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->err_lock);
	vm_request_stop(vm, status);
}

static void on_stop_requested(struct ev_source *src, uint32_t events)
{
	struct vm *vm = src->data;

	(void)events;
	vm->loop.stop = true;
}

static void on_signal(struct ev_source *src, uint32_t events)
{
	struct signalfd_siginfo si;
	struct vm *vm = src->data;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (vm->cfg->verbose)
		fprintf(stderr, "wisp: %s: stopping the VM\n",
			strsignal(si.ssi_signo));
	vm_request_stop(vm, 128 + si.ssi_signo);
}

static void on_timeout(struct ev_source *src, uint32_t events)
{
	struct vm *vm = src->data;

	(void)events;
	vm_fail(vm, WISP_EXIT_TIMEOUT, "--timeout of %u s expired: stopping the VM",
		vm->cfg->timeout_sec);
}

/* ---- host services for devices ------------------------------------------ */

static void *hs_guest_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;

	return guest_ptr(&vm->mem, gpa, len);
}

static void hs_irq_line(void *ctx, unsigned int gsi, int level)
{
	struct vm *vm = ctx;

	kvm_irq_line(&vm->kvm, gsi, level);
}

_Static_assert(PCI_MMIO32_BASE == ACPI_PCI_MMIO32_BASE &&
	       PCI_MMIO32_SIZE == ACPI_PCI_MMIO32_SIZE,
	       "the DSDT's PCI window is the PCI host's");
_Static_assert(PCI_ECAM_BASE == ACPI_PCI_ECAM_BASE &&
	       PCI_ECAM_SIZE == ACPI_PCI_ECAM_SIZE,
	       "the MCFG's ECAM region is the PCI host's");

/* Does [addr, addr + size) touch guest RAM?  @size > 0, no wrap. */
static bool overlaps_ram(const struct guest_mem *mem, uint64_t addr,
			 uint64_t size)
{
	unsigned int i;

	for (i = 0; i < mem->n_regions; i++) {
		const struct guest_region *r = &mem->regions[i];

		if (addr <= r->gpa + (r->size - 1) &&
		    r->gpa <= addr + (size - 1))
			return true;
	}
	return false;
}

static int hs_map_region(void *ctx, bool is_io, uint64_t addr, uint64_t size,
			 const struct io_handler *ops, void *dev,
			 const char *name)
{
	struct vm *vm = ctx;

	if (!size || addr + (size - 1) < addr)
		return -EINVAL;
	if (is_io)
		return addr + size > 0x10000 ? -EINVAL :
		       bus_register(&vm->pio, addr, size, ops, dev, name);
	if (overlaps_ram(&vm->mem, addr, size))
		return -EEXIST;
	return bus_register(&vm->mmio, addr, size, ops, dev, name);
}

static int hs_unmap_region(void *ctx, bool is_io, uint64_t addr)
{
	struct vm *vm = ctx;

	return bus_unregister(is_io ? &vm->pio : &vm->mmio, addr);
}

static int hs_msi_alloc(void *ctx, int *fd)
{
	struct vm *vm = ctx;
	int gsi, ret;

	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	gsi = irq_msi_alloc(&vm->irq);
	if (gsi < 0) {
		ret = gsi;
		goto out_close;
	}
	ret = irq_irqfd(vm->kvm.vm_fd, *fd, gsi, true);
	if (ret) {
		irq_msi_free(&vm->irq, gsi);
		goto out_close;
	}
	return gsi;
out_close:
	close(*fd);
	*fd = -1;
	return ret;
}

static int hs_msi_set(void *ctx, int handle, uint64_t address, uint32_t data)
{
	struct vm *vm = ctx;

	return irq_msi_set(&vm->irq, handle, address, data);
}

static void hs_msi_free(void *ctx, int handle, int fd)
{
	struct vm *vm = ctx;

	irq_irqfd(vm->kvm.vm_fd, fd, handle, false);
	irq_msi_free(&vm->irq, handle);
	close(fd);
}

static int hs_ioeventfd(void *ctx, uint64_t addr, uint32_t len, int fd,
			bool assign)
{
	struct vm *vm = ctx;

	return irq_ioeventfd(vm->kvm.vm_fd, addr, len, fd, assign);
}

/* A device's watched fd on the event loop. */
struct watch_rec {
	struct ev_source src;
	unsigned int events;		/* HOST_WATCH_*; 0: paused (removed) */
};

static void on_device_fd(struct ev_source *src, uint32_t events)
{
	struct host_watch *w = src->data;

	(void)events;
	w->cb(w->arg);
}

static uint32_t epoll_events(unsigned int events)
{
	return (events & HOST_WATCH_IN ? EPOLLIN : 0) |
	       (events & HOST_WATCH_OUT ? EPOLLOUT : 0);
}

static int hs_watch(void *ctx, struct host_watch *w)
{
	struct vm *vm = ctx;
	struct watch_rec *rec = calloc(1, sizeof(*rec));
	int ret;

	if (!rec)
		return -ENOMEM;
	rec->src = (struct ev_source){
		.fd = w->fd, .cb = on_device_fd, .data = w,
	};
	rec->events = HOST_WATCH_IN;
	ret = evloop_add(&vm->loop, &rec->src, EPOLLIN);
	if (ret) {
		free(rec);
		return ret;
	}
	w->priv = rec;
	return 0;
}

static int hs_watch_events(void *ctx, struct host_watch *w,
			   unsigned int events)
{
	struct vm *vm = ctx;
	struct watch_rec *rec = w->priv;
	int ret;

	if (!rec)
		return -ENOENT;
	if (events == rec->events)
		return 0;
	/* Paused means out of epoll: EPOLLERR and EPOLLHUP come regardless. */
	if (!events)
		ret = evloop_remove(&vm->loop, &rec->src);
	else if (!rec->events)
		ret = evloop_add(&vm->loop, &rec->src, epoll_events(events));
	else
		ret = evloop_modify(&vm->loop, &rec->src, epoll_events(events));
	if (!ret)
		rec->events = events;
	return ret;
}

static void hs_unwatch(void *ctx, struct host_watch *w)
{
	struct vm *vm = ctx;
	struct watch_rec *rec = w->priv;

	if (!rec)
		return;
	if (rec->events)
		evloop_remove(&vm->loop, &rec->src);
	free(rec);
	w->priv = NULL;
}

/*
 * The 64-bit PCI window: up to PCI_MMIO64_SIZE bytes above RAM, 1 GiB
 * aligned, cut to what fits below the guest's physical address limit;
 * none (size 0: 64-bit BARs then go in the 32-bit window) when not even
 * 1 GiB fits.
 */
static void pci_mmio64_window(const struct vm *vm, uint64_t *base,
			      uint64_t *size)
{
	const uint64_t gib = 1ULL << 30;
	uint64_t end = GUEST_HIGH_RAM_START;
	uint64_t limit = 1ULL << cpu_phys_bits(vm->kvm.cpuid);

	if (vm->mem.n_regions > 1)
		end += vm->mem.regions[1].size;
	*base = (end + gib - 1) & ~(gib - 1);
	*size = *base < limit ? limit - *base : 0;
	if (*size > PCI_MMIO64_SIZE)
		*size = PCI_MMIO64_SIZE;
	*size &= ~(gib - 1);
	if (!*size && vm->cfg->verbose)
		fprintf(stderr, "wisp: no 64-bit PCI window: RAM ends too close to the guest's physical address limit (%#llx)\n",
			(unsigned long long)limit);
}

static int64_t hs_discard(void *ctx, uint64_t gpa, uint64_t len, bool balloon)
{
	struct vm *vm = ctx;
	int64_t ret = guest_mem_discard(&vm->mem, gpa, len, balloon);

	/* The pages read as zeros now: a migration sends them again. */
	guest_mem_mark_written(&vm->mem, gpa, len);
	return ret;
}

static void hs_mark_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;

	guest_mem_mark_written(&vm->mem, gpa, len);
}

static bool hs_written_tracked(void *ctx)
{
	struct vm *vm = ctx;

	return __atomic_load_n(&vm->mem.tracking, __ATOMIC_ACQUIRE);
}

static void hs_reclaim(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;

	guest_mem_reclaim(&vm->mem, gpa, len);
}

static void hs_request_stop(void *ctx, int status)
{
	vm_request_stop(ctx, status);
}

static void hs_request_reset(void *ctx)
{
	struct vm *vm = ctx;

	if (vm->cfg->verbose)
		fprintf(stderr, "wisp: guest reset\n");
	vm_request_stop(vm, WISP_EXIT_RESET);
}

static void hs_console_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm *vm = ctx;

	console_write(&vm->console, buf, len);
}

static void hs_console_rx_ready(void *ctx)
{
	struct vm *vm = ctx;

	console_rx_ready(&vm->console);
}

static size_t console_to_serial(void *sink, const uint8_t *buf, size_t len)
{
	return serial_receive(sink, buf, len);
}

static void console_quit(void *ctx)
{
	vm_request_stop(ctx, WISP_EXIT_STOPPED);
}

/* ---- construction steps ------------------------------------------------- */

static void on_kick_signal(int sig)
{
	(void)sig;	/* its only job is to interrupt KVM_RUN with EINTR */
}

static int setup_signals(struct vm *vm, struct wisp_err *err)
{
	struct sigaction kick = { .sa_handler = on_kick_signal };
	sigset_t stop_set;

	/* A handler without SA_RESTART, not SIG_IGN, so KVM_RUN is interrupted. */
	if (sigaction(VCPU_KICK_SIGNAL, &kick, NULL))
		return err_set(err, WISP_EXIT_OSERR, errno, "sigaction failed");
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	/*
	 * A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal never reaches a signalfd: take the default back (they stay
	 * blocked, so the default action never runs).
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* Blocked everywhere (threads inherit it); vCPUs unblock the kick. */
	sigaddset(&stop_set, VCPU_KICK_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &stop_set, &vm->saved_sigmask))
		return err_set(err, WISP_EXIT_OSERR, errno, "sigprocmask failed");
	vm->sigmask_saved = true;
	sigdelset(&stop_set, VCPU_KICK_SIGNAL);
	vm->signal_src = (struct ev_source){
		.fd = signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK),
		.cb = on_signal, .data = vm,
	};
	if (vm->signal_src.fd < 0 ||
	    evloop_add(&vm->loop, &vm->signal_src, EPOLLIN))
		return err_set(err, WISP_EXIT_OSERR, errno, "signalfd: %s",
			       strerror(errno));
	return 0;
}

static int setup_stop_event(struct vm *vm, struct wisp_err *err)
{
	vm->stop_src = (struct ev_source){
		.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
		.cb = on_stop_requested, .data = vm,
	};
	if (vm->stop_src.fd < 0 || evloop_add(&vm->loop, &vm->stop_src, EPOLLIN))
		return err_set(err, WISP_EXIT_OSERR, errno, "eventfd: %s",
			       strerror(errno));
	return 0;
}

static int setup_timeout(struct vm *vm, struct wisp_err *err)
{
	struct itimerspec its = {
		.it_value.tv_sec = vm->deadline_ns / 1000000000ULL,
		.it_value.tv_nsec = vm->deadline_ns % 1000000000ULL,
	};

	if (!vm->deadline_ns)
		return 0;
	vm->timer_src = (struct ev_source){
		.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
		.cb = on_timeout, .data = vm,
	};
	if (vm->timer_src.fd < 0 ||
	    timerfd_settime(vm->timer_src.fd, TFD_TIMER_ABSTIME, &its, NULL) ||
	    evloop_add(&vm->loop, &vm->timer_src, EPOLLIN))
		return err_set(err, WISP_EXIT_OSERR, errno, "timerfd: %s",
			       strerror(errno));
	return 0;
}

/* Refuse --pin CPUs this process may not run on, before any thread starts. */
static int check_pin_cpus(const struct vm_config *cfg, struct wisp_err *err)
{
	cpu_set_t allowed;
	unsigned int i;

	if (!cfg->n_pin)
		return 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return err_set(err, WISP_EXIT_OSERR, errno,
			       "sched_getaffinity: %s", strerror(errno));
	for (i = 0; i < cfg->n_pin; i++)
		if (!CPU_ISSET(cfg->pin[i], &allowed))
			return err_set(err, WISP_EXIT_USAGE, EINVAL,
				       "--pin: host CPU %u is not available to wisp (%d CPUs allowed)",
				       cfg->pin[i], CPU_COUNT(&allowed));
	return 0;
}

static int setup_memory_slots(struct vm *vm, struct wisp_err *err)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->mem.n_regions; i++) {
		const struct guest_region *r = &vm->mem.regions[i];

		ret = kvm_set_memory(&vm->kvm, i, r->gpa, r->size, r->host);
		if (ret)
			return err_set(err, WISP_EXIT_OSERR, -ret,
				       "KVM_SET_USER_MEMORY_REGION: %s",
				       strerror(-ret));
	}
	return 0;
}

static int setup_devices(struct vm *vm, struct wisp_err *err)
{
	struct host_services *hs = &vm->hs;
	uint64_t mmio64_base, mmio64_size;
	int ret;

	*hs = (struct host_services){
		.ctx = vm,
		.guest_ptr = hs_guest_ptr,
		.irq_line = hs_irq_line,
		.request_stop = hs_request_stop,
		.request_reset = hs_request_reset,
		.console_write = hs_console_write,
		.console_rx_ready = hs_console_rx_ready,
		.map_region = hs_map_region,
		.unmap_region = hs_unmap_region,
		.msi_alloc = hs_msi_alloc,
		.msi_set = hs_msi_set,
		.msi_free = hs_msi_free,
		.ioeventfd = hs_ioeventfd,
		.watch = hs_watch,
		.unwatch = hs_unwatch,
		.watch_events = hs_watch_events,
		.discard = hs_discard,
		.reclaim = hs_reclaim,
		.mark_written = hs_mark_written,
		.written_tracked = hs_written_tracked,
	};
	ret = irq_routes_init(&vm->irq, vm->kvm.vm_fd);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "interrupt routes: %s",
			       strerror(-ret));
	if (bus_init(&vm->pio, "pio") || bus_init(&vm->mmio, "mmio"))
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	pci_mmio64_window(vm, &mmio64_base, &mmio64_size);
	ret = pci_host_init(&vm->pci, hs, mmio64_base, mmio64_size);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "PCI: %s",
			       strerror(-ret));
	vm->pci_ready = true;
	vm->serial = serial_create(hs, SERIAL_COM1_GSI);
	vm->testdev = testdev_create(hs);
	vm->acpi_pm = acpi_pm_create(hs);
	vm->pvpanic = pvpanic_create(hs);
	if (!vm->serial || !vm->testdev || !vm->acpi_pm || !vm->pvpanic)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");

	ret = bus_register(&vm->pio, SERIAL_COM1_BASE, SERIAL_REG_COUNT,
			   &serial_io, vm->serial, "serial");
	if (!ret)
		ret = bus_register(&vm->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE,
				   &debug_exit_io, hs, "exit-port");
	if (!ret)
		ret = bus_register(&vm->pio, I8042_DATA_PORT, 1, &i8042_data_io,
				   hs, "i8042");
	if (!ret)
		ret = bus_register(&vm->pio, I8042_CMD_PORT, 1, &i8042_cmd_io,
				   hs, "i8042");
	if (!ret)
		ret = bus_register(&vm->pio, TESTDEV_PIO_BASE, TESTDEV_PIO_SIZE,
				   &testdev_io, vm->testdev, "testdev");
	if (!ret)
		ret = bus_register(&vm->pio, ACPI_PM_PIO_BASE, ACPI_PM_PIO_SIZE,
				   &acpi_pm_io, vm->acpi_pm, "acpi-pm");
	if (!ret)
		ret = bus_register(&vm->mmio, PVPANIC_MMIO_BASE,
				   PVPANIC_MMIO_SIZE, &pvpanic_io, vm->pvpanic,
				   "pvpanic");
	if (!ret)
		ret = bus_register(&vm->pio, PCI_CONFIG_ADDRESS, 4,
				   &pci_config_address_io, &vm->pci, "pci");
	if (!ret)
		ret = bus_register(&vm->pio, PCI_CONFIG_DATA, 4,
				   &pci_config_data_io, &vm->pci, "pci");
	if (!ret)
		ret = bus_register(&vm->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE,
				   &pci_ecam_io, &vm->pci, "pci-ecam");
	if (!ret)
		ret = bus_register(&vm->mmio, TESTDEV_MMIO_BASE,
				   TESTDEV_MMIO_SIZE, &testdev_io, vm->testdev,
				   "testdev");
	if (ret)
		return err_set(err, WISP_EXIT_SOFTWARE, -ret,
			       "device registration: %s", strerror(-ret));
	vm->console.deliver = console_to_serial;
	vm->console.sink = vm->serial;
	vm->console.quit = console_quit;
	vm->console.quit_ctx = vm;
	return 0;
}

static int load_guest(struct vm *vm, struct wisp_err *err)
{
	struct image_file kernel = { .fd = -1 }, initrd = { .fd = -1 };
	char *cmdline = NULL;
	int ret;

	ret = image_open(vm->cfg->kernel, vm->mem.size, "kernel", &kernel, err);
	if (ret)
		return ret;
	ret = loader_load_kernel(&kernel, &vm->mem, &vm->kernel, err);
	if (ret) {
		char what[300];

		snprintf(what, sizeof(what), "kernel '%s'", vm->cfg->kernel);
		err_prefix(err, what);
		goto out;
	}
	if (vm->cfg->initrd) {
		ret = image_open(vm->cfg->initrd, vm->mem.size, "initrd",
				 &initrd, err);
		if (ret)
			goto out;
	}
	cmdline = malloc(BOOT_CMDLINE_MAX);
	if (!cmdline) {
		ret = err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		goto out;
	}
	if (cmdline_compose(cmdline, BOOT_CMDLINE_MAX,
			    vm->cfg->no_default_cmdline ? NULL : CMDLINE_PLATFORM,
			    vm->cfg->cmdline) < 0) {
		ret = err_set(err, WISP_EXIT_DATAERR, E2BIG,
			      "kernel command line too long (at most %llu bytes with wisp's own '%s')",
			      BOOT_CMDLINE_MAX - 1, CMDLINE_PLATFORM);
		goto out;
	}
	if (vm->cfg->verbose)
		fprintf(stderr, "wisp: kernel command line: %s\n", cmdline);
	if (vm->kernel.format == KERNEL_BZIMAGE)
		ret = boot_linux_prepare(&vm->mem, &vm->kernel, cmdline,
					 vm->cfg->initrd ? &initrd : NULL,
					 BOOT_ACPI_GPA, err);
	else
		ret = boot_pvh_prepare(&vm->mem, &vm->kernel, cmdline,
				       vm->cfg->initrd ? &initrd : NULL,
				       BOOT_ACPI_GPA, err);
out:
	free(cmdline);
	image_close(&initrd);
	image_close(&kernel);
	return ret;
}

/*
 * The ACPI tables (the RSDP at BOOT_ACPI_GPA, where load_guest() told the
 * guest to look) and the reset vector, once the devices they describe
 * exist: the 64-bit PCI window needs KVM's CPUID.
 */
static int setup_firmware(struct vm *vm, struct wisp_err *err)
{
	struct acpi_config acpi = {
		.n_cpus = vm->cfg->cpus,
		.pci_mmio64_base = vm->pci.mmio64_base,
		.pci_mmio64_size = vm->pci.mmio64_size,
	};

	return boot_acpi_prepare(&vm->mem, &acpi, NULL, err);
}

/* A --disk failure: its status from the errno. */
static int disk_error(struct wisp_err *err, int e, const char *msg)
{
	int status = e == -ERANGE || e == -EINVAL ? WISP_EXIT_DATAERR :
		     e == -ENOMEM ? WISP_EXIT_OSERR : WISP_EXIT_NOINPUT;

	return err_set(err, status, -e, "--disk: %s", msg);
}

/* A --net failure: its status from the errno. */
static int net_error(struct wisp_err *err, int e, const char *msg)
{
	int status = e == -EPERM || e == -EACCES || e == -ENXIO ||
		     e == -EBUSY ? WISP_EXIT_UNAVAILABLE :
		     e == -ENODEV || e == -EINVAL ? WISP_EXIT_NOINPUT :
		     WISP_EXIT_OSERR;

	return err_set(err, status, -e, "--net: %s", msg);
}

/*
 * Parse every --disk and open (and lock) its backing, then every --net
 * and open its tap, before /dev/kvm: a bad disk is bad input and fails
 * first, like a bad kernel.  Once per "wisp run": a VM booted again keeps
 * them.
 */
static int open_backends(struct vm *vm, struct wisp_err *err)
{
	struct vm_backends *b = vm->backends;
	const struct vm_config *cfg = vm->cfg;
	char msg[300], warn[200];
	unsigned int i;
	int ret;

	if (b->opened)
		return 0;
	b->opened = true;
	b->disks = calloc(cfg->n_disks + 1, sizeof(*b->disks));
	b->nets = calloc(cfg->n_nets + 1, sizeof(*b->nets));
	if (!b->disks || !b->nets)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	for (i = 0; i < cfg->n_disks; i++) {
		struct vm_disk *vd = &b->disks[i];

		if (blk_parse_options(cfg->disks[i], &vd->opts, msg,
				      sizeof(msg)))
			return err_set(err, WISP_EXIT_USAGE, EINVAL,
				       "--disk: %s", msg);
		ret = blk_open_backing(&vd->opts, &vd->backing, msg,
				       sizeof(msg));
		if (ret)
			return disk_error(err, ret, msg);
		b->n_disks++;
	}
	for (i = 0; i < cfg->n_nets; i++) {
		struct vm_net *vn = &b->nets[i];

		if (net_parse_options(cfg->nets[i], &vn->opts, msg,
				      sizeof(msg)))
			return err_set(err, WISP_EXIT_USAGE, EINVAL,
				       "--net: %s", msg);
		ret = net_open_tap(&vn->opts, &vn->tap, msg, sizeof(msg),
				   warn, sizeof(warn));
		if (ret)
			return net_error(err, ret, msg);
		b->n_nets++;
		if (warn[0])
			fprintf(stderr, "wisp: --net: %s\n", warn);
		if (vn->opts.has_mac)
			memcpy(vn->mac, vn->opts.mac, 6);
		else if (!vm->restore ||
			 snapshot_net_mac(vm->restore, i, vn->mac))
			net_default_mac(cfg->name, i, vn->mac);
	}
	return 0;
}

void vm_backends_close(struct vm_backends *b)
{
	unsigned int i;

	for (i = 0; i < b->n_disks; i++)
		blk_release_backing(&b->disks[i].backing);
	for (i = 0; i < b->n_nets; i++)
		net_close_tap(&b->nets[i].tap);
	free(b->disks);
	free(b->nets);
	*b = (struct vm_backends){ 0 };
}

/* A virtio-blk device on the PCI bus for each disk open_backends() opened. */
static int setup_disks(struct vm *vm, struct wisp_err *err)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->backends->n_disks; i++) {
		struct vm_disk *vd = &vm->backends->disks[i];
		struct blk_backing mine = vd->backing;
		struct blk_dev *d;
		char msg[300];
		int e = 0;

		/* The device's own fd on the same open file (and lock). */
		mine.fd = fcntl(vd->backing.fd, F_DUPFD_CLOEXEC, 3);
		if (mine.fd < 0)
			return err_set(err, WISP_EXIT_OSERR, errno,
				       "--disk '%s': dup: %s", vd->opts.path,
				       strerror(errno));
		d = blk_create(&vm->hs, &vd->opts, &mine, vm->cfg->cpus,
			       msg, sizeof(msg), &e);
		if (!d)		/* the input was fine: the host failed us */
			return err_set(err, WISP_EXIT_OSERR, -e, "--disk: %s",
				       msg);
		vm->disks[vm->n_disks++] = d;
		ret = pci_host_add(&vm->pci, blk_pci_device(d));
		if (ret < 0)
			return err_set(err, WISP_EXIT_USAGE, -ret,
				       "--disk '%s': no room on the PCI bus",
				       vd->opts.path);
	}
	return 0;
}

/* A virtio-net device on the PCI bus for each tap open_backends() opened. */
static int setup_nets(struct vm *vm, struct wisp_err *err)
{
	unsigned int i, q;
	int ret;

	for (i = 0; i < vm->backends->n_nets; i++) {
		struct vm_net *vn = &vm->backends->nets[i];
		struct net_tap mine = vn->tap;
		struct net_dev *d;
		char msg[300];
		int e = 0;

		/* The device's own fds on the same tap queues. */
		for (q = 0; q < mine.n_fds; q++)
			mine.fds[q] = fcntl(vn->tap.fds[q], F_DUPFD_CLOEXEC, 3);
		for (q = 0; q < mine.n_fds; q++)
			if (mine.fds[q] < 0) {
				e = errno;
				net_close_tap(&mine);
				return err_set(err, WISP_EXIT_OSERR, e,
					       "--net '%s': dup: %s",
					       vn->tap.ifname, strerror(e));
			}
		d = net_create(&vm->hs, &vn->opts, vn->mac, &mine, msg,
			       sizeof(msg), &e);
		if (!d)
			return err_set(err, WISP_EXIT_OSERR, -e, "--net: %s",
				       msg);
		vm->nets[vm->n_nets++] = d;
		ret = pci_host_add(&vm->pci, net_pci_device(d));
		if (ret < 0)
			return err_set(err, WISP_EXIT_USAGE, -ret,
				       "--net '%s': no room on the PCI bus",
				       vn->tap.ifname);
	}
	return 0;
}

static int setup_balloon(struct vm *vm, struct wisp_err *err)
{
	char msg[200];
	int e = 0, ret;

	if (!vm->cfg->balloon)
		return 0;
	vm->balloon = balloon_create(&vm->hs, &vm->cfg->balloon_opts,
				     vm->cfg->mem_size, msg, sizeof(msg), &e);
	if (!vm->balloon)
		return err_set(err, WISP_EXIT_OSERR, -e, "--balloon: %s", msg);
	ret = pci_host_add(&vm->pci, balloon_pci_device(vm->balloon));
	if (ret < 0)
		return err_set(err, WISP_EXIT_USAGE, -ret,
			       "--balloon: no room on the PCI bus");
	return 0;
}

static int setup_vcpus(struct vm *vm, struct wisp_err *err)
{
	unsigned int i;
	int ret;

	if ((int)vm->cfg->cpus > vm->kvm.max_vcpus)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "--cpus %u: this host's KVM allows at most %d vCPUs",
			       vm->cfg->cpus, vm->kvm.max_vcpus);
	vm->vcpus = calloc(vm->cfg->cpus, sizeof(*vm->vcpus));
	vm->bus_readers = calloc(vm->cfg->cpus, sizeof(*vm->bus_readers));
	if (!vm->vcpus || !vm->bus_readers)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	bus_set_readers(&vm->pio, vm->bus_readers, vm->cfg->cpus);
	bus_set_readers(&vm->mmio, vm->bus_readers, vm->cfg->cpus);
	for (i = 0; i < vm->cfg->cpus; i++) {
		ret = vcpu_create(&vm->vcpus[i], vm, i, err);
		if (vm->vcpus[i].fd >= 0)
			vm->n_vcpus = i + 1;
		if (ret)
			return ret;
	}
	if (vm->restore)
		return 0;	/* the snapshot's registers come later */
	if (vm->kernel.format == KERNEL_BZIMAGE)
		return cpu_set_linux64_entry(vm->vcpus[0].fd, vm->kernel.entry,
					     BOOT_PARAMS_GPA,
					     BOOT_PAGE_TABLES_GPA, BOOT_GDT_GPA,
					     LONGMODE_GDT_SIZE - 1, err);
	return cpu_set_pvh_entry(vm->vcpus[0].fd, vm->kernel.entry,
				 BOOT_START_INFO_GPA, err);
}

/*
 * Which dirty log a migration reads: KVM's dirty ring where the kernel
 * offers it, else the slots' bitmaps.  WISP_DIRTY_LOG=ring|bitmap in the
 * environment picks one (the tests run both); "ring" on a kernel without
 * it is an error rather than a quiet fallback.
 */
enum dirty_log_choice { DIRTY_LOG_DEFAULT, DIRTY_LOG_RING, DIRTY_LOG_BITMAP };

static int dirty_log_from_env(enum dirty_log_choice *choice,
			      struct wisp_err *err)
{
	const char *want = getenv("WISP_DIRTY_LOG");

	*choice = DIRTY_LOG_DEFAULT;
	if (!want)
		return 0;
	if (!strcmp(want, "ring"))
		*choice = DIRTY_LOG_RING;
	else if (!strcmp(want, "bitmap"))
		*choice = DIRTY_LOG_BITMAP;
	else
		return err_set(err, WISP_EXIT_USAGE, 0,
			       "WISP_DIRTY_LOG=%s: expected ring or bitmap",
			       want);
	return 0;
}

static int enable_dirty_log(struct vm *vm, enum dirty_log_choice choice,
			    struct wisp_err *err)
{
	int ret;

	if (choice == DIRTY_LOG_BITMAP)
		return 0;
	ret = kvm_enable_dirty_ring(&vm->kvm);
	if (choice == DIRTY_LOG_DEFAULT)
		return 0;	/* the bitmap serves where the ring failed */
	if (ret)
		return err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			       "KVM_CAP_DIRTY_LOG_RING: %s", strerror(-ret));
	if (!vm->kvm.dirty_ring_entries)
		return err_set(err, WISP_EXIT_UNAVAILABLE, 0,
			       "WISP_DIRTY_LOG=ring: this kernel's KVM has no "
			       "dirty ring");
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg,
	      struct vm_backends *backends, uint64_t deadline_ns,
	      struct snapshot *restore, struct wisp_err *err)
{
	enum dirty_log_choice dirty_log = DIRTY_LOG_DEFAULT;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->restore = restore;
	vm->backends = backends;
	vm->deadline_ns = deadline_ns;
	vm->stop_status = -1;
	vm->loop.epoll_fd = -1;
	vm->stop_src.fd = vm->signal_src.fd = vm->timer_src.fd = -1;
	vm->announce_src.fd = -1;
	vm->kvm.dev_fd = vm->kvm.vm_fd = -1;
	pthread_mutex_init(&vm->err_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_mutex_init(&vm->dirty_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->pause_cond, &ca);
		pthread_condattr_destroy(&ca);
	}

	ret = evloop_init(&vm->loop);
	if (ret)
		return err_set(err, WISP_EXIT_OSERR, -ret, "epoll: %s",
			       strerror(-ret));
	ret = setup_stop_event(vm, err);
	if (!ret)
		ret = setup_signals(vm, err);
	if (!ret)
		ret = dirty_log_from_env(&dirty_log, err);
	if (!ret)
		ret = check_pin_cpus(cfg, err);
	/* Guest RAM and the guest in it first: bad input fails before KVM. */
	if (!ret)
		ret = guest_mem_map(&vm->mem, cfg->mem_size, cfg->hugepages, err);
	if (!ret && cfg->ksm && (ret = guest_mem_mergeable(&vm->mem)))
		ret = err_set(err, WISP_EXIT_UNAVAILABLE, -ret,
			      "--ksm: %s (a kernel without CONFIG_KSM?)",
			      strerror(-ret));
	/* A restored VM's RAM holds its guest, firmware tables and all. */
	if (!ret && restore && restore->migration_fd >= 0)
		ret = migrate_receive(restore, vm, err);
	else if (!ret && restore)
		ret = snapshot_load_memory(restore, &vm->mem, err);
	else if (!ret)
		ret = load_guest(vm, err);
	/* A migration's source holds the shared disks until told. */
	if (!ret && restore && restore->migration_fd >= 0 &&
	    cfg->n_disks && !backends->opened)
		ret = migrate_take_disks(restore, err);
	if (!ret)
		ret = open_backends(vm, err);
	if (!ret)
		ret = kvm_open(&vm->kvm, "/dev/kvm", err);
	if (!ret)
		ret = setup_memory_slots(vm, err);
	if (!ret) {
		ret = console_open(&vm->console, cfg, &vm->loop, err);
		vm->console_open = true;
	}
	if (!ret)
		ret = setup_devices(vm, err);
	if (!ret)
		ret = setup_disks(vm, err);
	if (!ret)
		ret = setup_nets(vm, err);
	if (!ret && restore && vm->n_nets)
		ret = setup_announce(vm, err);
	if (!ret)
		ret = setup_balloon(vm, err);
	if (!ret && !restore)
		ret = setup_firmware(vm, err);
	/* Before the vCPUs: their rings are made with them. */
	if (!ret)
		ret = enable_dirty_log(vm, dirty_log, err);
	if (!ret)
		ret = setup_vcpus(vm, err);
	if (!ret && restore)
		ret = snapshot_load_vm(restore, vm, err);
	/*
	 * A migrated VM waits, parked, for the source's GO (vm_run); one
	 * its user had paused stays so.
	 */
	if (!ret && restore &&
	    (restore->migration_fd >= 0 || snapshot_paused(restore)))
		vm->pause_requested = true;
	if (!ret)
		ret = setup_timeout(vm, err);
	return ret;
}

int vm_run(struct vm *vm)
{
	struct wisp_err err = { 0 };
	unsigned int i;
	int ret;

	console_start_input(&vm->console);
	for (i = 0; i < vm->n_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i], &err);
		if (ret) {
			vm_fail(vm, err.status, "%s", err.msg);
			break;
		}
	}
	/* Migrated here: every vCPU thread exists; run once the source says. */
	if (vm->restore && vm->restore->migration_fd >= 0) {
		if (vm_stopping(vm))
			migrate_answer(vm->restore, &err);
		else if (migrate_confirm(vm->restore, &err))
			vm_fail(vm, err.status, "%s", err.msg);
		else if (!snapshot_paused(vm->restore))
			vm_resume(vm);
	}
	/* A restored guest runs now, unless it was saved paused. */
	if (vm->restore && !vm_paused(vm))
		start_announcing(vm);
	ret = evloop_run(&vm->loop);
	if (ret)
		vm_fail(vm, WISP_EXIT_SOFTWARE, "event loop: %s", strerror(-ret));
	/* Orderly stop: every vCPU leaves KVM_RUN and its thread ends. */
	for (i = 0; i < vm->n_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->n_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	return __atomic_load_n(&vm->stop_status, __ATOMIC_ACQUIRE);
}

/* --verbose: what a network device moved and dropped. */
static void print_net_stats(struct vm *vm, unsigned int i)
{
	struct net_stats s;

	net_get_stats(vm->nets[i], &s);
	fprintf(stderr, "wisp: net%u (%s): tx %llu frames %llu bytes, rx %llu frames %llu bytes; dropped: tx short %llu oversize %llu header %llu buffer %llu tap-refused %llu, rx no-room %llu bad-buffer %llu\n",
		i, vm->backends->nets[i].tap.ifname,
		(unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
		(unsigned long long)s.rx_frames, (unsigned long long)s.rx_bytes,
		(unsigned long long)s.tx_short, (unsigned long long)s.tx_oversize,
		(unsigned long long)s.tx_bad_header,
		(unsigned long long)s.tx_bad_buffer,
		(unsigned long long)s.tx_errors, (unsigned long long)s.rx_no_fit,
		(unsigned long long)s.rx_bad_buffer);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;
	uint64_t dropped;

	migrate_abort(vm);	/* its thread reads guest RAM */
	if (vm->timer_src.fd >= 0)
		close(vm->timer_src.fd);
	if (vm->announce_src.fd >= 0)
		close(vm->announce_src.fd);
	for (i = vm->n_vcpus; i-- > 0;)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	for (i = vm->n_nets; i-- > 0;) {
		if (vm->cfg->verbose)
			print_net_stats(vm, i);
		net_destroy(vm->nets[i]);
	}
	balloon_destroy(vm->balloon);
	for (i = vm->n_disks; i-- > 0;)
		blk_destroy(vm->disks[i]);
	pvpanic_destroy(vm->pvpanic);
	acpi_pm_destroy(vm->acpi_pm);
	testdev_destroy(vm->testdev);
	serial_destroy(vm->serial);
	if (vm->pci_ready)
		pci_host_destroy(&vm->pci);
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	free(vm->bus_readers);
	irq_routes_destroy(&vm->irq);
	if (vm->console_open) {
		dropped = console_close(&vm->console, CONSOLE_CLOSE_TIMEOUT_MS);
		if (dropped && vm->cfg->verbose)
			fprintf(stderr, "wisp: %llu bytes of console output dropped (the reader was too slow)\n",
				(unsigned long long)dropped);
	}
	guest_mem_unmap(&vm->mem);
	kvm_close(&vm->kvm);
	if (vm->signal_src.fd >= 0)
		close(vm->signal_src.fd);
	if (vm->sigmask_saved)
		pthread_sigmask(SIG_SETMASK, &vm->saved_sigmask, NULL);
	if (vm->stop_src.fd >= 0)
		close(vm->stop_src.fd);
	evloop_destroy(&vm->loop);
	pthread_mutex_destroy(&vm->dirty_lock);
	pthread_mutex_destroy(&vm->err_lock);
}

// SPDX-License-Identifier: Apache-2.0
/* Snapshots: taking one and restoring one (contracts in snapshot.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libfdt.h>
#include <xxhash.h>

#include "../devices/serial.h"
#include "../devices/testdev.h"
#include "cpu_x86.h"
#include "kvm_state.h"
#include "snapshot.h"
#include "vm.h"

#define PAGE		4096ULL
#define IO_CHUNK	(8ULL << 20)	/* bytes per read or write call */

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int write_all(int fd, const uint8_t *buf, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len > IO_CHUNK ? IO_CHUNK : len,
				   off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

/*
 * The memory checksum: XXH3 over each page that is not all zeros, in
 * order, each preceded by its index (a 64-bit little-endian number).
 * Zero pages do not count, so neither does where a file system keeps
 * holes, and a restore hashes only the data it reads.
 */
static void hash_page(XXH3_state_t *h, uint64_t index, const uint8_t *page)
{
	XXH3_64bits_update(h, &index, sizeof(index));
	XXH3_64bits_update(h, page, PAGE);
}

uint64_t snapshot_memory_hash(const uint8_t *ram, uint64_t size)
{
	XXH3_state_t *h = XXH3_createState();
	uint64_t off, hash;

	if (!h)
		return 0;
	XXH3_64bits_reset(h);
	for (off = 0; off + PAGE <= size; off += PAGE)
		if (!guest_page_is_zero(ram + off))
			hash_page(h, off / PAGE, ram + off);
	hash = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	return hash;
}

/*
 * Guest RAM into @fd: pages of zeros are holes.  Its checksum (above)
 * goes to @hash.
 */
static int write_memory(const struct guest_mem *mem, int fd, uint64_t *hash,
			uint64_t *written)
{
	XXH3_state_t *h = XXH3_createState();
	uint64_t off, run = 0, run_len = 0;
	int ret = 0;

	if (!h)
		return -ENOMEM;
	XXH3_64bits_reset(h);
	*written = 0;
	for (off = 0; off < mem->size && !ret; off += PAGE) {
		if (!guest_page_is_zero(mem->base + off)) {
			hash_page(h, off / PAGE, mem->base + off);
			if (!run_len)
				run = off;
			run_len += PAGE;
			if (run_len < IO_CHUNK)
				continue;
		}
		if (run_len) {
			ret = write_all(fd, mem->base + run, run_len, run);
			*written += run_len;
			run_len = 0;
		}
	}
	if (!ret && run_len) {
		ret = write_all(fd, mem->base + run, run_len, run);
		*written += run_len;
	}
	if (!ret && ftruncate(fd, mem->size))
		ret = -errno;
	if (!ret && fdatasync(fd))
		ret = -errno;
	*hash = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	return ret;
}

static void save_config(struct state_writer *w, const struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	char cwd[PATH_MAX];
	size_t len = 0;
	char *argv;
	int i;

	for (i = 0; i < cfg->argc; i++)
		len += strlen(cfg->argv[i]) + 1;
	argv = malloc(len ? len : 1);
	if (!argv) {
		w->err = w->err ? w->err : -ENOMEM;
		return;
	}
	for (len = 0, i = 0; i < cfg->argc; i++) {
		strcpy(argv + len, cfg->argv[i]);
		len += strlen(cfg->argv[i]) + 1;
	}
	state_begin(w, "config");
	state_put_bytes(w, "argv", argv, len);
	if (getcwd(cwd, sizeof(cwd)))
		state_put_str(w, "cwd", cwd);
	state_put_u32(w, "cpus", cfg->cpus);
	state_put_u64(w, "mem-size", cfg->mem_size);
	state_put_u32(w, "disks", vm->n_disks);
	state_put_u32(w, "nets", vm->n_nets);
	state_put_u32(w, "balloon", !!vm->balloon);
	state_end(w);
	free(argv);
}

int snapshot_quiesce(struct vm *vm, struct wisp_err *err)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->n_disks; i++) {
		ret = blk_quiesce(vm->disks[i]);
		if (ret)
			return err_set(err, WISP_EXIT_OSERR, -ret,
				       "disk %u: cannot drain its requests: %s",
				       i, strerror(-ret));
	}
	for (i = 0; i < vm->n_nets; i++) {
		ret = net_quiesce(vm->nets[i]);
		if (ret)
			return err_set(err, WISP_EXIT_OSERR, -ret,
				       "network device %u: cannot drain it: %s",
				       i, strerror(-ret));
	}
	if (vm->balloon && (ret = balloon_quiesce(vm->balloon)))
		return err_set(err, WISP_EXIT_OSERR, -ret,
			       "balloon: cannot drain it: %s", strerror(-ret));
	/* What the guest was told is written is in the files. */
	for (i = 0; i < vm->backends->n_disks; i++) {
		int fd = vm->backends->disks[i].backing.fd;

		if (fd >= 0 && !vm->backends->disks[i].backing.readonly &&
		    fdatasync(fd))
			return err_set(err, WISP_EXIT_OSERR, errno,
				       "disk %u: fdatasync: %s", i,
				       strerror(errno));
	}
	return 0;
}

static void save_devices(struct state_writer *w, struct vm *vm)
{
	unsigned int i;
	char node[32];

	state_begin(w, "devices");
	state_begin(w, "serial");
	serial_save(vm->serial, w);
	state_end(w);
	state_begin(w, "testdev");
	testdev_save(vm->testdev, w);
	state_end(w);
	state_begin(w, "pci");
	pci_host_save(&vm->pci, w);
	state_end(w);
	for (i = 0; i < vm->n_disks; i++) {
		snprintf(node, sizeof(node), "virtio-blk@%u", i);
		state_begin(w, node);
		blk_save(vm->disks[i], w);
		state_end(w);
	}
	for (i = 0; i < vm->n_nets; i++) {
		snprintf(node, sizeof(node), "virtio-net@%u", i);
		state_begin(w, node);
		net_save(vm->nets[i], w);
		state_end(w);
	}
	if (vm->balloon) {
		state_begin(w, "virtio-balloon@0");
		balloon_save(vm->balloon, w);
		state_end(w);
	}
	state_end(w);
}

int snapshot_build_tree(struct state_writer *w, struct vm *vm,
			uint64_t memory_hash, bool paused,
			struct wisp_err *err)
{
	struct vm_kvm_state *vs = malloc(sizeof(*vs));
	struct cpu_state *cs = malloc(sizeof(*cs));
	unsigned int i;
	char node[32];
	int ret;

	if (!vs || !cs) {
		ret = err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		goto out;
	}
	ret = vm_kvm_state_get(vm->kvm.vm_fd, vs, err);
	if (ret)
		goto out;
	if (state_writer_init(w)) {
		ret = err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		goto out;
	}
	state_put_str(w, "format", SNAPSHOT_FORMAT);
	state_put_u32(w, "version", SNAPSHOT_VERSION);
	state_put_u64(w, "checksum", 0);	/* filled in at the end */
	state_put_u64(w, "created-realtime-ns", vs->realtime_ns);
	state_put_u32(w, "paused", paused);

	save_config(w, vm);

	state_begin(w, "memory");
	state_put_str(w, "file", SNAPSHOT_MEMORY_FILE);
	state_put_u64(w, "size", vm->mem.size);
	state_put_u64(w, "xxh3", memory_hash);
	state_end(w);

	state_begin(w, "irqchip");
	vm_kvm_state_save(w, vs);
	state_end(w);

	state_begin(w, "vcpus");
	for (i = 0; i < vm->n_vcpus; i++) {
		ret = cpu_state_get(vm->kvm.dev_fd, vm->vcpus[i].fd, i,
				    vm->vcpus[i].cpuid, cs, err);
		if (ret)
			goto out;
		snprintf(node, sizeof(node), "vcpu@%u", i);
		state_begin(w, node);
		cpu_state_save(w, cs);
		state_end(w);
	}
	state_end(w);

	save_devices(w, vm);

	ret = state_writer_finish(w);
	if (ret) {
		ret = err_set(err, WISP_EXIT_OSERR, -ret,
			      "building the state tree: %s", strerror(-ret));
		goto out;
	}
	snapshot_seal_tree(w->fdt);
out:
	free(vs);
	free(cs);
	return ret;
}

void snapshot_seal_tree(void *fdt)
{
	fdt_setprop_inplace_u64(fdt, 0, "checksum", 0);
	fdt_setprop_inplace_u64(fdt, 0, "checksum",
				XXH3_64bits(fdt, fdt_totalsize(fdt)));
}

static int open_tmp(int dir_fd, const char *name, const char *dir,
		    struct wisp_err *err)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC |
			O_CLOEXEC, 0600);

	if (fd < 0)
		err_set(err, WISP_EXIT_OSERR, errno, "%s/%s: %s", dir, name,
			strerror(errno));
	return fd;
}

int snapshot_save(struct vm *vm, const char *dir, bool paused,
		  struct snapshot_result *res, struct wisp_err *err)
{
	struct state_writer w = { 0 };
	uint64_t start = now_ns(CLOCK_MONOTONIC), hash;
	int dir_fd, mem_fd = -1, tree_fd = -1, ret;

	memset(res, 0, sizeof(*res));
	if (dir[0] != '/')
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "'%s' is not an absolute path", dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(err, WISP_EXIT_OSERR, errno, "%s: %s", dir,
			       strerror(errno));
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(err, WISP_EXIT_OSERR, errno, "%s: %s", dir,
			       strerror(errno));
	if (!faccessat(dir_fd, SNAPSHOT_TREE_FILE, F_OK, 0)) {
		ret = err_set(err, WISP_EXIT_USAGE, EEXIST,
			      "%s already holds a snapshot", dir);
		goto out;
	}

	ret = snapshot_quiesce(vm, err);
	if (ret)
		goto out;

	mem_fd = open_tmp(dir_fd, SNAPSHOT_MEMORY_FILE ".tmp", dir, err);
	if (mem_fd < 0) {
		ret = -EIO;
		goto out;
	}
	ret = write_memory(&vm->mem, mem_fd, &hash, &res->written_bytes);
	if (ret) {
		err_set(err, WISP_EXIT_OSERR, -ret, "%s/%s: %s", dir,
			SNAPSHOT_MEMORY_FILE, strerror(-ret));
		goto out;
	}
	ret = snapshot_build_tree(&w, vm, hash, paused, err);
	if (ret)
		goto out;
	tree_fd = open_tmp(dir_fd, SNAPSHOT_TREE_FILE ".tmp", dir, err);
	if (tree_fd < 0) {
		ret = -EIO;
		goto out;
	}
	ret = write_all(tree_fd, w.fdt, fdt_totalsize(w.fdt), 0);
	if (!ret && fdatasync(tree_fd))
		ret = -errno;
	/* The tree last: a directory holding state.dtb is complete. */
	if (!ret && renameat(dir_fd, SNAPSHOT_MEMORY_FILE ".tmp", dir_fd,
			     SNAPSHOT_MEMORY_FILE))
		ret = -errno;
	if (!ret && renameat(dir_fd, SNAPSHOT_TREE_FILE ".tmp", dir_fd,
			     SNAPSHOT_TREE_FILE))
		ret = -errno;
	if (!ret && fsync(dir_fd))
		ret = -errno;
	if (ret)
		err_set(err, WISP_EXIT_OSERR, -ret, "%s: %s", dir,
			strerror(-ret));
	res->memory_bytes = vm->mem.size;
	res->ms = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
out:
	if (ret) {
		unlinkat(dir_fd, SNAPSHOT_MEMORY_FILE ".tmp", 0);
		unlinkat(dir_fd, SNAPSHOT_TREE_FILE ".tmp", 0);
	}
	if (tree_fd >= 0)
		close(tree_fd);
	if (mem_fd >= 0)
		close(mem_fd);
	close(dir_fd);
	state_writer_free(&w);
	return ret;
}

/* ---- restoring --------------------------------------------------------- */

static int read_file(int dir_fd, const char *dir, const char *name,
		     void **buf, size_t *len, struct wisp_err *err)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? WISP_EXIT_NOINPUT :
			       WISP_EXIT_OSERR, errno, "%s/%s: %s", dir, name,
			       strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > 64 * 1024 * 1024) {
		close(fd);
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "%s/%s: not a state tree (a regular file of at most 64 MiB)",
			       dir, name);
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	if (!*buf) {
		close(fd);
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	}
	n = pread(fd, *buf, st.st_size, 0);
	close(fd);
	if (n != st.st_size)
		return err_set(err, WISP_EXIT_OSERR, n < 0 ? errno : EIO,
			       "%s/%s: read failed", dir, name);
	*len = st.st_size;
	return 0;
}

/* The tree's own checksum: XXH3 of the blob with the property zeroed. */
static int check_tree_checksum(struct snapshot *s, const char *what,
			       struct wisp_err *err)
{
	const fdt64_t *p;
	uint64_t want;
	void *copy;
	int len;

	p = fdt_getprop(s->tree, 0, "checksum", &len);
	if (!p || len != 8)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "%s: no checksum: not a wisp snapshot", what);
	want = fdt64_ld(p);
	copy = malloc(s->tree_len);
	if (!copy)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	memcpy(copy, s->tree, s->tree_len);
	fdt_setprop_inplace_u64(copy, 0, "checksum", 0);
	if (XXH3_64bits(copy, fdt_totalsize(copy)) != want) {
		free(copy);
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "%s is corrupted (checksum mismatch)", what);
	}
	free(copy);
	return 0;
}

int snapshot_check_tree(struct snapshot *s, const char *what,
			struct wisp_err *err)
{
	const char *format;
	uint32_t version;
	int mem;

	if (state_reader_init(&s->r, s->tree, s->tree_len))
		return err_set(err, WISP_EXIT_DATAERR, EINVAL, "%s: %s", what,
			       s->r.err);
	format = state_get_str(&s->r, STATE_ROOT, "format");
	version = state_get_u32(&s->r, STATE_ROOT, "version");
	if (s->r.failed || strcmp(format, SNAPSHOT_FORMAT))
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "%s: not a wisp snapshot", what);
	if (version != SNAPSHOT_VERSION)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "%s: snapshot format version %u; this wisp reads version %d",
			       what, version, SNAPSHOT_VERSION);
	if (check_tree_checksum(s, what, err))
		return -EINVAL;
	mem = state_node(&s->r, STATE_ROOT, "memory");
	s->memory_size = state_get_u64(&s->r, mem, "size");
	if (s->r.failed)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL, "%s: %s", what,
			       s->r.err);
	return 0;
}

int snapshot_open(struct snapshot *s, const char *dir, struct wisp_err *err)
{
	char what[PATH_MAX + 32];
	struct stat st;
	int dir_fd, ret;

	memset(s, 0, sizeof(*s));
	s->memory_fd = -1;
	s->migration_fd = -1;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(err, errno == ENOENT ? WISP_EXIT_NOINPUT :
			       WISP_EXIT_OSERR, errno, "%s: %s", dir,
			       strerror(errno));
	ret = read_file(dir_fd, dir, SNAPSHOT_TREE_FILE, &s->tree,
			&s->tree_len, err);
	if (ret)
		goto out;
	snprintf(what, sizeof(what), "%s/%s", dir, SNAPSHOT_TREE_FILE);
	ret = snapshot_check_tree(s, what, err);
	if (ret)
		goto out;
	s->memory_fd = openat(dir_fd, SNAPSHOT_MEMORY_FILE,
			      O_RDONLY | O_CLOEXEC);
	if (s->memory_fd < 0) {
		ret = err_set(err, errno == ENOENT ? WISP_EXIT_NOINPUT :
			      WISP_EXIT_OSERR, errno, "%s/%s: %s", dir,
			      SNAPSHOT_MEMORY_FILE, strerror(errno));
		goto out;
	}
	if (fstat(s->memory_fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != s->memory_size) {
		ret = err_set(err, WISP_EXIT_DATAERR, EINVAL,
			      "%s/%s: %lld bytes where the snapshot's RAM is %llu",
			      dir, SNAPSHOT_MEMORY_FILE,
			      (long long)st.st_size,
			      (unsigned long long)s->memory_size);
		goto out;
	}
out:
	close(dir_fd);
	return ret;
}

/* Options a restore may give: none changes the VM's hardware. */
static const char *const restore_options[] = {
	"--name", "--api", "--console", "--timeout", "--pin",
	"--metrics-listen", "--metrics-listen-any", "--exit-stats",
	"--verbose", "-v",
};

static bool restore_option(const char *arg)
{
	size_t i, n;

	for (i = 0; i < sizeof(restore_options) / sizeof(restore_options[0]);
	     i++) {
		n = strlen(restore_options[i]);
		if (!strncmp(arg, restore_options[i], n) &&
		    (arg[n] == '\0' || arg[n] == '='))
			return true;
	}
	return false;
}

/* Does option @arg take its value from the next argument? */
static bool takes_next(const char *arg)
{
	return !strchr(arg, '=') && strcmp(arg, "--metrics-listen-any") &&
	       strcmp(arg, "--exit-stats") && strcmp(arg, "--verbose") &&
	       strcmp(arg, "-v");
}

/* Is option @name (with or without "=VALUE") among @argv[2..]? */
static bool given(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 2; i < argc; i++)
		if (!strncmp(argv[i], name, n) &&
		    (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

int snapshot_config(struct snapshot *s, int argc, char **argv,
		    struct vm_config *cfg, struct wisp_err *err)
{
	struct vm_config over;
	const char *saved, *cwd;
	char cpus[16], **args;
	size_t len, off;
	int cfgnode, n_saved = 0, n, i, ret;

	cfgnode = state_node(&s->r, STATE_ROOT, "config");
	saved = state_get_blob(&s->r, cfgnode, "argv", &len);
	cwd = state_get_str(&s->r, cfgnode, "cwd");
	if (s->r.failed || !len || saved[len - 1])
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "snapshot: %s", s->r.failed ? s->r.err :
			       "config/argv is not a list of strings");
	for (off = 0; off < len; off += strlen(saved + off) + 1)
		n_saved++;
	for (i = 2; i < argc; i++) {
		if (!restore_option(argv[i]))
			return err_set(err, WISP_EXIT_USAGE, EINVAL,
				       "restore: '%s' cannot be given to a restore (the VM's hardware is the snapshot's)",
				       argv[i]);
		if (takes_next(argv[i]) && i + 1 < argc)
			i++;
	}
	s->argv = calloc(n_saved + 1, sizeof(*s->argv));
	s->cwd = strdup(cwd);
	if (!s->argv || !s->cwd)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	for (off = 0; off < len; off += strlen(saved + off) + 1)
		s->argv[s->argc++] = (char *)saved + off;
	ret = config_parse(s->argc, s->argv, cfg, err);
	if (ret) {
		err_prefix(err, "restore: the saved command line");
		return ret;
	}
	if (cfg->action != ACTION_RUN)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "snapshot: the saved command line runs no VM");
	if (cfg->mem_size != s->memory_size)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL,
			       "snapshot: its configuration has %llu bytes of RAM, its memory %llu",
			       (unsigned long long)cfg->mem_size,
			       (unsigned long long)s->memory_size);

	/*
	 * The restore's own options, parsed on their own (with the VM's
	 * vCPU count, which --pin is checked against), then laid over.
	 */
	args = calloc(argc + 5, sizeof(*args));
	if (!args)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	snprintf(cpus, sizeof(cpus), "%u", cfg->cpus);
	n = 0;
	args[n++] = "run";
	args[n++] = "--cpus";
	args[n++] = cpus;
	for (i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n++] = "--";
	args[n++] = "restored-vm";
	ret = config_parse(n, args, &over, err);
	free(args);
	if (ret) {
		err_prefix(err, "restore");
		return ret;
	}
	if (given(argc, argv, "--name"))
		memcpy(cfg->name, over.name, sizeof(cfg->name));
	if (given(argc, argv, "--api")) {
		cfg->api = over.api;
		cfg->no_api = over.no_api;
	}
	if (given(argc, argv, "--console")) {
		cfg->console = over.console;
		cfg->console_path = over.console_path;
	}
	if (given(argc, argv, "--timeout"))
		cfg->timeout_sec = over.timeout_sec;
	if (given(argc, argv, "--pin")) {
		cfg->n_pin = over.n_pin;
		memcpy(cfg->pin, over.pin, sizeof(cfg->pin));
	}
	if (given(argc, argv, "--metrics-listen"))
		cfg->metrics_listen = over.metrics_listen;
	cfg->metrics_listen_any |= over.metrics_listen_any;
	cfg->exit_stats |= over.exit_stats;
	cfg->verbose += over.verbose;
	return 0;
}

int snapshot_load_memory(struct snapshot *s, struct guest_mem *mem,
			 struct wisp_err *err)
{
	XXH3_state_t *h;
	uint64_t off = 0, want;
	int mem_node, ret = 0;

	mem_node = state_node(&s->r, STATE_ROOT, "memory");
	want = state_get_u64(&s->r, mem_node, "xxh3");
	if (s->r.failed)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL, "snapshot: %s",
			       s->r.err);
	if (mem->size != s->memory_size)
		return err_set(err, WISP_EXIT_SOFTWARE, EINVAL,
			       "snapshot: RAM of the wrong size");
	h = XXH3_createState();
	if (!h)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
	XXH3_64bits_reset(h);
	/* Only the file's data: its holes are zeros, as fresh RAM is. */
	while (off < mem->size) {
		off_t data = lseek(s->memory_fd, off, SEEK_DATA), hole;
		uint64_t end;

		if (data < 0 && errno == ENXIO)
			break;		/* only a hole is left */
		if (data < 0) {
			ret = err_set(err, WISP_EXIT_OSERR, errno,
				      "snapshot memory: %s", strerror(errno));
			goto out;
		}
		/* Whole pages: a data extent never starts inside one. */
		data &= ~(off_t)(PAGE - 1);
		if ((uint64_t)data < off)
			data = off;	/* that page was read already */
		hole = lseek(s->memory_fd, data, SEEK_HOLE);
		end = hole < 0 || (uint64_t)hole > mem->size ? mem->size :
		      ((uint64_t)hole + PAGE - 1) & ~(PAGE - 1);
		if (end > mem->size)
			end = mem->size;
		for (off = data; off < end;) {
			uint64_t n = end - off > IO_CHUNK ? IO_CHUNK : end - off;
			ssize_t got = pread(s->memory_fd, mem->base + off, n,
					    off);
			uint64_t p;

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0 || got % PAGE) {
				ret = err_set(err, WISP_EXIT_DATAERR, EIO,
					      "snapshot memory: short read at %llu",
					      (unsigned long long)off);
				goto out;
			}
			for (p = off; p < off + got; p += PAGE)
				if (!guest_page_is_zero(mem->base + p))
					hash_page(h, p / PAGE, mem->base + p);
			off += got;
		}
	}
	if (XXH3_64bits_digest(h) != want)
		ret = err_set(err, WISP_EXIT_DATAERR, EINVAL,
			      "snapshot memory is corrupted (checksum mismatch)");
out:
	XXH3_freeState(h);
	return ret;
}

static int load_devices(struct snapshot *s, struct vm *vm)
{
	struct state_reader *r = &s->r;
	int devs = state_node(r, STATE_ROOT, "devices");
	unsigned int i;
	char node[32];

	serial_load(vm->serial, r, state_node(r, devs, "serial"));
	testdev_load(vm->testdev, r, state_node(r, devs, "testdev"));
	/* Configuration space first: BARs mapped, MSI-X enabled. */
	pci_host_load(&vm->pci, r, state_node(r, devs, "pci"));
	for (i = 0; i < vm->n_disks && !r->failed; i++) {
		snprintf(node, sizeof(node), "virtio-blk@%u", i);
		blk_load(vm->disks[i], r, state_node(r, devs, node));
	}
	for (i = 0; i < vm->n_nets && !r->failed; i++) {
		snprintf(node, sizeof(node), "virtio-net@%u", i);
		net_load(vm->nets[i], r, state_node(r, devs, node));
	}
	if (vm->balloon && !r->failed)
		balloon_load(vm->balloon, r,
			     state_node(r, devs, "virtio-balloon@0"));
	return r->failed ? -EINVAL : 0;
}

int snapshot_check_shape(struct snapshot *s, unsigned int cpus,
			 unsigned int disks, unsigned int nets, bool balloon,
			 struct wisp_err *err)
{
	struct state_reader *r = &s->r;
	int node = state_node(r, STATE_ROOT, "config");
	uint32_t saved_cpus = state_get_u32(r, node, "cpus");
	uint32_t saved_disks = state_get_u32(r, node, "disks");
	uint32_t saved_nets = state_get_u32(r, node, "nets");
	uint32_t saved_balloon = state_get_u32(r, node, "balloon");

	if (r->failed)
		return err_set(err, WISP_EXIT_DATAERR, EINVAL, "snapshot: %s",
			       r->err);
	if (saved_cpus != cpus)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "the VM has %u vCPU%s, this one %u (--cpus)",
			       saved_cpus, saved_cpus == 1 ? "" : "s", cpus);
	if (saved_disks != disks)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "the VM has %u disk%s, this one %u (--disk)",
			       saved_disks, saved_disks == 1 ? "" : "s", disks);
	if (saved_nets != nets)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "the VM has %u network device%s, this one %u (--net)",
			       saved_nets, saved_nets == 1 ? "" : "s", nets);
	if (!saved_balloon != !balloon)
		return err_set(err, WISP_EXIT_USAGE, EINVAL,
			       "the VM has %s balloon, this one %s (--balloon)",
			       saved_balloon ? "a" : "no",
			       balloon ? "has one" : "none");
	return 0;
}

int snapshot_load_vm(struct snapshot *s, struct vm *vm,
		     struct wisp_err *err)
{
	struct state_reader *r = &s->r;
	struct vm_kvm_state *vs = malloc(sizeof(*vs));
	struct cpu_state *cs = malloc(sizeof(*cs));
	struct kvm_cpuid2 *host = NULL, *c;
	int vcpus, ret = 0;
	unsigned int i;
	char node[32];

	if (!vs || !cs) {
		ret = err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		goto out;
	}
	ret = snapshot_check_shape(s, vm->n_vcpus, vm->n_disks, vm->n_nets,
				   vm->balloon, err);
	if (ret)
		goto out;
	vm_kvm_state_load(r, state_node(r, STATE_ROOT, "irqchip"), vs);
	if (r->failed)
		goto bad;
	ret = vm_kvm_state_put(vm->kvm.vm_fd, vs, err);
	if (ret)
		goto out;

	host = malloc(sizeof(*host) + vm->kvm.cpuid->nent *
		      sizeof(host->entries[0]));
	if (!host) {
		ret = err_set(err, WISP_EXIT_OSERR, ENOMEM, "out of memory");
		goto out;
	}
	vcpus = state_node(r, STATE_ROOT, "vcpus");
	for (i = 0; i < vm->n_vcpus; i++) {
		snprintf(node, sizeof(node), "vcpu@%u", i);
		cpu_state_load(r, state_node(r, vcpus, node), cs);
		if (r->failed)
			goto bad;
		cpu_build_cpuid(vm->kvm.cpuid, i, vm->n_vcpus, host);
		ret = cpu_state_check_cpuid(cs, host, i, err);
		if (!ret)
			ret = cpu_state_put(vm->vcpus[i].fd, i, cs, err);
		if (ret)
			goto out;
		/* The guest keeps the CPUID it saw: a later snapshot too. */
		c = realloc(vm->vcpus[i].cpuid, sizeof(*c) +
			    cs->n_cpuid * sizeof(c->entries[0]));
		if (!c) {
			ret = err_set(err, WISP_EXIT_OSERR, ENOMEM,
				      "out of memory");
			goto out;
		}
		c->nent = cs->n_cpuid;
		memcpy(c->entries, cs->cpuid, cs->n_cpuid * sizeof(cs->cpuid[0]));
		vm->vcpus[i].cpuid = c;
	}
	/* Devices last: a load may deliver a pending MSI to a LAPIC. */
	if (load_devices(s, vm))
		goto bad;
	goto out;
bad:
	ret = err_set(err, WISP_EXIT_DATAERR, EINVAL, "snapshot: %s", r->err);
out:
	free(host);
	free(vs);
	free(cs);
	return ret;
}

bool snapshot_paused(struct snapshot *s)
{
	const fdt32_t *p;
	int len;

	p = fdt_getprop(s->tree, 0, "paused", &len);
	return p && len == 4 && fdt32_ld(p);
}

int snapshot_net_mac(struct snapshot *s, unsigned int index, uint8_t mac[6])
{
	const void *p;
	char path[64];
	int node, len;

	snprintf(path, sizeof(path), "/devices/virtio-net@%u", index);
	node = fdt_path_offset(s->tree, path);
	p = node < 0 ? NULL : fdt_getprop(s->tree, node, "mac", &len);
	if (!p || len != 6)
		return -ENOENT;
	memcpy(mac, p, 6);
	return 0;
}

void snapshot_close(struct snapshot *s)
{
	if (s->memory_fd >= 0)
		close(s->memory_fd);
	if (s->migration_fd >= 0)
		close(s->migration_fd);
	free(s->argv);
	free(s->cwd);
	free(s->tree);
	memset(s, 0, sizeof(*s));
	s->memory_fd = -1;
	s->migration_fd = -1;
}

void snapshot_print_restore_help(void *out)
{
	fputs("usage: wisp restore DIR [OPTIONS]\n\n"
	      "Restore the VM saved in DIR (by \"wisp snapshot NAME DIR\") and run it.\n"
	      "Its command line is the saved VM's; these options may change:\n"
	      "  --name NAME, --api PATH|none, --console KIND, --timeout SECONDS,\n"
	      "  --pin CPULIST, --metrics-listen ADDR:PORT, --metrics-listen-any,\n"
	      "  --exit-stats, -v/--verbose\n", out);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Restoring snapshots: snapshot_open's checks (missing files, truncated,
 * corrupted, foreign and wrong-version trees, a memory file of the wrong
 * size), snapshot_config's saved command line and allowed overrides, and
 * snapshot_load_memory from a sparse file.  The snapshot directories are
 * built here by hand with the state writer, as snapshot_save lays them
 * out, in a mkdtemp directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libfdt.h>
#include <xxhash.h>

#include "../devices/state.h"
#include "config.h"
#include "memory.h"
#include "snapshot.h"

#define MiB		(1ULL << 20)
#define SAVED_ARGV	"run\0--mem\0" "64M\0kernel.elf"	/* + its NUL */
#define SAVED_MEM	(64 * MiB)
#define SAVED_CWD	"/srv/vms/one"

struct tree_opts {
	const char *format;		/* NULL: SNAPSHOT_FORMAT */
	uint32_t version;		/* 0: SNAPSHOT_VERSION */
	bool no_checksum;		/* leave the property out */
	bool stale_checksum;		/* leave it 0, not the blob's */
	const char *argv;		/* NULL: SAVED_ARGV */
	size_t argv_len;
	uint64_t mem_size;		/* memory/size; 0: SAVED_MEM */
	uint64_t xxh3;			/* memory/xxh3 */
	bool no_config;
	bool no_memory;
};

/* A state tree as snapshot_save writes one (malloc'd, exact size). */
static void *build_tree(const struct tree_opts *o, size_t *len)
{
	struct state_writer w;
	uint8_t regs[64];
	void *blob;

	memset(regs, 0x3c, sizeof(regs));
	assert_int_equal(state_writer_init(&w), 0);
	state_put_str(&w, "format", o->format ? o->format : SNAPSHOT_FORMAT);
	state_put_u32(&w, "version",
		      o->version ? o->version : SNAPSHOT_VERSION);
	if (!o->no_checksum)
		state_put_u64(&w, "checksum", 0);
	state_put_u64(&w, "created-realtime-ns", 1700000000000000000ULL);
	if (!o->no_config) {
		state_begin(&w, "config");
		if (o->argv)
			state_put_bytes(&w, "argv", o->argv, o->argv_len);
		else
			state_put_bytes(&w, "argv", SAVED_ARGV,
					sizeof(SAVED_ARGV));
		state_put_str(&w, "cwd", SAVED_CWD);
		state_put_u32(&w, "cpus", 1);
		state_put_u64(&w, "mem-size", SAVED_MEM);
		state_put_u32(&w, "disks", 0);
		state_put_u32(&w, "nets", 0);
		state_put_u32(&w, "balloon", 0);
		state_end(&w);
	}
	if (!o->no_memory) {
		state_begin(&w, "memory");
		state_put_str(&w, "file", SNAPSHOT_MEMORY_FILE);
		state_put_u64(&w, "size", o->mem_size ? o->mem_size : SAVED_MEM);
		state_put_u64(&w, "xxh3", o->xxh3);
		state_end(&w);
	}
	state_begin(&w, "devices");
	state_begin(&w, "serial");
	state_put_bytes(&w, "regs", regs, sizeof(regs));
	state_end(&w);
	state_end(&w);
	assert_int_equal(state_writer_finish(&w), 0);
	*len = fdt_totalsize(w.fdt);
	blob = malloc(*len);
	assert_non_null(blob);
	memcpy(blob, w.fdt, *len);
	state_writer_free(&w);
	/* The tree's own checksum, as build_tree in snapshot.c makes it. */
	if (!o->no_checksum && !o->stale_checksum) {
		assert_int_equal(fdt_setprop_inplace_u64(blob, 0, "checksum", 0),
				 0);
		assert_int_equal(fdt_setprop_inplace_u64(blob, 0, "checksum",
					XXH3_64bits(blob, fdt_totalsize(blob))),
				 0);
	}
	return blob;
}

struct fixture {
	char dir[64];
	char path[128];
};

static const char *path_of(struct fixture *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static void write_file(struct fixture *f, const char *name, const void *data,
		       size_t len)
{
	int fd = open(path_of(f, name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A sparse memory file of @size bytes, zero but for @data at @offs. */
struct chunk {
	uint64_t off;
	const char *data;
};

static void write_memory(struct fixture *f, uint64_t size,
			 const struct chunk *c, unsigned int n)
{
	int fd = open(path_of(f, SNAPSHOT_MEMORY_FILE),
		      O_WRONLY | O_CREAT | O_TRUNC, 0600);
	unsigned int i;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	for (i = 0; i < n; i++) {
		size_t len = strlen(c[i].data);

		assert_int_equal(pwrite(fd, c[i].data, len, c[i].off),
				 (ssize_t)len);
	}
	close(fd);
}

/* The RAM that memory file holds, and its XXH3. */
static uint8_t *expected_ram(uint64_t size, const struct chunk *c,
			     unsigned int n, uint64_t *hash)
{
	uint8_t *ram = calloc(1, size);
	unsigned int i;

	assert_non_null(ram);
	for (i = 0; i < n; i++)
		memcpy(ram + c[i].off, c[i].data, strlen(c[i].data));
	*hash = snapshot_memory_hash(ram, size);
	return ram;
}

/* A valid snapshot: state.dtb from @o and an empty memory file. */
static void write_snapshot(struct fixture *f, const struct tree_opts *o)
{
	size_t len;
	void *tree = build_tree(o, &len);

	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	write_memory(f, o->mem_size ? o->mem_size : SAVED_MEM, NULL, 0);
	free(tree);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wisp-snapshot-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(path_of(f, SNAPSHOT_TREE_FILE));
	unlink(path_of(f, SNAPSHOT_MEMORY_FILE));
	rmdir(path_of(f, SNAPSHOT_TREE_FILE));	/* where a test made dirs */
	rmdir(path_of(f, SNAPSHOT_MEMORY_FILE));
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/*
 * snapshot_open must fail with @status (-1: any) and a one-line message
 * holding @part (NULL: any).
 */
static void expect_open_fails(struct fixture *f, const char *dir, int status,
			      const char *part)
{
	struct snapshot s;
	struct wisp_err err = { 0 };

	(void)f;
	if (!snapshot_open(&s, dir, &err))
		fail_msg("%s was accepted (expected \"%s\")", dir, part);
	snapshot_close(&s);
	if (status >= 0 ? err.status != status : !err.status)
		fail_msg("status %d (\"%s\"), expected %d", err.status,
			 err.msg, status);
	assert_true(err.msg[0] != '\0');
	assert_null(strchr(err.msg, '\n'));
	if (part && !strstr(err.msg, part))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, part);
}

/* ---- snapshot_open --------------------------------------------------- */

static void test_open_valid(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	struct wisp_err err = { 0 };
	struct snapshot s;

	write_snapshot(f, &o);
	if (snapshot_open(&s, f->dir, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(err.status, 0);
	assert_true(s.memory_size == SAVED_MEM);
	assert_true(s.memory_fd >= 0);
	assert_false(s.r.failed);
	snapshot_close(&s);
	assert_int_equal(s.memory_fd, -1);
	/* Closing twice is harmless. */
	snapshot_close(&s);
}

static void test_open_missing(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/nonexistent", f->dir);
	expect_open_fails(f, dir, WISP_EXIT_NOINPUT, "nonexistent");
	/* An empty directory: no state.dtb. */
	expect_open_fails(f, f->dir, WISP_EXIT_NOINPUT, SNAPSHOT_TREE_FILE);
	/* A tree without its memory. */
	write_snapshot(f, &o);
	unlink(path_of(f, SNAPSHOT_MEMORY_FILE));
	expect_open_fails(f, f->dir, WISP_EXIT_NOINPUT, SNAPSHOT_MEMORY_FILE);
}

static void test_open_not_files(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };

	/* state.dtb a directory */
	assert_int_equal(mkdir(path_of(f, SNAPSHOT_TREE_FILE), 0700), 0);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, SNAPSHOT_TREE_FILE);
	assert_int_equal(rmdir(path_of(f, SNAPSHOT_TREE_FILE)), 0);
	/* memory a directory */
	write_snapshot(f, &o);
	unlink(path_of(f, SNAPSHOT_MEMORY_FILE));
	assert_int_equal(mkdir(path_of(f, SNAPSHOT_MEMORY_FILE), 0700), 0);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, SNAPSHOT_MEMORY_FILE);
	assert_int_equal(rmdir(path_of(f, SNAPSHOT_MEMORY_FILE)), 0);
	/* The directory a file (ENOTDIR: 71, an OS error). */
	write_file(f, SNAPSHOT_TREE_FILE, "x", 1);
	expect_open_fails(f, path_of(f, SNAPSHOT_TREE_FILE), -1,
			  SNAPSHOT_TREE_FILE);
}

/* Every prefix of state.dtb is rejected as bad data. */
static void test_open_truncated(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	size_t len, n;
	void *tree = build_tree(&o, &len);

	write_memory(f, SAVED_MEM, NULL, 0);
	for (n = 0; n < len; n++) {
		write_file(f, SNAPSHOT_TREE_FILE, tree, n);
		expect_open_fails(f, f->dir, WISP_EXIT_DATAERR,
				  SNAPSHOT_TREE_FILE);
	}
	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	{
		struct snapshot s;
		struct wisp_err err = { 0 };

		assert_int_equal(snapshot_open(&s, f->dir, &err), 0);
		snapshot_close(&s);
	}
	free(tree);
}

/*
 * A byte changed anywhere in state.dtb (each offset, two ways) is
 * rejected: the checksum covers the whole blob.
 */
static void test_open_flipped(void **state)
{
	static const uint8_t flips[] = { 0xff, 0x01 };
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	size_t len, i, k, accepted = 0;
	uint8_t *tree = build_tree(&o, &len);

	write_memory(f, SAVED_MEM, NULL, 0);
	for (k = 0; k < sizeof(flips); k++) {
		for (i = 0; i < len; i++) {
			struct snapshot s;
			struct wisp_err err = { 0 };

			tree[i] ^= flips[k];
			write_file(f, SNAPSHOT_TREE_FILE, tree, len);
			tree[i] ^= flips[k];
			if (!snapshot_open(&s, f->dir, &err)) {
				print_message("byte %zu ^ 0x%02x accepted\n",
					      i, flips[k]);
				accepted++;
			} else if (err.status != WISP_EXIT_DATAERR ||
				   strchr(err.msg, '\n')) {
				fail_msg("byte %zu ^ 0x%02x: status %d, \"%s\"",
					 i, flips[k], err.status, err.msg);
			}
			snapshot_close(&s);
		}
	}
	assert_int_equal(accepted, 0);
	free(tree);
}

static void test_open_wrong_content(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o;

	o = (struct tree_opts){ .version = 2 };
	write_snapshot(f, &o);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "version 2");

	o = (struct tree_opts){ .format = "other" };
	write_snapshot(f, &o);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "not a wisp snapshot");

	o = (struct tree_opts){ .no_checksum = true };
	write_snapshot(f, &o);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "checksum");

	o = (struct tree_opts){ .stale_checksum = true };
	write_snapshot(f, &o);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "checksum mismatch");

	o = (struct tree_opts){ .no_memory = true };
	write_snapshot(f, &o);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "/memory: missing");

	/* A device tree, but not a state tree: no format at all. */
	{
		struct state_writer w;

		assert_int_equal(state_writer_init(&w), 0);
		state_put_str(&w, "compatible", "acme,board");
		assert_int_equal(state_writer_finish(&w), 0);
		write_file(f, SNAPSHOT_TREE_FILE, w.fdt, fdt_totalsize(w.fdt));
		state_writer_free(&w);
		expect_open_fails(f, f->dir, WISP_EXIT_DATAERR,
				  "not a wisp snapshot");
	}
	/* Not a tree at all. */
	write_file(f, SNAPSHOT_TREE_FILE, "hello, world\n", 13);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "not a valid state tree");
}

static void test_open_memory_size(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };

	write_snapshot(f, &o);
	write_memory(f, SAVED_MEM - 4096, NULL, 0);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "67104768 bytes");
	write_memory(f, SAVED_MEM + 1, NULL, 0);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, "67108864");
	write_memory(f, 0, NULL, 0);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, SNAPSHOT_MEMORY_FILE);
}

/*
 * Bytes after the tree's end (its header's totalsize) are outside the
 * checksum: the reader takes only a blob that is exactly one tree.
 */
static void test_open_trailing_bytes(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	size_t len;
	uint8_t *tree = build_tree(&o, &len), *longer = malloc(len + 16);

	assert_non_null(longer);
	memcpy(longer, tree, len);
	memset(longer + len, 0xee, 16);
	write_memory(f, SAVED_MEM, NULL, 0);
	write_file(f, SNAPSHOT_TREE_FILE, longer, len + 16);
	expect_open_fails(f, f->dir, WISP_EXIT_DATAERR, SNAPSHOT_TREE_FILE);
	free(longer);
	free(tree);
}

/* ---- snapshot_config --------------------------------------------------- */

/* Open @f's snapshot; the caller closes it. */
static void open_ok(struct fixture *f, struct snapshot *s)
{
	struct wisp_err err = { 0 };

	if (snapshot_open(s, f->dir, &err))
		fail_msg("snapshot_open: %s", err.msg);
}

/*
 * snapshot_config of a snapshot made from @o; on success cfg->kernel
 * (which points into the tree, freed with the snapshot) must be @kernel.
 */
static int config_with(struct fixture *f, const struct tree_opts *o,
		       char **argv, int argc, struct vm_config *cfg,
		       struct wisp_err *err, const char *kernel)
{
	struct snapshot s;
	int ret;

	write_snapshot(f, o);
	open_ok(f, &s);
	ret = snapshot_config(&s, argc, argv, cfg, err);
	if (!ret) {
		assert_string_equal(s.cwd, SAVED_CWD);
		assert_true(cfg->argv == s.argv);
		assert_int_equal(cfg->argc, s.argc);
		assert_string_equal(cfg->kernel, kernel);
	}
	cfg->kernel = NULL;
	snapshot_close(&s);
	return ret;
}

static void test_config_overrides(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	struct vm_config cfg;
	struct wisp_err err = { 0 };
	char *argv[] = { "restore", f->dir, "--name", "x", "--timeout", "5",
			 "--console=none", "-v", "--exit-stats", NULL };
	struct snapshot s;

	(void)state;
	write_snapshot(f, &o);
	open_ok(f, &s);
	if (snapshot_config(&s, 9, argv, &cfg, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.action, ACTION_RUN);
	assert_string_equal(cfg.name, "x");
	assert_int_equal(cfg.timeout_sec, 5);
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_int_equal(cfg.verbose, 1);
	assert_true(cfg.exit_stats);
	assert_true(cfg.mem_size == SAVED_MEM);
	assert_string_equal(cfg.kernel, "kernel.elf");
	assert_string_equal(s.cwd, SAVED_CWD);
	/* The saved command line as it was; the overrides laid over it. */
	assert_int_equal(s.argc, 4);
	assert_string_equal(s.argv[0], "run");
	assert_string_equal(s.argv[3], "kernel.elf");
	assert_null(s.argv[s.argc]);
	snapshot_close(&s);

	/* No overrides at all. */
	write_snapshot(f, &o);
	open_ok(f, &s);
	assert_int_equal(snapshot_config(&s, 2, argv, &cfg, &err), 0);
	assert_int_equal(s.argc, 4);
	assert_int_equal(cfg.timeout_sec, 0);
	snapshot_close(&s);
}

/* A restore's --name wins over the saved one. */
static void test_config_override_saved_name(void **state)
{
	static const char saved[] = "run\0--name\0old\0--mem\0" "64M\0k.elf";
	struct fixture *f = *state;
	struct tree_opts o = { .argv = saved, .argv_len = sizeof(saved) };
	struct vm_config cfg;
	struct wisp_err err = { 0 };
	char *argv[] = { "restore", f->dir, "--name=new", NULL };

	if (config_with(f, &o, argv, 3, &cfg, &err, "k.elf"))
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.name, "new");
}

static void test_config_forbidden(void **state)
{
	static const struct {
		const char *args[4];
		const char *part;
	} cases[] = {
		{ { "--mem", "1G" }, "'--mem'" },
		{ { "--disk", "path=d.img" }, "'--disk'" },
		{ { "--net", "tap=tap0" }, "'--net'" },
		{ { "--cpus", "2" }, "'--cpus'" },
		{ { "--name", "x", "--balloon" }, "'--balloon'" },
		{ { "--mem=1G" }, "'--mem=1G'" },
		{ { "--help" }, "'--help'" },
		{ { "other.elf" }, "'other.elf'" },
		{ { "--kernel", "other.elf" }, "'--kernel'" },
		{ { "--names", "x" }, "'--names'" },
		{ { "--" }, "'--'" },
	};
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = { "restore", f->dir };
		struct vm_config cfg;
		struct wisp_err err = { 0 };
		int argc = 2, j;

		for (j = 0; j < 4 && cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		assert_int_equal(config_with(f, &o, argv, argc, &cfg, &err, NULL),
				 -EINVAL);
		if (err.status != WISP_EXIT_USAGE ||
		    !strstr(err.msg, cases[i].part) || strchr(err.msg, '\n'))
			fail_msg("case %u: status %d, \"%s\"", i, err.status,
				 err.msg);
	}
}

/* An allowed option with a bad value is the parser's usage error. */
static void test_config_bad_value(void **state)
{
	struct fixture *f = *state;
	struct tree_opts o = { 0 };
	struct vm_config cfg;
	struct wisp_err err = { 0 };
	char *argv[] = { "restore", f->dir, "--timeout", "soon", NULL };
	char *argv2[] = { "restore", f->dir, "--timeout", NULL };

	assert_int_equal(config_with(f, &o, argv, 4, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "restore: "));
	assert_non_null(strstr(err.msg, "--timeout"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(config_with(f, &o, argv2, 3, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "--timeout"));
}

/* What the tree says is checked against the memory it comes with. */
static void test_config_bad_tree(void **state)
{
	static const char unterminated[] = { 'r', 'u', 'n' };
	static const char mem32[] = "run\0--mem\0" "32M\0kernel.elf";
	struct fixture *f = *state;
	struct tree_opts o;
	struct vm_config cfg;
	struct wisp_err err;
	char *argv[] = { "restore", f->dir, NULL };

	o = (struct tree_opts){ .argv = unterminated, .argv_len = 3 };
	memset(&err, 0, sizeof(err));
	assert_int_equal(config_with(f, &o, argv, 2, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "argv"));

	o = (struct tree_opts){ .argv = "", .argv_len = 0 };
	memset(&err, 0, sizeof(err));
	assert_int_equal(config_with(f, &o, argv, 2, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);

	o = (struct tree_opts){ .no_config = true };
	memset(&err, 0, sizeof(err));
	assert_int_equal(config_with(f, &o, argv, 2, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "/config: missing"));

	/* 32 MiB on the command line, 64 MiB of memory. */
	o = (struct tree_opts){ .argv = mem32, .argv_len = sizeof(mem32) };
	memset(&err, 0, sizeof(err));
	assert_int_equal(config_with(f, &o, argv, 2, &cfg, &err, NULL), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "RAM"));

	/* A saved command line that no longer parses. */
	{
		static const char bad[] = "run\0--frobnicate\0kernel.elf";

		o = (struct tree_opts){ .argv = bad, .argv_len = sizeof(bad) };
		memset(&err, 0, sizeof(err));
		assert_int_equal(config_with(f, &o, argv, 2, &cfg, &err, NULL),
				 -EINVAL);
		assert_int_equal(err.status, WISP_EXIT_USAGE);
		assert_non_null(strstr(err.msg, "restore: "));
	}
}

/*
 * A VM started as "wisp run ... -- KERNEL" (the documented way to name
 * a kernel that starts with '-'): the overrides must not land after
 * "--", where they would be taken for arguments after the kernel.
 */
static void test_config_saved_double_dash(void **state)
{
	static const char saved[] = "run\0--mem\0" "64M\0--\0kernel.elf";
	struct fixture *f = *state;
	struct tree_opts o = { .argv = saved, .argv_len = sizeof(saved) };
	struct vm_config cfg;
	struct wisp_err err = { 0 };
	char *argv[] = { "restore", f->dir, "--name", "x", NULL };

	if (config_with(f, &o, argv, 4, &cfg, &err, "kernel.elf"))
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.name, "x");
}

/* ---- snapshot_load_memory ----------------------------------------------- */

/* The checksum as docs/snapshot.md defines it, computed here by hand. */
static void test_memory_hash_definition(void **state)
{
	uint8_t *ram = calloc(4, 4096), page[4096];
	XXH3_state_t *h = XXH3_createState();
	uint64_t index;

	(void)state;
	assert_non_null(ram);
	assert_non_null(h);
	memset(ram + 1 * 4096 + 100, 0xab, 10);
	memset(ram + 3 * 4096 + 4095, 0x01, 1);
	XXH3_64bits_reset(h);
	for (index = 0; index < 4; index++) {
		memcpy(page, ram + index * 4096, 4096);
		if (index == 0 || index == 2)
			continue;	/* all zeros: not counted */
		XXH3_64bits_update(h, &index, sizeof(index));
		XXH3_64bits_update(h, page, sizeof(page));
	}
	assert_true(snapshot_memory_hash(ram, 4 * 4096) ==
		    XXH3_64bits_digest(h));
	/* Zero pages do not count: trailing zeros change nothing. */
	ram = realloc(ram, 6 * 4096);
	assert_non_null(ram);
	memset(ram + 4 * 4096, 0, 2 * 4096);
	assert_true(snapshot_memory_hash(ram, 6 * 4096) ==
		    XXH3_64bits_digest(h));
	/* A byte moved to another page does. */
	ram[1 * 4096 + 100] = 0;
	ram[2 * 4096 + 100] = 0xab;
	assert_true(snapshot_memory_hash(ram, 6 * 4096) !=
		    XXH3_64bits_digest(h));
	XXH3_freeState(h);
	free(ram);
}

static void test_load_memory(void **state)
{
	/* Runs across a page and across the 8 MiB I/O chunk. */
	static const struct chunk chunks[] = {
		{ 0, "first bytes of RAM" },
		{ 3 * 4096 + 17, "a page in" },
		{ 8 * MiB - 5, "across the 8 MiB chunk" },
		{ 1 * MiB + 4090, "straddles a page" },
		{ 24 * MiB - 4, "end!" },
	};
	struct fixture *f = *state;
	const uint64_t size = 24 * MiB;
	struct tree_opts o = { .mem_size = size };
	struct guest_mem mem;
	struct wisp_err err = { 0 };
	struct snapshot s;
	uint8_t *want, *ram = calloc(1, size);
	size_t len;
	void *tree;
	unsigned int n = sizeof(chunks) / sizeof(chunks[0]);

	assert_non_null(ram);
	want = expected_ram(size, chunks, n, &o.xxh3);
	tree = build_tree(&o, &len);
	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	write_memory(f, size, chunks, n);
	open_ok(f, &s);
	guest_mem_layout(&mem, ram, size);
	if (snapshot_load_memory(&s, &mem, &err))
		fail_msg("%s", err.msg);
	assert_memory_equal(ram, want, size);
	snapshot_close(&s);

	/* One data byte changed: the checksum finds it. */
	{
		int fd = open(path_of(f, SNAPSHOT_MEMORY_FILE), O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "A", 1, 3 * 4096 + 18), 1);
		close(fd);
	}
	memset(ram, 0, size);
	memset(&err, 0, sizeof(err));
	open_ok(f, &s);
	assert_int_equal(snapshot_load_memory(&s, &mem, &err), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "checksum mismatch"));
	assert_null(strchr(err.msg, '\n'));
	snapshot_close(&s);

	/* RAM of another size than the snapshot's: wisp's own bug. */
	memset(&err, 0, sizeof(err));
	open_ok(f, &s);
	guest_mem_layout(&mem, ram, size - 4096);
	assert_int_not_equal(snapshot_load_memory(&s, &mem, &err), 0);
	assert_int_equal(err.status, WISP_EXIT_SOFTWARE);
	snapshot_close(&s);

	free(tree);
	free(want);
	free(ram);
}

/* All holes: RAM stays zero, and zero RAM's checksum matches. */
static void test_load_memory_all_holes(void **state)
{
	struct fixture *f = *state;
	const uint64_t size = 2 * MiB;
	struct tree_opts o = { .mem_size = size };
	struct guest_mem mem;
	struct wisp_err err = { 0 };
	struct snapshot s;
	uint8_t *want, *ram = calloc(1, size);
	size_t len;
	void *tree;

	assert_non_null(ram);
	want = expected_ram(size, NULL, 0, &o.xxh3);
	tree = build_tree(&o, &len);
	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	write_memory(f, size, NULL, 0);
	open_ok(f, &s);
	guest_mem_layout(&mem, ram, size);
	if (snapshot_load_memory(&s, &mem, &err))
		fail_msg("%s", err.msg);
	assert_memory_equal(ram, want, size);
	snapshot_close(&s);

	/* The same file against a tree whose xxh3 is not zero RAM's. */
	o.xxh3 ^= 1;
	free(tree);
	tree = build_tree(&o, &len);
	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	open_ok(f, &s);
	memset(&err, 0, sizeof(err));
	assert_int_equal(snapshot_load_memory(&s, &mem, &err), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	snapshot_close(&s);
	free(tree);
	free(want);
	free(ram);
}

/* A fully written (not sparse) file loads the same. */
static void test_load_memory_dense(void **state)
{
	struct fixture *f = *state;
	const uint64_t size = 3 * MiB;
	struct tree_opts o = { .mem_size = size };
	struct guest_mem mem;
	struct wisp_err err = { 0 };
	struct snapshot s;
	uint8_t *want = malloc(size), *ram = calloc(1, size);
	uint64_t seed = 7, i;
	size_t len;
	void *tree;

	assert_non_null(want);
	assert_non_null(ram);
	for (i = 0; i < size; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		want[i] = (uint8_t)(seed >> 56);
	}
	o.xxh3 = snapshot_memory_hash(want, size);
	tree = build_tree(&o, &len);
	write_file(f, SNAPSHOT_TREE_FILE, tree, len);
	write_file(f, SNAPSHOT_MEMORY_FILE, want, size);
	open_ok(f, &s);
	guest_mem_layout(&mem, ram, size);
	if (snapshot_load_memory(&s, &mem, &err))
		fail_msg("%s", err.msg);
	assert_memory_equal(ram, want, size);
	snapshot_close(&s);
	free(tree);
	free(want);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_open_valid),
		T(test_open_missing),
		T(test_open_not_files),
		T(test_open_truncated),
		T(test_open_flipped),
		T(test_open_wrong_content),
		T(test_open_memory_size),
		T(test_open_trailing_bytes),
		T(test_config_overrides),
		T(test_config_override_saved_name),
		T(test_config_forbidden),
		T(test_config_bad_value),
		T(test_config_bad_tree),
		T(test_config_saved_double_dash),
		T(test_memory_hash_definition),
		T(test_load_memory),
		T(test_load_memory_all_holes),
		T(test_load_memory_dense),
#undef T
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The ELF/PVH loader against the crafted corpus in vmm/testdata/elf
 * (written by tools/mkelfcorpus).  Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define CORPUS		"vmm/testdata/elf/"
#define RAM_SIZE	(64ULL << 20)

struct bad_case {
	const char *file;
	const char *message;	/* a fragment the error must contain */
};

static const struct bad_case bad_cases[] = {
	{ "bad-magic.elf", "not an ELF file" },
	{ "truncated-header.elf", "truncated ELF header" },
	{ "elf32.elf", "not a 64-bit ELF file" },
	{ "big-endian.elf", "not a little-endian ELF file" },
	{ "wrong-machine.elf", "not for x86-64" },
	{ "not-executable.elf", "not an executable" },
	{ "bad-phentsize.elf", "bad ELF program header size" },
	{ "no-program-headers.elf", "has 0 program headers" },
	{ "too-many-program-headers.elf", "has 1000 program headers" },
	{ "program-headers-beyond-eof.elf", "program headers lie beyond the end" },
	{ "program-header-offset-overflow.elf", "program headers lie beyond the end" },
	{ "segment-truncated.elf", "beyond the end of the file" },
	{ "filesz-above-memsz.elf", "file size larger than its memory size" },
	{ "segment-below-1m.elf", "below 1 MiB" },
	{ "segment-outside-ram.elf", "not inside guest RAM" },
	{ "segment-wraps.elf", "wraps around" },
	{ "segment-absurd-size.elf", "not inside guest RAM" },
	{ "segment-offset-overflow.elf", "beyond the end of the file" },
	{ "overlapping-segments.elf", "overlap" },
	{ "no-pvh-note.elf", "no PVH entry note" },
	{ "no-note-segment.elf", "no PVH entry note" },
	{ "note-overruns-segment.elf", "malformed ELF note" },
	{ "note-bad-descsz.elf", "malformed ELF note" },
	{ "entry-outside-segments.elf", "not inside a loaded segment" },
	{ "no-loadable-segment.elf", "no loadable segment" },
};

struct fixture {
	struct guest_mem mem;
	uint8_t *ram;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ram = malloc(RAM_SIZE);
	memset(f->ram, 0xaa, RAM_SIZE);
	guest_mem_layout(&f->mem, f->ram, RAM_SIZE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static int load_file(struct fixture *f, const char *name,
		     struct kernel_image *k, struct wisp_err *err)
{
	char path[256];
	uint8_t *buf;
	size_t size;
	int ret;

	snprintf(path, sizeof(path), CORPUS "%s", name);
	ret = loader_read_file(path, f->mem.size, "kernel", &buf, &size, err);
	if (ret)
		return ret;
	ret = loader_load_pvh(buf, size, &f->mem, k, err);
	free(buf);
	return ret;
}

static void test_valid_loads(void **state)
{
	static const char *const files[] = { "valid.elf", "valid-desc8.elf" };
	struct fixture *f = *state;
	size_t i, j;

	for (i = 0; i < 2; i++) {
		struct wisp_err err = { 0 };
		struct kernel_image k;

		memset(f->ram, 0xaa, RAM_SIZE);
		assert_int_equal(load_file(f, files[i], &k, &err), 0);
		assert_int_equal(err.status, 0);
		assert_int_equal(k.entry, 0x100010);
		assert_int_equal(k.lowest, 0x100000);
		assert_int_equal(k.highest, 0x102000);
		/* File bytes copied, the rest of the segment zeroed. */
		for (j = 0; j < 512; j++)
			assert_int_equal(f->ram[0x100000 + j], j & 0xff);
		for (j = 512; j < 0x2000; j++)
			assert_int_equal(f->ram[0x100000 + j], 0);
		/* Nothing outside the segment touched. */
		assert_int_equal(f->ram[0xfffff], 0xaa);
		assert_int_equal(f->ram[0x102000], 0xaa);
	}
}

static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct wisp_err err = { 0 };
		struct kernel_image k;
		size_t j;

		memset(f->ram, 0xaa, 0x200000);
		print_message("%s\n", bad_cases[i].file);
		assert_int_equal(load_file(f, bad_cases[i].file, &k, &err), -EINVAL);
		assert_int_equal(err.status, WISP_EXIT_DATAERR);
		if (!strstr(err.msg, bad_cases[i].message))
			fail_msg("%s: message '%s' lacks '%s'", bad_cases[i].file,
				 err.msg, bad_cases[i].message);
		/* A refused image writes nothing into guest RAM. */
		for (j = 0; j < 0x200000; j += 0x100)
			assert_int_equal(f->ram[j], 0xaa);
	}
}

/* Segments across the 3-4 GiB hole are refused even with RAM above it. */
static void test_segment_across_hole(void **state)
{
	struct wisp_err err = { 0 };
	struct guest_mem big;
	struct kernel_image k;
	uint8_t *buf;
	size_t size;

	(void)state;
	/* Never dereferenced: the loader checks before it copies. */
	guest_mem_layout(&big, (uint8_t *)(uintptr_t)0x100000000000ULL, 5ULL << 30);
	assert_int_equal(loader_read_file(CORPUS "segment-across-hole.elf",
					  big.size, "kernel", &buf, &size, &err), 0);
	assert_int_equal(loader_load_pvh(buf, size, &big, &k, &err), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "not inside guest RAM"));
	free(buf);
}

static void test_read_file_errors(void **state)
{
	struct wisp_err err;
	uint8_t *buf;
	size_t size;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(loader_read_file(CORPUS "does-not-exist.elf", 1 << 20,
					  "kernel", &buf, &size, &err), -ENOENT);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_non_null(strstr(err.msg, "cannot open kernel"));

	memset(&err, 0, sizeof(err));
	assert_true(loader_read_file(CORPUS, 1 << 20, "kernel", &buf, &size,
				     &err) < 0);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_non_null(strstr(err.msg, "not a regular file"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(loader_read_file(CORPUS "empty.elf", 1 << 20, "initrd",
					  &buf, &size, &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "initrd"));
	assert_non_null(strstr(err.msg, "is empty"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(loader_read_file(CORPUS "valid.elf", 100, "kernel", &buf,
					  &size, &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "does not fit in guest RAM"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test(test_segment_across_hole),
		cmocka_unit_test(test_read_file_errors),
	};

	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The ELF/PVH loader against the crafted corpus in vmm/testdata/elf
 * (written by tools/mkelfcorpus), and the bzImage loader against images
 * crafted here.  Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../firmware/le.h"
#include "loader.h"

#define CORPUS		"vmm/testdata/elf/"
#define RAM_SIZE	(64ULL << 20)
#define MEM(bytes, len)	(&IMAGE_IN_MEMORY(bytes, len))

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
	struct image_file img;
	char path[256];
	int ret;

	snprintf(path, sizeof(path), CORPUS "%s", name);
	ret = image_open(path, f->mem.size, "kernel", &img, err);
	if (ret)
		return ret;
	ret = loader_load_pvh(&img, &f->mem, k, err);
	image_close(&img);
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
	struct image_file img;

	(void)state;
	/* Never dereferenced: the loader checks before it copies. */
	guest_mem_layout(&big, (uint8_t *)(uintptr_t)0x100000000000ULL, 5ULL << 30);
	assert_int_equal(image_open(CORPUS "segment-across-hole.elf", big.size,
				    "kernel", &img, &err), 0);
	assert_int_equal(loader_load_pvh(&img, &big, &k, &err), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "not inside guest RAM"));
	image_close(&img);
}

static void test_open_errors(void **state)
{
	struct wisp_err err;
	struct image_file img;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(image_open(CORPUS "does-not-exist.elf", 1 << 20,
				    "kernel", &img, &err), -ENOENT);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_non_null(strstr(err.msg, "cannot open kernel"));

	memset(&err, 0, sizeof(err));
	assert_true(image_open(CORPUS, 1 << 20, "kernel", &img, &err) < 0);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_non_null(strstr(err.msg, "not a regular file"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(image_open(CORPUS "empty.elf", 1 << 20, "initrd",
				    &img, &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "initrd"));
	assert_non_null(strstr(err.msg, "is empty"));

	memset(&err, 0, sizeof(err));
	assert_int_equal(image_open(CORPUS "valid.elf", 100, "kernel", &img,
				    &err), -EFBIG);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "does not fit in guest RAM"));
}

/* A temporary file holding @len bytes of @bytes; the caller unlinks @path. */
static void write_temp(char *path, const void *bytes, size_t len)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

static void test_image_read(void **state)
{
	static const uint8_t bytes[] = "0123456789abcdef";
	struct image_file mem = IMAGE_IN_MEMORY(bytes, 16), file;
	char path[] = "/tmp/wisp-loader-XXXXXX";
	struct wisp_err err = { 0 };
	uint8_t out[16];

	(void)state;
	/* In memory and from a file, the same bytes. */
	assert_int_equal(image_read(&mem, 10, out, 6, &err), 0);
	assert_memory_equal(out, "abcdef", 6);
	write_temp(path, bytes, 16);
	assert_int_equal(image_open(path, 1 << 20, "initrd", &file, &err), 0);
	assert_int_equal(file.size, 16);
	memset(out, 0, sizeof(out));
	assert_int_equal(image_read(&file, 0, out, 16, &err), 0);
	assert_memory_equal(out, bytes, 16);

	/* A range past the end, or wrapping, is refused before any read. */
	assert_int_equal(image_read(&file, 10, out, 7, &err), -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "lie beyond its end"));
	assert_int_equal(image_read(&mem, UINT64_MAX, out, 2, &err), -EINVAL);

	/* The file shrinks after it was opened: an error, never garbage. */
	assert_int_equal(truncate(path, 8), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(image_read(&file, 4, out, 8, &err), -EIO);
	assert_int_equal(err.status, WISP_EXIT_NOINPUT);
	assert_non_null(strstr(err.msg, "cannot read initrd"));
	assert_non_null(strstr(err.msg, "file shrank"));
	image_close(&file);
	assert_int_equal(file.fd, -1);
	unlink(path);
}

/* A PT_NOTE segment larger than LOADER_MAX_NOTES is refused unread. */
static void test_note_segment_too_big(void **state)
{
	struct fixture *f = *state;
	size_t size = LOADER_MAX_NOTES + 0x1000;
	uint8_t *elf = calloc(1, size);
	struct wisp_err err = { 0 };
	struct kernel_image k;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh));

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_NOTE;
	ph->p_offset = 0x1000;
	ph->p_filesz = LOADER_MAX_NOTES;
	/* At the limit it is read (and holds no PVH note)... */
	assert_int_equal(loader_load_pvh(MEM(elf, size), &f->mem, &k, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "no PVH entry note"));
	/* ...one byte over, refused. */
	ph->p_offset = 0xfff;
	ph->p_filesz = LOADER_MAX_NOTES + 1;
	memset(&err, 0, sizeof(err));
	assert_int_equal(loader_load_pvh(MEM(elf, size), &f->mem, &k, &err),
			 -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "ELF note segment 0 is 65537 bytes"));
	free(elf);
}

/* --- bzImage ------------------------------------------------------------ */

#define BZ_SETUP_SECTS	3			/* setup: 4 sectors */
#define BZ_SETUP_SIZE	((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL_SIZE	0x3000
#define BZ_FILE_SIZE	(BZ_SETUP_SIZE + BZ_KERNEL_SIZE)
#define BZ_PREF		0x1000000ULL		/* 16 MiB */
#define BZ_INIT_SIZE	0x400000U		/* 4 MiB */
#define BZ_ALIGN	0x200000U

/* A minimal well-formed bzImage: protocol 2.15, relocatable, 64-bit. */
static void make_bzimage(uint8_t *img)
{
	size_t i;

	memset(img, 0, BZ_FILE_SIZE);
	img[SH_SETUP_SECTS] = BZ_SETUP_SECTS;
	le_put16(img + SH_BOOT_FLAG, SH_BOOT_FLAG_MAGIC);
	img[SH_JUMP] = 0xeb;
	img[SH_JUMP + 1] = 0x268 - 0x202;	/* header ends at 0x268 */
	le_put32(img + SH_HEADER, SH_HEADER_MAGIC);
	le_put16(img + SH_VERSION, 0x020f);
	img[SH_LOADFLAGS] = SH_LOADED_HIGH;
	le_put32(img + SH_INITRD_ADDR_MAX, 0x37ffffff);
	le_put32(img + SH_KERNEL_ALIGNMENT, BZ_ALIGN);
	img[SH_RELOCATABLE] = 1;
	le_put16(img + SH_XLOADFLAGS, SH_XLF_KERNEL_64 | 0x2);
	le_put32(img + SH_CMDLINE_SIZE, 2047);
	le_put64(img + SH_PREF_ADDRESS, BZ_PREF);
	le_put32(img + SH_INIT_SIZE, BZ_INIT_SIZE);
	for (i = 0; i < BZ_KERNEL_SIZE; i++)
		img[BZ_SETUP_SIZE + i] = (uint8_t)(i * 7 + 1);
}

static void expect_kernel_at(const struct fixture *f, uint64_t gpa)
{
	size_t i;

	for (i = 0; i < BZ_KERNEL_SIZE; i++)
		assert_int_equal(f->ram[gpa + i], (uint8_t)(i * 7 + 1));
	assert_int_equal(f->ram[gpa - 1], 0xaa);
	assert_int_equal(f->ram[gpa + BZ_KERNEL_SIZE], 0xaa);
}

static void test_bzimage_valid(void **state)
{
	struct fixture *f = *state;
	uint8_t img[BZ_FILE_SIZE];
	struct wisp_err err = { 0 };
	struct kernel_image k;

	make_bzimage(img);
	assert_int_equal(loader_load_bzimage(MEM(img, sizeof(img)), &f->mem, &k,
					     &err), 0);
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	/* At the preferred address, entered 0x200 into the kernel. */
	assert_int_equal(k.lowest, BZ_PREF);
	assert_int_equal(k.entry, BZ_PREF + 0x200);
	/* init_size, not the file size, is reserved. */
	assert_int_equal(k.highest, BZ_PREF + BZ_INIT_SIZE);
	assert_int_equal(k.initrd_end_max, 0x38000000);
	assert_int_equal(k.cmdline_max, 2048);
	/* The setup header travels to boot_params verbatim. */
	assert_int_equal(k.setup_header_len, 0x268 - SH_START);
	assert_memory_equal(k.setup_header, img + SH_START, 0x268 - SH_START);
	expect_kernel_at(f, BZ_PREF);
}

static void test_bzimage_relocated(void **state)
{
	struct fixture *f = *state;
	uint8_t img[BZ_FILE_SIZE];
	struct wisp_err err = { 0 };
	struct kernel_image k;

	/* The preferred address leaves no room for init_size: relocate. */
	make_bzimage(img);
	le_put64(img + SH_PREF_ADDRESS, RAM_SIZE - (2 << 20));
	assert_int_equal(loader_load_bzimage(MEM(img, sizeof(img)), &f->mem, &k,
					     &err), 0);
	assert_int_equal(k.lowest, BZ_ALIGN);	/* 1 MiB aligned up */
	expect_kernel_at(f, BZ_ALIGN);

	/* An init_size below the file's kernel reserves the kernel. */
	memset(f->ram, 0xaa, RAM_SIZE);
	make_bzimage(img);
	le_put32(img + SH_INIT_SIZE, 0x100);
	assert_int_equal(loader_load_bzimage(MEM(img, sizeof(img)), &f->mem, &k,
					     &err), 0);
	assert_int_equal(k.highest - k.lowest, BZ_KERNEL_SIZE);

	/* Setup sectors 0 means 4, as in the oldest boot loaders. */
	memset(f->ram, 0xaa, RAM_SIZE);
	make_bzimage(img);
	img[SH_SETUP_SECTS] = 0;
	assert_int_equal(loader_load_bzimage(MEM(img, sizeof(img)), &f->mem, &k,
					     &err), 0);
	assert_int_equal(f->ram[BZ_PREF], img[5 * 512]);
}

struct bz_case {
	const char *what;
	void (*mutate)(uint8_t *img, size_t *size);
	const char *message;
};

static void bz_no_magic(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_HEADER] = 'X';
}

static void bz_truncated(uint8_t *img, size_t *size)
{
	(void)img;
	*size = 0x240;
}

static void bz_boot_flag(uint8_t *img, size_t *size)
{
	(void)size;
	le_put16(img + SH_BOOT_FLAG, 0x1234);
}

static void bz_old_protocol(uint8_t *img, size_t *size)
{
	(void)size;
	le_put16(img + SH_VERSION, 0x020b);
}

static void bz_short_header(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_JUMP + 1] = 0x30;
}

static void bz_no_64bit(uint8_t *img, size_t *size)
{
	(void)size;
	le_put16(img + SH_XLOADFLAGS, 0x2);
}

static void bz_not_high(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_LOADFLAGS] = 0;
}

static void bz_setup_too_big(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_SETUP_SECTS] = 40;	/* 41 sectors: more than the file */
}

static void bz_kernel_too_short(uint8_t *img, size_t *size)
{
	(void)img;
	*size = BZ_SETUP_SIZE + 0x100;
}

static void bz_bad_alignment(uint8_t *img, size_t *size)
{
	(void)size;
	le_put32(img + SH_KERNEL_ALIGNMENT, 0x3000);
}

static void bz_zero_alignment(uint8_t *img, size_t *size)
{
	(void)size;
	le_put32(img + SH_KERNEL_ALIGNMENT, 0);
}

static void bz_init_size_too_big(uint8_t *img, size_t *size)
{
	(void)size;
	le_put32(img + SH_INIT_SIZE, 0x8000000);	/* 128 MiB */
}

static void bz_fixed_below_1m(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_RELOCATABLE] = 0;
	le_put64(img + SH_PREF_ADDRESS, 0x10000);
}

static void bz_fixed_beyond_ram(uint8_t *img, size_t *size)
{
	(void)size;
	img[SH_RELOCATABLE] = 0;
	le_put64(img + SH_PREF_ADDRESS, UINT64_MAX - 0xfff);
}

static const struct bz_case bz_cases[] = {
	{ "no HdrS", bz_no_magic, "neither a bzImage" },
	{ "truncated", bz_truncated, "truncated bzImage setup header" },
	{ "boot flag", bz_boot_flag, "boot flag is 0x1234" },
	{ "protocol 2.11", bz_old_protocol, "boot protocol 2.11 is too old" },
	{ "short header", bz_short_header, "setup header ends at 0x232" },
	{ "no 64-bit entry", bz_no_64bit, "no 64-bit entry point" },
	{ "not loaded high", bz_not_high, "not loaded high" },
	{ "setup beyond the file", bz_setup_too_big, "does not leave a kernel" },
	{ "kernel too short", bz_kernel_too_short, "too short for its 64-bit entry" },
	{ "alignment 0x3000", bz_bad_alignment, "not a power of two" },
	{ "alignment 0", bz_zero_alignment, "not a power of two" },
	{ "init_size beyond RAM", bz_init_size_too_big, "needs 128 MiB (init_size)" },
	{ "fixed below 1 MiB", bz_fixed_below_1m, "does not have" },
	{ "fixed beyond RAM", bz_fixed_beyond_ram, "does not have" },
};

static void test_bzimage_bad(void **state)
{
	struct fixture *f = *state;
	uint8_t img[BZ_FILE_SIZE];
	size_t i, j;

	for (i = 0; i < sizeof(bz_cases) / sizeof(bz_cases[0]); i++) {
		struct wisp_err err = { 0 };
		struct kernel_image k;
		size_t size = sizeof(img);

		print_message("%s\n", bz_cases[i].what);
		make_bzimage(img);
		bz_cases[i].mutate(img, &size);
		memset(f->ram, 0xaa, RAM_SIZE);
		assert_int_equal(loader_load_kernel(MEM(img, size), &f->mem, &k, &err),
				 -EINVAL);
		assert_int_equal(err.status, WISP_EXIT_DATAERR);
		if (!strstr(err.msg, bz_cases[i].message))
			fail_msg("%s: message '%s' lacks '%s'", bz_cases[i].what,
				 err.msg, bz_cases[i].message);
		/* A refused image writes nothing into guest RAM. */
		for (j = 0; j < RAM_SIZE; j += 0x1000)
			assert_int_equal(f->ram[j], 0xaa);
	}
}

static void test_load_kernel_dispatch(void **state)
{
	struct fixture *f = *state;
	uint8_t img[BZ_FILE_SIZE];
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct image_file elf;

	make_bzimage(img);
	assert_int_equal(loader_load_kernel(MEM(img, sizeof(img)), &f->mem, &k, &err), 0);
	assert_int_equal(k.format, KERNEL_BZIMAGE);

	assert_int_equal(image_open(CORPUS "valid.elf", f->mem.size, "kernel",
				    &elf, &err), 0);
	assert_int_equal(loader_load_kernel(&elf, &f->mem, &k, &err), 0);
	assert_int_equal(k.format, KERNEL_PVH);
	assert_int_equal(k.entry, 0x100010);
	assert_int_equal(k.initrd_end_max, 0);	/* no limits of its own */
	assert_int_equal(k.cmdline_max, 0);
	image_close(&elf);

	/* Neither format: one message naming both. */
	memset(img, 0x90, sizeof(img));
	assert_int_equal(loader_load_kernel(MEM(img, sizeof(img)), &f->mem, &k, &err),
			 -EINVAL);
	assert_int_equal(err.status, WISP_EXIT_DATAERR);
	assert_non_null(strstr(err.msg, "neither a bzImage"));
	assert_non_null(strstr(err.msg, "nor an ELF kernel"));
	/* Asked for a bzImage directly, it says what is missing. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(loader_load_bzimage(MEM(img, sizeof(img)), &f->mem, &k, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not a bzImage (no 'HdrS'"));
}

/* From a file, the bzImage's kernel lands in guest RAM as from memory. */
static void test_bzimage_from_file(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/wisp-bzimage-XXXXXX";
	uint8_t img[BZ_FILE_SIZE];
	struct wisp_err err = { 0 };
	struct kernel_image k;
	struct image_file file;

	make_bzimage(img);
	write_temp(path, img, sizeof(img));
	assert_int_equal(image_open(path, f->mem.size, "kernel", &file, &err), 0);
	assert_int_equal(loader_load_kernel(&file, &f->mem, &k, &err), 0);
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	assert_int_equal(k.lowest, BZ_PREF);
	assert_memory_equal(k.setup_header, img + SH_START, 0x268 - SH_START);
	expect_kernel_at(f, BZ_PREF);
	image_close(&file);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test(test_segment_across_hole),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_image_read),
		cmocka_unit_test_setup_teardown(test_note_segment_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_relocated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_kernel_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bzimage_from_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}

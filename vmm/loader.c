// SPDX-License-Identifier: Apache-2.0
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../firmware/le.h"
#include "../firmware/pvh.h"
#include "loader.h"

#define bad_image(err, ...) err_set(err, WISP_EXIT_DATAERR, EINVAL, __VA_ARGS__)

int image_open(const char *path, uint64_t max, const char *what,
	       struct image_file *f, struct wisp_err *err)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, WISP_EXIT_NOINPUT, errno, "cannot open %s '%s': %s",
			       what, path, strerror(errno));
	if (fstat(fd, &st)) {
		ret = err_set(err, WISP_EXIT_NOINPUT, errno, "cannot stat %s '%s': %s",
			      what, path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = err_set(err, WISP_EXIT_NOINPUT, EINVAL,
			      "%s '%s' is not a regular file", what, path);
		goto out_close;
	}
	if (!st.st_size || (uint64_t)st.st_size > max) {
		ret = err_set(err, WISP_EXIT_DATAERR, EFBIG,
			      st.st_size ? "%s '%s' (%lld bytes) does not fit in guest RAM" :
			      "%s '%s' is empty (%lld bytes)",
			      what, path, (long long)st.st_size);
		goto out_close;
	}
	*f = (struct image_file){
		.what = what, .path = path, .fd = fd, .size = st.st_size,
	};
	return 0;
out_close:
	close(fd);
	return ret;
}

void image_close(struct image_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Is [off, off + len) inside an image of @size bytes?  Overflow safe. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int image_read(const struct image_file *f, uint64_t off, void *dst,
	       uint64_t len, struct wisp_err *err)
{
	uint8_t *out = dst;

	if (!in_file(off, len, f->size))
		return bad_image(err, "%s '%s': bytes [%llu, +%llu) lie beyond its end",
				 f->what, f->path, (unsigned long long)off,
				 (unsigned long long)len);
	if (f->fd < 0) {
		memcpy(dst, f->data + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(f->fd, out, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(err, WISP_EXIT_NOINPUT, n ? errno : EIO,
				       "cannot read %s '%s': %s", f->what, f->path,
				       n ? strerror(errno) : "file shrank while reading");
		out += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Find the PVH entry in the notes of one PT_NOTE segment. */
static int find_pvh_note(const uint8_t *notes, uint64_t len, uint64_t *entry)
{
	uint64_t pos = 0;

	while (len - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_len, desc_len;

		memcpy(&nh, notes + pos, sizeof(nh));
		pos += sizeof(nh);
		name_len = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
		desc_len = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
		if (name_len > len - pos || desc_len > len - pos - name_len)
			return -EINVAL;	/* a note running off its segment */
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(notes + pos, "Xen", 4)) {
			const uint8_t *desc = notes + pos + name_len;
			uint32_t e32;

			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return -EINVAL;
			/* A 32-bit entry: the low word, little-endian. */
			memcpy(&e32, desc, sizeof(e32));
			*entry = e32;
			return 1;
		}
		pos += name_len + desc_len;
	}
	return 0;
}

/* Read and check the ELF header of @f. */
static int check_header(const struct image_file *f, Elf64_Ehdr *eh,
			struct wisp_err *err)
{
	uint64_t size = f->size;
	int ret;

	ret = image_read(f, 0, eh, size < sizeof(*eh) ? size : sizeof(*eh), err);
	if (ret)
		return ret;
	if (size < SELFMAG || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return bad_image(err, "not an ELF file (no ELF magic)");
	if (size < sizeof(*eh))
		return bad_image(err, "truncated ELF header (%llu bytes)",
				 (unsigned long long)size);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return bad_image(err, "not a 64-bit ELF file (only ELF64 PVH kernels are supported)");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return bad_image(err, "not a little-endian ELF file");
	if (eh->e_machine != EM_X86_64)
		return bad_image(err, "ELF file is not for x86-64 (e_machine %u)",
				 eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return bad_image(err, "ELF file is not an executable (e_type %u)",
				 eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return bad_image(err, "bad ELF program header size %u",
				 eh->e_phentsize);
	if (!eh->e_phnum || eh->e_phnum > LOADER_MAX_SEGMENTS)
		return bad_image(err, "ELF file has %u program headers (1 to %d allowed)",
				 eh->e_phnum, LOADER_MAX_SEGMENTS);
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return bad_image(err, "ELF program headers lie beyond the end of the file");
	return 0;
}

static int check_load_segment(const Elf64_Phdr *ph, unsigned int index,
			      uint64_t size, const struct guest_mem *mem,
			      struct wisp_err *err)
{
	if (ph->p_filesz > ph->p_memsz)
		return bad_image(err, "ELF segment %u has a file size larger than its memory size",
				 index);
	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return bad_image(err, "ELF segment %u lies beyond the end of the file (truncated?)",
				 index);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return bad_image(err, "ELF segment %u wraps around the address space",
				 index);
	if (ph->p_paddr < LOADER_MIN_GPA)
		return bad_image(err, "ELF segment %u at 0x%llx is below 1 MiB, which is reserved for boot data",
				 index, (unsigned long long)ph->p_paddr);
	if (!guest_ptr(mem, ph->p_paddr, ph->p_memsz))
		return bad_image(err, "ELF segment %u [0x%llx, 0x%llx) is not inside guest RAM (%llu MiB, hole at 3-4 GiB)",
				 index, (unsigned long long)ph->p_paddr,
				 (unsigned long long)(ph->p_paddr + ph->p_memsz),
				 (unsigned long long)(mem->size >> 20));
	return 0;
}

/* Look for the PVH entry in PT_NOTE segment @index: 1 found, 0 not, <0 error. */
static int read_pvh_note(const struct image_file *f, const Elf64_Phdr *ph,
			 unsigned int index, uint64_t *entry,
			 struct wisp_err *err)
{
	uint8_t *notes;
	int ret;

	if (!in_file(ph->p_offset, ph->p_filesz, f->size))
		return bad_image(err, "ELF note segment %u lies beyond the end of the file",
				 index);
	if (ph->p_filesz > LOADER_MAX_NOTES)
		return bad_image(err, "ELF note segment %u is %llu bytes (at most %llu)",
				 index, (unsigned long long)ph->p_filesz,
				 LOADER_MAX_NOTES);
	notes = malloc(ph->p_filesz ? ph->p_filesz : 1);
	if (!notes)
		return err_set(err, WISP_EXIT_OSERR, ENOMEM,
			       "out of memory reading ELF notes");
	ret = image_read(f, ph->p_offset, notes, ph->p_filesz, err);
	if (!ret) {
		ret = find_pvh_note(notes, ph->p_filesz, entry);
		if (ret < 0)
			ret = bad_image(err, "malformed ELF note in segment %u",
					index);
	}
	free(notes);
	return ret;
}

int loader_load_pvh(const struct image_file *f, struct guest_mem *mem,
		    struct kernel_image *out, struct wisp_err *err)
{
	Elf64_Phdr ph[LOADER_MAX_SEGMENTS];
	uint64_t entry = 0, lowest = UINT64_MAX, highest = 0;
	bool have_entry = false, entry_loaded = false;
	Elf64_Ehdr eh;
	unsigned int i, j;
	int ret;

	ret = check_header(f, &eh, err);
	if (ret)
		return ret;
	ret = image_read(f, eh.e_phoff, ph, eh.e_phnum * sizeof(ph[0]), err);
	if (ret)
		return ret;

	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_NOTE) {
			ret = read_pvh_note(f, &ph[i], i, &entry, err);
			if (ret < 0)
				return ret;
			have_entry |= ret;
			continue;
		}
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		ret = check_load_segment(&ph[i], i, f->size, mem, err);
		if (ret)
			return ret;
		for (j = 0; j < i; j++) {
			if (ph[j].p_type != PT_LOAD || !ph[j].p_memsz)
				continue;
			if (ph[i].p_paddr < ph[j].p_paddr + ph[j].p_memsz &&
			    ph[j].p_paddr < ph[i].p_paddr + ph[i].p_memsz)
				return bad_image(err, "ELF segments %u and %u overlap",
						 j, i);
		}
		if (ph[i].p_paddr < lowest)
			lowest = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_memsz > highest)
			highest = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (!have_entry)
		return bad_image(err, "no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY): this ELF kernel cannot be booted with the PVH boot protocol");
	if (!highest)
		return bad_image(err, "ELF file has no loadable segment");
	for (i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && entry >= ph[i].p_paddr &&
		    entry - ph[i].p_paddr < ph[i].p_memsz)
			entry_loaded = true;
	if (!entry_loaded)
		return bad_image(err, "PVH entry point 0x%llx is not inside a loaded segment",
				 (unsigned long long)entry);

	/* Every check passed: copy the segments in. */
	for (i = 0; i < eh.e_phnum; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		dst = guest_ptr(mem, ph[i].p_paddr, ph[i].p_memsz);
		ret = image_read(f, ph[i].p_offset, dst, ph[i].p_filesz, err);
		if (ret)
			return ret;
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
	memset(out, 0, sizeof(*out));
	out->format = KERNEL_PVH;
	out->entry = entry;
	out->lowest = lowest;
	out->highest = highest;
	return 0;
}

#define SH_PROTOCOL_MIN		0x020c	/* 2.12: xloadflags, 64-bit entry */
#define SH_PROTOCOL_2_12_END	0x268	/* the last field 2.12 defines ends here */
#define SECTOR			512

/* The first bytes of an image: enough for a setup header or ELF magic. */
struct image_head {
	uint8_t bytes[SH_END_MAX];
	uint64_t len;
};

static int read_head(const struct image_file *f, struct image_head *head,
		     struct wisp_err *err)
{
	head->len = f->size < sizeof(head->bytes) ? f->size : sizeof(head->bytes);
	return image_read(f, 0, head->bytes, head->len, err);
}

static bool is_bzimage(const struct image_head *head)
{
	return head->len >= SH_HEADER + 4 &&
	       le_get32(head->bytes + SH_HEADER) == SH_HEADER_MAGIC;
}

/*
 * Where the protected-mode kernel goes: its preferred address when
 * [pref, pref + reserve) is low RAM, else (relocatable kernels only) the
 * lowest @align-aligned address from 1 MiB.  0: nowhere.
 */
static uint64_t place_bzimage(uint64_t pref, uint64_t align, bool relocatable,
			      uint64_t reserve, uint64_t low_end)
{
	uint64_t addr;

	if (pref >= LOADER_MIN_GPA && !(pref & (align - 1)) &&
	    pref <= low_end && reserve <= low_end - pref)
		return pref;
	if (!relocatable)
		return 0;
	addr = (LOADER_MIN_GPA + align - 1) & ~(align - 1);
	if (addr <= low_end && reserve <= low_end - addr)
		return addr;
	return 0;
}

int loader_load_bzimage(const struct image_file *f, struct guest_mem *mem,
			struct kernel_image *out, struct wisp_err *err)
{
	uint64_t setup_size, kernel_size, reserve, align, pref, addr;
	uint64_t low_end = guest_low_ram_size(mem), size = f->size;
	unsigned int version, header_end, setup_sects;
	struct image_head head;
	const uint8_t *image = head.bytes;
	bool relocatable;
	int ret;

	ret = read_head(f, &head, err);
	if (ret)
		return ret;
	if (!is_bzimage(&head))
		return bad_image(err, "not a bzImage (no 'HdrS' setup header)");
	if (size < SH_PROTOCOL_2_12_END)
		return bad_image(err, "truncated bzImage setup header (%llu bytes)",
				 (unsigned long long)size);
	if (le_get16(image + SH_BOOT_FLAG) != SH_BOOT_FLAG_MAGIC)
		return bad_image(err, "bzImage boot flag is 0x%04x, not 0xaa55",
				 le_get16(image + SH_BOOT_FLAG));
	version = le_get16(image + SH_VERSION);
	if (version < SH_PROTOCOL_MIN)
		return bad_image(err, "bzImage boot protocol %u.%02u is too old: wisp needs 2.12 or newer (64-bit entry)",
				 version >> 8, version & 0xff);
	header_end = SH_JUMP + 2 + image[SH_JUMP + 1];
	if (header_end < SH_PROTOCOL_2_12_END)
		return bad_image(err, "bzImage setup header ends at 0x%x, before the fields of protocol %u.%02u",
				 header_end, version >> 8, version & 0xff);
	if (header_end > SH_END_MAX)
		header_end = SH_END_MAX;	/* fields of later protocols */
	if (!(le_get16(image + SH_XLOADFLAGS) & SH_XLF_KERNEL_64))
		return bad_image(err, "bzImage has no 64-bit entry point (XLF_KERNEL_64 is not set)");
	if (!(image[SH_LOADFLAGS] & SH_LOADED_HIGH))
		return bad_image(err, "bzImage is not loaded high (an old zImage?)");

	setup_sects = image[SH_SETUP_SECTS] ? image[SH_SETUP_SECTS] : 4;
	setup_size = (uint64_t)(setup_sects + 1) * SECTOR;
	if (setup_size < header_end || setup_size >= size)
		return bad_image(err, "bzImage setup code (%llu bytes) does not leave a kernel in the file (%llu bytes)",
				 (unsigned long long)setup_size,
				 (unsigned long long)size);
	kernel_size = size - setup_size;
	if (kernel_size <= BZIMAGE_ENTRY64_OFFSET)
		return bad_image(err, "bzImage kernel (%llu bytes) is too short for its 64-bit entry point",
				 (unsigned long long)kernel_size);

	align = le_get32(image + SH_KERNEL_ALIGNMENT);
	relocatable = image[SH_RELOCATABLE];
	if (align < 0x1000 || (align & (align - 1)))
		return bad_image(err, "bzImage kernel_alignment 0x%llx is not a power of two from 4 KiB",
				 (unsigned long long)align);
	pref = le_get64(image + SH_PREF_ADDRESS);
	reserve = le_get32(image + SH_INIT_SIZE);
	if (reserve < kernel_size)
		reserve = kernel_size;
	reserve = (reserve + 0xfff) & ~0xfffULL;
	addr = place_bzimage(pref, align, relocatable, reserve, low_end);
	if (!addr)
		return bad_image(err, "bzImage needs %llu MiB (init_size) from %s0x%llx, which guest RAM below 3 GiB (%llu MiB) does not have",
				 (unsigned long long)(reserve + (1 << 20) - 1) >> 20,
				 relocatable ? "1 MiB or " : "",
				 (unsigned long long)pref,
				 (unsigned long long)low_end >> 20);

	/* Every check passed: copy the protected-mode kernel in. */
	ret = image_read(f, setup_size, guest_ptr(mem, addr, kernel_size),
			 kernel_size, err);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	out->format = KERNEL_BZIMAGE;
	out->entry = addr + BZIMAGE_ENTRY64_OFFSET;
	out->lowest = addr;
	out->highest = addr + reserve;
	out->initrd_end_max = (uint64_t)le_get32(image + SH_INITRD_ADDR_MAX) + 1;
	out->cmdline_max = (uint64_t)le_get32(image + SH_CMDLINE_SIZE) + 1;
	out->setup_header_len = header_end - SH_START;
	memcpy(out->setup_header, image + SH_START, out->setup_header_len);
	return 0;
}

int loader_load_kernel(const struct image_file *f, struct guest_mem *mem,
		       struct kernel_image *out, struct wisp_err *err)
{
	struct image_head head;
	int ret;

	ret = read_head(f, &head, err);
	if (ret)
		return ret;
	if (is_bzimage(&head))
		return loader_load_bzimage(f, mem, out, err);
	if (head.len >= SELFMAG && !memcmp(head.bytes, ELFMAG, SELFMAG))
		return loader_load_pvh(f, mem, out, err);
	return bad_image(err, "neither a bzImage (no 'HdrS' setup header) nor an ELF kernel (no ELF magic)");
}

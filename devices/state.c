// SPDX-License-Identifier: Apache-2.0
/* The state tree over libfdt (contracts in state.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "state.h"

#define STATE_INITIAL_SIZE	(64 * 1024)
#define STATE_MAX_SIZE		(64 * 1024 * 1024)

int state_writer_init(struct state_writer *w)
{
	*w = (struct state_writer){ .size = STATE_INITIAL_SIZE };
	w->fdt = malloc(w->size);
	if (!w->fdt)
		return w->err = -ENOMEM;
	if (fdt_create(w->fdt, w->size) || fdt_finish_reservemap(w->fdt) ||
	    fdt_begin_node(w->fdt, "")) {
		w->err = -EINVAL;
		return w->err;
	}
	return 0;
}

/* Double the buffer after -FDT_ERR_NOSPACE; false once it cannot. */
static bool grow(struct state_writer *w)
{
	size_t size = w->size * 2;
	void *fdt;

	if (size > STATE_MAX_SIZE || !(fdt = malloc(size))) {
		w->err = -ENOMEM;
		return false;
	}
	if (fdt_resize(w->fdt, fdt, size)) {
		free(fdt);
		w->err = -EINVAL;
		return false;
	}
	free(w->fdt);
	w->fdt = fdt;
	w->size = size;
	return true;
}

/* Run one libfdt call, growing the buffer as often as it asks. */
#define WRITE_RETRYING(w, call)						\
	do {								\
		int ret_;						\
		if ((w)->err)						\
			break;						\
		while ((ret_ = (call)) == -FDT_ERR_NOSPACE && grow(w))	\
			;						\
		if (ret_ && !(w)->err)					\
			(w)->err = -EINVAL;				\
	} while (0)

void state_begin(struct state_writer *w, const char *name)
{
	if (w->depth >= 63) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	WRITE_RETRYING(w, fdt_begin_node(w->fdt, name));
	w->has_child |= 1ULL << w->depth;
	w->depth++;
	w->has_child &= ~(1ULL << w->depth);
}

void state_end(struct state_writer *w)
{
	if (!w->depth) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	w->depth--;
	WRITE_RETRYING(w, fdt_end_node(w->fdt));
}

void state_put_bytes(struct state_writer *w, const char *name,
		     const void *data, size_t len)
{
	if (len > STATE_MAX_SIZE) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	if (w->has_child & (1ULL << w->depth)) {
		w->err = w->err ? w->err : -EINVAL;	/* after a child node */
		return;
	}
	WRITE_RETRYING(w, fdt_property(w->fdt, name, data, (int)len));
}

void state_put_u32(struct state_writer *w, const char *name, uint32_t v)
{
	fdt32_t cell = cpu_to_fdt32(v);

	state_put_bytes(w, name, &cell, sizeof(cell));
}

void state_put_u64(struct state_writer *w, const char *name, uint64_t v)
{
	fdt64_t cells = cpu_to_fdt64(v);

	state_put_bytes(w, name, &cells, sizeof(cells));
}

void state_put_str(struct state_writer *w, const char *name, const char *s)
{
	state_put_bytes(w, name, s, strlen(s) + 1);
}

int state_writer_finish(struct state_writer *w)
{
	if (w->depth && !w->err)
		w->err = -EINVAL;	/* a node left open */
	WRITE_RETRYING(w, fdt_end_node(w->fdt));	/* the root */
	WRITE_RETRYING(w, fdt_finish(w->fdt));
	return w->err;
}

void state_writer_free(struct state_writer *w)
{
	free(w->fdt);
	w->fdt = NULL;
}

/* ---- reading ----------------------------------------------------------- */

/* Record the first failure as "PATH: what". */
static void vfail(struct state_reader *r, int node, const char *name,
		  const char *fmt, va_list ap)
{
	char path[128] = "/";
	int len;

	if (r->failed)
		return;
	r->failed = true;
	if (node >= 0 && fdt_get_path(r->fdt, node, path, sizeof(path)))
		snprintf(path, sizeof(path), "(node %d)", node);
	len = snprintf(r->err, sizeof(r->err), "%s%s%s: ", path,
		       name && strcmp(path, "/") ? "/" : "", name ? name : "");
	if (len > 0 && (size_t)len < sizeof(r->err))
		vsnprintf(r->err + len, sizeof(r->err) - len, fmt, ap);
}

static void fail(struct state_reader *r, int node, const char *name,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct state_reader *r, int node, const char *name,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(r, node, name, fmt, ap);
	va_end(ap);
}

void state_fail(struct state_reader *r, int node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(r, node, NULL, fmt, ap);
	va_end(ap);
}

int state_reader_init(struct state_reader *r, const void *fdt, size_t len)
{
	int ret;

	*r = (struct state_reader){ .fdt = fdt };
	if (len < sizeof(struct fdt_header) || len > STATE_MAX_SIZE)
		ret = -FDT_ERR_TRUNCATED;
	else
		ret = fdt_check_full(fdt, len);
	if (!ret && fdt_totalsize(fdt) != len)
		ret = -FDT_ERR_BADLAYOUT;	/* bytes after the tree */
	if (ret) {
		r->failed = true;
		snprintf(r->err, sizeof(r->err), "not a valid state tree: %s",
			 fdt_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

static int find_node(struct state_reader *r, int parent, const char *name)
{
	if (r->failed || parent < 0)
		return -1;
	return fdt_subnode_offset(r->fdt, parent, name);
}

int state_node(struct state_reader *r, int parent, const char *name)
{
	int node = find_node(r, parent, name);

	if (node < 0) {
		if (!r->failed)
			fail(r, parent, name, "missing");
		return -1;
	}
	return node;
}

int state_node_opt(struct state_reader *r, int parent, const char *name)
{
	int node = find_node(r, parent, name);

	return node < 0 ? -1 : node;
}

bool state_has(struct state_reader *r, int parent, const char *name)
{
	if (r->failed || parent < 0)
		return false;
	return fdt_getprop(r->fdt, parent, name, NULL) ||
	       fdt_subnode_offset(r->fdt, parent, name) >= 0;
}

/* The property's bytes, or NULL (recorded). */
static const void *prop(struct state_reader *r, int node, const char *name,
			int *len)
{
	const void *p;

	if (r->failed || node < 0) {
		if (!r->failed)
			fail(r, node, name, "no such node");
		return NULL;
	}
	p = fdt_getprop(r->fdt, node, name, len);
	if (!p)
		fail(r, node, name, "missing");
	return p;
}

static const void *prop_sized(struct state_reader *r, int node,
			      const char *name, size_t want)
{
	int len;
	const void *p = prop(r, node, name, &len);

	if (p && (size_t)len != want) {
		fail(r, node, name, "%d bytes where %zu belong", len, want);
		return NULL;
	}
	return p;
}

uint32_t state_get_u32(struct state_reader *r, int node, const char *name)
{
	const void *p = prop_sized(r, node, name, sizeof(fdt32_t));

	return p ? fdt32_ld(p) : 0;
}

uint64_t state_get_u64(struct state_reader *r, int node, const char *name)
{
	const uint8_t *p = prop_sized(r, node, name, sizeof(fdt64_t));

	return p ? (uint64_t)fdt32_ld((const fdt32_t *)p) << 32 |
		   fdt32_ld((const fdt32_t *)(p + 4)) : 0;
}

uint32_t state_get_u32_max(struct state_reader *r, int node,
			   const char *name, uint32_t max)
{
	uint32_t v = state_get_u32(r, node, name);

	if (v > max) {
		fail(r, node, name, "%u is out of range (at most %u)", v, max);
		return 0;
	}
	return v;
}

void state_get_bytes(struct state_reader *r, int node, const char *name,
		     void *out, size_t len)
{
	const void *p = prop_sized(r, node, name, len);

	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

const void *state_get_blob(struct state_reader *r, int node,
			   const char *name, size_t *len)
{
	int n;
	const void *p = prop(r, node, name, &n);

	*len = p ? (size_t)n : 0;
	return p;
}

const char *state_get_str(struct state_reader *r, int node, const char *name)
{
	int len;
	const char *p = prop(r, node, name, &len);

	if (p && (len < 1 || memchr(p, '\0', len) != p + len - 1)) {
		fail(r, node, name, "not a string");
		return "";
	}
	return p ? p : "";
}

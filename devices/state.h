/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state tree: a flattened device tree (libfdt) that holds a VM's
 * state for snapshots and migration (docs/snapshot.md).  Every part of
 * the VM writes its own node with the state_put_* calls and reads it
 * back with the state_get_* calls.
 *
 * Within a node, properties come first, then child nodes (the device
 * tree's own rule: a property put after a child is an error, -EINVAL).
 *
 * Numbers are big-endian cells as in any device tree: u32 is one cell,
 * u64 two.  Byte strings are raw; a kernel ABI structure is stored as
 * bytes only with its exact size checked on reading.
 *
 * Errors stick: the first failure (no memory while writing; a node or
 * property missing, of the wrong size or out of range while reading) is
 * recorded with its path, every later call does nothing and returns
 * zeros, and the caller checks once at the end.  A tree read from a file
 * is hostile input: nothing read from it is trusted beyond these checks
 * and the range checks each reader makes.
 */
#ifndef WISP_STATE_H
#define WISP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_ERR_MAX	256

struct state_writer {
	void *fdt;		/* libfdt sequential-write buffer, owned */
	size_t size;
	unsigned int depth;
	uint64_t has_child;	/* bit d: the open node at depth d has one */
	int err;		/* 0, or -errno of the first failure */
};

/* Start a tree whose root holds nothing yet.  Returns 0 or -ENOMEM. */
int state_writer_init(struct state_writer *w);

/* Open a child node of the current node; state_end closes it. */
void state_begin(struct state_writer *w, const char *name);
void state_end(struct state_writer *w);

void state_put_u32(struct state_writer *w, const char *name, uint32_t v);
void state_put_u64(struct state_writer *w, const char *name, uint64_t v);
void state_put_bytes(struct state_writer *w, const char *name,
		     const void *data, size_t len);
void state_put_str(struct state_writer *w, const char *name, const char *s);

/*
 * Close the tree (every node must be closed).  Returns 0 with the blob
 * in w->fdt (fdt_totalsize bytes), or the first error (-ENOMEM, -EINVAL).
 */
int state_writer_finish(struct state_writer *w);

/* Free the buffer (after use or on failure). */
void state_writer_free(struct state_writer *w);

struct state_reader {
	const void *fdt;	/* checked by state_reader_init */
	bool failed;
	char err[STATE_ERR_MAX];	/* the first failure, with its path */
};

/*
 * Check @len bytes at @fdt as a whole tree (header, sizes, structure,
 * names, strings) before anything reads it.  Returns 0, or -EINVAL with
 * r->err saying why.  @fdt must stay valid while @r is used.
 */
int state_reader_init(struct state_reader *r, const void *fdt, size_t len);

/* The root node's offset. */
#define STATE_ROOT	0

/* A child node of @parent: its offset, or -1 (recorded as an error). */
int state_node(struct state_reader *r, int parent, const char *name);

/* A child node that may be absent: its offset or -1 (no error). */
int state_node_opt(struct state_reader *r, int parent, const char *name);

/* Does @parent have a property or child called @name? */
bool state_has(struct state_reader *r, int parent, const char *name);

uint32_t state_get_u32(struct state_reader *r, int node, const char *name);
uint64_t state_get_u64(struct state_reader *r, int node, const char *name);

/* A u32 that must be at most @max: a larger one is an error. */
uint32_t state_get_u32_max(struct state_reader *r, int node,
			   const char *name, uint32_t max);

/* Exactly @len bytes into @out (zeroed on any error). */
void state_get_bytes(struct state_reader *r, int node, const char *name,
		     void *out, size_t len);

/* A byte string of any length: points into the tree, or NULL. */
const void *state_get_blob(struct state_reader *r, int node,
			   const char *name, size_t *len);

/* A NUL-terminated string: points into the tree, or "" on error. */
const char *state_get_str(struct state_reader *r, int node, const char *name);

/* Record a reader's own finding (a value out of range) at @node. */
void state_fail(struct state_reader *r, int node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

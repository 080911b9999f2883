/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots (docs/snapshot.md): a directory holding state.dtb, the state
 * tree (devices/state.h) of a paused VM, and memory, its guest RAM as a
 * sparse raw file whose XXH3 checksum the tree carries.  The tree holds
 * its own checksum too, so a flipped byte anywhere is found before
 * anything is built.
 *
 * Taking one (snapshot_save) runs on the event loop with the vCPUs
 * paused.  Restoring one is: snapshot_open (read and check the tree),
 * snapshot_config (the saved command line, with the few options a
 * restore may change), then vm_create() with the snapshot, which calls
 * snapshot_load_memory in place of loading a kernel and
 * snapshot_load_vm once every device and vCPU exists.  Any failure ends
 * in vm_destroy(): no half-restored VM runs.
 */
#ifndef WISP_SNAPSHOT_H
#define WISP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "../devices/state.h"
#include "config.h"
#include "error.h"
#include "memory.h"

#define SNAPSHOT_FORMAT		"wisp-state"
#define SNAPSHOT_VERSION	1
#define SNAPSHOT_TREE_FILE	"state.dtb"
#define SNAPSHOT_MEMORY_FILE	"memory"

struct vm;

struct snapshot_result {
	uint64_t memory_bytes;		/* guest RAM */
	uint64_t written_bytes;		/* of it, not zero: what was written */
	uint64_t ms;			/* from pause to files synced */
};

/*
 * Write a snapshot of @vm, whose vCPUs are parked (vm_pause; @paused:
 * by its user before), into the directory @dir (absolute; made if missing; must not hold a snapshot
 * yet): devices drained first, files written under temporary names,
 * synced, then renamed, state.dtb last.  Returns 0 or -errno with @err
 * set; the VM is left paused either way.  Event loop thread.
 */
int snapshot_save(struct vm *vm, const char *dir, bool paused,
		  struct snapshot_result *res, struct wisp_err *err);

/*
 * Drain every device (nothing in flight, what the guest was told is on
 * disk is on disk) of @vm, vCPUs parked.  Event loop thread.
 */
int snapshot_quiesce(struct vm *vm, struct wisp_err *err);

/*
 * Build @vm's state tree (vCPUs parked, devices quiesced) into @w, with
 * @memory_hash (the memory checksum; 0 when the RAM travels otherwise),
 * whether the VM was @paused by its user (it comes back paused), and
 * the tree's own checksum.  Returns 0 or -errno with @err set.
 */
int snapshot_build_tree(struct state_writer *w, struct vm *vm,
			uint64_t memory_hash, bool paused,
			struct wisp_err *err);

/* Put the checksum of finished tree @fdt into its "checksum" property. */
void snapshot_seal_tree(void *fdt);

struct snapshot {
	void *tree;			/* state.dtb, checked */
	size_t tree_len;
	struct state_reader r;
	int memory_fd;
	int migration_fd;		/* incoming migration, else -1 */
	uint64_t memory_size;
	char **argv;			/* the saved command line, then overrides */
	int argc;
	char *cwd;			/* the saved VM's working directory */
};

/*
 * Open snapshot directory @dir: read state.dtb, check its checksum,
 * structure, format and version, and open memory (its size checked).
 * Returns 0 or -errno with @err set (66 for a missing file, 65 for bad
 * content).  Call snapshot_close() either way.
 */
int snapshot_open(struct snapshot *s, const char *dir, struct wisp_err *err);

/*
 * Check s->tree (s->tree_len bytes, from a file or a migration stream):
 * structure, format, version and checksum; set s->memory_size.  @what
 * names the source in messages.  Returns 0 or -EINVAL with @err set.
 */
int snapshot_check_tree(struct snapshot *s, const char *what,
			struct wisp_err *err);

/*
 * The configuration of the VM to restore: the saved "wisp run" command
 * line followed by @argv (argv[0] is "restore", argv[1] the directory),
 * which may only hold options that do not change the VM's hardware
 * (--name, --api, --console, --timeout, --pin, --metrics-listen[-any],
 * --exit-stats, --verbose).  Returns 0 or -errno with @err set.
 */
int snapshot_config(struct snapshot *s, int argc, char **argv,
		    struct vm_config *cfg, struct wisp_err *err);

/*
 * The memory file's checksum over @size bytes of RAM: XXH3 of every page
 * that is not all zeros, each after its index as a 64-bit number.
 */
uint64_t snapshot_memory_hash(const uint8_t *ram, uint64_t size);

/*
 * Does the VM in @s have @cpus vCPUs, @disks disks, @nets network
 * devices and a balloon when @balloon?  Returns 0, or -EINVAL with @err
 * naming the first difference.
 */
int snapshot_check_shape(struct snapshot *s, unsigned int cpus,
			 unsigned int disks, unsigned int nets, bool balloon,
			 struct wisp_err *err);

/* Fill guest RAM from the memory file and verify its checksum. */
int snapshot_load_memory(struct snapshot *s, struct guest_mem *mem,
			 struct wisp_err *err);

/*
 * Load into @vm (built from snapshot_config's configuration, vCPUs
 * created, nothing run yet) the irqchip, PIT and clock, then the vCPUs,
 * then the devices (a device's load may deliver a pending MSI).
 */
int snapshot_load_vm(struct snapshot *s, struct vm *vm,
		     struct wisp_err *err);

/*
 * The MAC address network device @index had (a default one derives from
 * the VM's name, which a restore may change).  Returns 0, or -ENOENT.
 */
int snapshot_net_mac(struct snapshot *s, unsigned int index, uint8_t mac[6]);

/* Was the VM in @s paused by its user when it was saved? */
bool snapshot_paused(struct snapshot *s);

void snapshot_close(struct snapshot *s);

/* The options "wisp restore" takes beside those of its directory. */
void snapshot_print_restore_help(void *out);

#endif

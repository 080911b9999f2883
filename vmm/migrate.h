/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration over TCP (docs/snapshot.md).  The source pre-copies
 * guest RAM while the guest runs, in rounds driven by KVM's dirty page
 * log and wisp's own record of the pages devices wrote; once a round's
 * leftovers would go within the downtime target, it pauses the VM,
 * drains its devices, sends the last pages and the state tree (as a
 * snapshot holds it), and waits for the destination to say it runs.
 * Any failure before that answer leaves the source running.
 *
 * The stream: "WISPMIG1", then records of a 24-byte header (type, flags,
 * two 64-bit words) and a payload:
 *   HELLO  a small state tree: the configuration and the MAC addresses,
 *          which the destination ACCEPTs (or refuses) before any RAM
 *   PAGES  offset and length in RAM, then the bytes
 *   STATE  the state tree
 * and the destination's messages: a 32-bit kind and a length, then a
 * one-line text: RELEASE (open the shared disks' locks; the source answers
 * RELEASED, one 32-bit word), then READY (the VM built, its vCPUs parked)
 * or a failure's exit status with its message.  To READY the source
 * answers GO and exits: the destination runs only after GO, so the two
 * never both run (a GO lost on the way stops both).  Every length and
 * offset from the peer is checked.
 */
#ifndef WISP_MIGRATE_H
#define WISP_MIGRATE_H

#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

#define MIGRATE_DEFAULT_DOWNTIME_MS	300
#define MIGRATE_MAX_ROUNDS		30

struct vm;
struct snapshot;
struct vm_config;

/*
 * Parse "tcp:HOST:PORT" (an IPv4 address, [IPv6] or localhost, port
 * 1-65535).  Returns 0 or -EINVAL with @msg set.
 */
int migrate_parse_uri(const char *uri, struct sockaddr_storage *sa,
		      socklen_t *len, char *msg, size_t msg_len);

struct migrate_result {
	unsigned int rounds;
	uint64_t bytes_sent;		/* RAM bytes, all rounds */
	uint64_t total_ms;		/* from the request to the answer */
	uint64_t downtime_ms;		/* from the pause to the answer */
};

/*
 * Called on the event loop's thread when the migration ends: @ret 0 (the
 * destination runs; the caller stops this VM) or -errno with @msg.
 */
typedef void (*migrate_done_fn)(void *ctx, int ret, const char *msg,
				const struct migrate_result *res);

/*
 * Start migrating @vm to @uri with a downtime target of @downtime_ms:
 * pre-copy on a thread of its own, then the last phase on the event
 * loop.  Returns 0 (@done is called later) or -errno with @err set.  One
 * at a time.  Event loop thread.
 */
int migrate_start(struct vm *vm, const char *uri, unsigned int downtime_ms,
		  migrate_done_fn done, void *ctx, struct wisp_err *err);

/* End a migration under way (the VM is going away).  Joins its thread. */
void migrate_abort(struct vm *vm);

/*
 * Destination: wait on cfg->incoming for one source, read its HELLO into
 * @s (s->migration_fd set), check that @cfg fits it (RAM, vCPUs, disks,
 * network devices, balloon) and say so.  Returns 0, or -errno with @err
 * set (answer it with migrate_answer).  Before vm_create().
 */
int migrate_accept(const struct vm_config *cfg, struct snapshot *s,
		   struct wisp_err *err);

/*
 * Destination, inside vm_create: receive RAM into @vm's memory and then
 * the state tree, which replaces s->tree (checked as a snapshot's).
 */
int migrate_receive(struct snapshot *s, struct vm *vm, struct wisp_err *err);

/*
 * Destination, before opening the disks: have the source let go of
 * them (it holds their locks until then, and takes them back if this
 * side fails).
 */
int migrate_take_disks(struct snapshot *s, struct wisp_err *err);

/* Destination: tell the source this side failed, and why. */
void migrate_answer(struct snapshot *s, const struct wisp_err *err);

/*
 * Destination, the VM built and its vCPUs parked: say READY and wait for
 * the source's GO (after which the source never runs again).  Returns 0
 * (resume the VM) or -errno with @err set (the VM must not run).
 */
int migrate_confirm(struct snapshot *s, struct wisp_err *err);

#endif

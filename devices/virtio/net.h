/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net on a tap interface.
 *
 * This header starts with the --net option and opening the tap (both
 * beside the device, architecture.md rule 9), then the device.  Frames
 * move between the guest's queues and the tap on the device's I/O thread
 * (the event loop): TX is gathered straight from guest memory, up to 32
 * frames per io_uring_enter (or one writev per frame: tx=writev, or when
 * io_uring is unavailable); RX is read into a per-queue buffer and copied
 * into the guest's receive buffers, so a frame's length is known before
 * any guest buffer is used.
 */
#ifndef WISP_DEVICES_VIRTIO_NET_H
#define WISP_DEVICES_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../host.h"
#include "../pci.h"
#include "../state.h"

#define NET_MAX_QUEUE_PAIRS	8
#define NET_MTU_MIN		68
#define NET_MTU_MAX		65535

/* What --net asked for: exactly one of @tap and @bridge is non-empty. */
struct net_options {
	char tap[IFNAMSIZ];		/* tap=NAME */
	char bridge[IFNAMSIZ];		/* bridge=BR: wisp creates the tap */
	bool has_mac;
	uint8_t mac[6];
	unsigned int queues;		/* queue pairs; 0: not given (1) */
	unsigned int mtu;		/* 0: not given */
	bool tx_writev;			/* tx=writev: no io_uring batches */
};

#define NET_OPTIONS_HELP \
	"tap=NAME|bridge=BR[,mac=MAC][,queues=N][,mtu=N][,tx=uring|writev]"

/*
 * Parse @spec ("tap=tap0,mac=02:00:00:00:00:01") into @o.  On a malformed
 * spec returns -EINVAL with a one-line message (without "--net: ") in
 * @msg.  Touches nothing on the host.  Any thread.
 */
int net_parse_options(const char *spec, struct net_options *o, char *msg,
		      size_t msg_len);

/*
 * A locally administered unicast MAC: derived from the VM's @name and the
 * device's @index (stable across runs) when @name is non-empty, else
 * random.
 */
void net_default_mac(const char *name, unsigned int index, uint8_t mac[6]);

/* The opened tap: one fd per queue pair. */
struct net_tap {
	char ifname[IFNAMSIZ];
	unsigned int n_fds;
	int fds[NET_MAX_QUEUE_PAIRS];
};

/*
 * Open (or, with the rights, create) the tap @o names, or create one and
 * attach it to @o->bridge: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with a
 * 12-byte header, IFF_MULTI_QUEUE and one fd per pair when @o->queues > 1
 * (an existing tap without multi-queue gets one pair and a warning in
 * @warn, else @warn is ""), non-blocking, no receive offloads yet.  A tap
 * wisp created is brought up (and given @o->mtu); it disappears with the
 * last fd.  Errors, with a one-line message in @msg: -EPERM no right to
 * use or create it, -ENODEV no such bridge, -errno otherwise.
 */
int net_open_tap(const struct net_options *o, struct net_tap *t, char *msg,
		 size_t msg_len, char *warn, size_t warn_len);
void net_close_tap(struct net_tap *t);

/* ---- the device ---------------------------------------------------------------- */

#define NET_DEVICE_ID		1	/* virtio device ID */
#define NET_QUEUE_SIZE		256
#define NET_CONFIG_SIZE		12
#define NET_HDR_SIZE		12	/* struct virtio_net_hdr_v1 */
#define NET_MAX_FRAME		65550	/* bytes after the header, either way */

/* Counters (what was dropped, and why: bad-inputs.md row 25). */
struct net_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_short;		/* fewer bytes than the header */
	uint64_t tx_oversize;		/* more than NET_MAX_FRAME */
	uint64_t tx_bad_header;		/* offload the driver did not negotiate */
	uint64_t tx_bad_buffer;		/* writable or outside guest RAM */
	uint64_t tx_errors;		/* the tap refused it */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_no_fit;		/* larger than the buffers could take */
	uint64_t rx_bad_buffer;		/* returned unused: too small, readable,
					   outside guest RAM */
	uint64_t rx_quiesce_drops;	/* read, not delivered, at a snapshot */
};

struct net_dev;

/*
 * Create a virtio-net device with MAC @mac on @tap (opened by
 * net_open_tap() for @o, or any fds that carry one frame per read and
 * write with the 12-byte header in front; the device owns them from here
 * on, on failure too).  Sets up the PCI transport and watches the queues
 * on the event loop.  Returns NULL with a one-line message in @msg and
 * *@err = -errno.  Construction thread; then add net_pci_device() to the
 * PCI host.
 */
struct net_dev *net_create(const struct host_services *hs,
			   const struct net_options *o, const uint8_t mac[6],
			   struct net_tap *tap, char *msg, size_t msg_len,
			   int *err);

struct pci_device *net_pci_device(struct net_dev *dev);

/* The counters so far, summed over the queue pairs.  The I/O thread. */
void net_get_stats(struct net_dev *dev, struct net_stats *s);

/* Is the link up (the tap still there)? */
bool net_link_up(struct net_dev *dev);

/*
 * Tell the network where the guest is now, after a restore or a
 * migration (as QEMU's self-announce does, with no help from the guest):
 * one broadcast RARP request (RFC 903) from the device's MAC, asking for
 * that MAC, NET_ANNOUNCE_LEN bytes after a zero header, written to the tap
 * of pair 0, so that switches and bridges learn the port it is behind.
 * Returns 0, -ENETDOWN with the tap gone, or -errno from the write
 * (-EAGAIN: the tap is full, nothing sent).  Any thread.
 */
#define NET_ANNOUNCE_LEN	60	/* the Ethernet minimum; RARP takes 42 */
int net_announce(struct net_dev *dev);

/*
 * Snapshots.  net_quiesce: on the loop's thread, vCPUs paused: nothing is
 * left half done.  A TX frame waiting for room in the tap is written if
 * the tap takes it now, else un-popped (the restored or resumed device
 * takes it again); RX chains held for frames to come are un-popped (or,
 * when the ring no longer names them there, returned unused as for a
 * chain too small); a frame read from the tap but not yet delivered is
 * dropped (counted in rx_quiesce_drops, as a full tap would).  Finishes a
 * pending reset, and kicks every queue so that the loop looks again when
 * it runs (--resume).  Returns 0.
 *
 * net_save (after net_quiesce, into the node the caller opened, e.g.
 * "virtio-net@0"): the MAC, queue pairs and MTU (must match), the link
 * state and the pairs the driver set (CTRL_MQ), then the transport.
 *
 * net_load (on a device just made by net_create with the same options,
 * before the loop runs): checks what must match, loads the transport
 * (DRIVER_OK replayed: the tap's offloads are set again), attaches the
 * pairs the driver had set, and sends a configuration interrupt when the
 * link state differs from the snapshot's.  Errors go to @r.
 */
int net_quiesce(struct net_dev *dev);
void net_save(struct net_dev *dev, struct state_writer *w);
void net_load(struct net_dev *dev, struct state_reader *r, int node);

/* Release everything; the event loop no longer runs.  NULL is ignored. */
void net_destroy(struct net_dev *dev);

#endif

// SPDX-License-Identifier: Apache-2.0
/* Prometheus text exposition of a VM's counters (metrics.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct text {
	FILE *f;
	char *buf;
	size_t len;
	const char *name;		/* the VM's, escaped */
};

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static struct json_object *get_array(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* A label value with \, " and newline escaped, in a malloc'd string. */
static char *escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == '\\' || *s == '"') {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *s;
		}
	}
	*p = 0;
	return out;
}

static void family(struct text *t, const char *metric, const char *type,
		   const char *help)
{
	fprintf(t->f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric,
		type);
}

/* One sample: @labels is "" or ",key=\"value\"..." after the name label. */
static void sample(struct text *t, const char *metric, const char *labels,
		   uint64_t v)
{
	fprintf(t->f, "%s{name=\"%s\"%s} %" PRIu64 "\n", metric, t->name,
		labels, v);
}

static void device_label(char *buf, size_t len, const char *id,
			 const char *extra)
{
	char *e = escape(id);

	snprintf(buf, len, ",device=\"%s\"%s", e ? e : "", extra);
	free(e);
}

/* The devices of @kind with their counters, one family at a time. */
static void blk_metrics(struct text *t, struct json_object *devs)
{
	static const char *const ops[] = {
		"read", "write", "flush", "discard", "write_zeroes",
	};
	static const char *const keys[] = {
		"reads", "writes", "flushes", "discards", "write_zeroes",
	};
	size_t i, j, n = devs ? json_object_array_length(devs) : 0;
	char labels[256], extra[64];

	family(t, "wisp_blk_requests_total", "counter",
	       "virtio-blk requests completed, by operation.");
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (strcmp(get_str(d, "kind"), "virtio-blk"))
			continue;
		for (j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
			snprintf(extra, sizeof(extra), ",op=\"%s\"", ops[j]);
			device_label(labels, sizeof(labels),
				     get_str(d, "id"), extra);
			sample(t, "wisp_blk_requests_total", labels,
			       get_u64(d, keys[j]));
		}
	}
	family(t, "wisp_blk_bytes_total", "counter",
	       "virtio-blk bytes moved, by operation.");
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (strcmp(get_str(d, "kind"), "virtio-blk"))
			continue;
		device_label(labels, sizeof(labels), get_str(d, "id"),
			     ",op=\"read\"");
		sample(t, "wisp_blk_bytes_total", labels,
		       get_u64(d, "bytes_read"));
		device_label(labels, sizeof(labels), get_str(d, "id"),
			     ",op=\"write\"");
		sample(t, "wisp_blk_bytes_total", labels,
		       get_u64(d, "bytes_written"));
	}
	family(t, "wisp_blk_errors_total", "counter",
	       "virtio-blk requests completed with an error.");
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (strcmp(get_str(d, "kind"), "virtio-blk"))
			continue;
		device_label(labels, sizeof(labels), get_str(d, "id"), "");
		sample(t, "wisp_blk_errors_total", labels,
		       get_u64(d, "errors"));
	}
}

static void net_metrics(struct text *t, struct json_object *devs)
{
	static const struct {
		const char *metric, *help, *tx, *rx;
	} fams[] = {
		{ "wisp_net_frames_total", "virtio-net frames moved.",
		  "tx_frames", "rx_frames" },
		{ "wisp_net_bytes_total", "virtio-net bytes moved (without the virtio header).",
		  "tx_bytes", "rx_bytes" },
		{ "wisp_net_dropped_total", "virtio-net frames dropped.",
		  "tx_dropped", "rx_dropped" },
	};
	size_t i, f, n = devs ? json_object_array_length(devs) : 0;
	char labels[256];

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(t, fams[f].metric, "counter", fams[f].help);
		for (i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(devs, i);

			if (strcmp(get_str(d, "kind"), "virtio-net"))
				continue;
			device_label(labels, sizeof(labels), get_str(d, "id"),
				     ",direction=\"tx\"");
			sample(t, fams[f].metric, labels, get_u64(d, fams[f].tx));
			device_label(labels, sizeof(labels), get_str(d, "id"),
				     ",direction=\"rx\"");
			sample(t, fams[f].metric, labels, get_u64(d, fams[f].rx));
		}
	}
	family(t, "wisp_net_link_up", "gauge",
	       "1 while the tap is there, 0 once it is gone.");
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (strcmp(get_str(d, "kind"), "virtio-net"))
			continue;
		device_label(labels, sizeof(labels), get_str(d, "id"), "");
		sample(t, "wisp_net_link_up", labels,
		       !strcmp(get_str(d, "link"), "up"));
	}
}

/* KVM's statistics of each vCPU, object @key of its stat: one family. */
static void kvm_metrics(struct text *t, struct json_object *vcpus,
			const char *key, const char *metric, const char *type,
			const char *help)
{
	size_t i, n = vcpus ? json_object_array_length(vcpus) : 0;
	bool any = false;
	char labels[160];

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(vcpus, i);
		struct json_object *k;

		if (!json_object_object_get_ex(c, key, &k) ||
		    !json_object_is_type(k, json_type_object))
			continue;
		json_object_object_foreach(k, stat, v) {
			char *e = escape(stat);

			if (!e)
				continue;
			if (!any)
				family(t, metric, type, help);
			any = true;
			snprintf(labels, sizeof(labels),
				 ",vcpu=\"%" PRIu64 "\",stat=\"%s\"",
				 get_u64(c, "index"), e);
			free(e);
			sample(t, metric, labels,
			       json_object_is_type(v, json_type_int) ?
			       json_object_get_uint64(v) : 0);
		}
	}
}

static void balloon_metrics(struct text *t, struct json_object *devs)
{
	static const struct {
		const char *metric, *type, *help, *key;
	} fams[] = {
		{ "wisp_balloon_target_bytes", "gauge",
		  "What the host asked the guest's balloon to hold.", "target_bytes" },
		{ "wisp_balloon_actual_bytes", "gauge",
		  "What the guest says its balloon holds.", "actual_bytes" },
		{ "wisp_balloon_discarded_bytes_total", "counter",
		  "Guest RAM given back to the host by the balloon and free page reporting.",
		  "discarded_bytes" },
		{ "wisp_balloon_reported_bytes_total", "counter",
		  "Guest RAM the guest reported free.", "reported_bytes" },
	};
	size_t i, f, n = devs ? json_object_array_length(devs) : 0;
	char labels[128];

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		bool any = false;

		for (i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(devs, i);

			if (strcmp(get_str(d, "kind"), "virtio-balloon"))
				continue;
			if (!any)
				family(t, fams[f].metric, fams[f].type,
				       fams[f].help);
			any = true;
			device_label(labels, sizeof(labels), get_str(d, "id"),
				     "");
			sample(t, fams[f].metric, labels,
			       get_u64(d, fams[f].key));
		}
	}
}

char *metrics_format(struct json_object *stat)
{
	static const char *const reasons[] = {
		"io", "mmio", "hlt", "shutdown", "system_event", "other",
	};
	struct text t = { 0 };
	struct json_object *vcpus = get_array(stat, "vcpus");
	struct json_object *devs = get_array(stat, "devices");
	struct json_object *mem = NULL, *v;
	size_t i, j, n = vcpus ? json_object_array_length(vcpus) : 0;
	char labels[128], *name;
	double uptime = 0;
	bool ok;

	if (json_object_object_get_ex(stat, "uptime_s", &v))
		uptime = json_object_get_double(v);
	json_object_object_get_ex(stat, "memory", &mem);
	name = escape(get_str(stat, "name"));
	t.f = open_memstream(&t.buf, &t.len);
	if (!name || !t.f) {
		free(name);
		if (t.f)
			fclose(t.f);
		free(t.buf);
		return NULL;
	}
	t.name = name;
	family(&t, "wisp_up", "gauge", "1: the VM is there.");
	sample(&t, "wisp_up", "", 1);
	family(&t, "wisp_paused", "gauge", "1 while the VM is paused.");
	sample(&t, "wisp_paused", "", !strcmp(get_str(stat, "state"), "paused"));
	family(&t, "wisp_uptime_seconds", "gauge",
	       "Seconds since wisp started the VM.");
	fprintf(t.f, "wisp_uptime_seconds{name=\"%s\"} %.3f\n", name, uptime);
	family(&t, "wisp_vcpu_exits_total", "counter",
	       "KVM exits of each vCPU, by reason.");
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(vcpus, i);
		struct json_object *ex = NULL;

		json_object_object_get_ex(c, "exits", &ex);
		for (j = 0; j < sizeof(reasons) / sizeof(reasons[0]); j++) {
			snprintf(labels, sizeof(labels),
				 ",vcpu=\"%" PRIu64 "\",reason=\"%s\"",
				 get_u64(c, "index"), reasons[j]);
			sample(&t, "wisp_vcpu_exits_total", labels,
			       ex ? get_u64(ex, reasons[j]) : 0);
		}
	}
	kvm_metrics(&t, vcpus, "kvm_counters", "wisp_kvm_vcpu_stat_total",
		    "counter", "KVM's own cumulative statistics of each vCPU (KVM_GET_STATS_FD).");
	kvm_metrics(&t, vcpus, "kvm_gauges", "wisp_kvm_vcpu_gauge", "gauge",
		    "KVM's own instant and peak statistics of each vCPU.");
	family(&t, "wisp_memory_size_bytes", "gauge", "Guest RAM.");
	sample(&t, "wisp_memory_size_bytes", "",
	       mem ? get_u64(mem, "size_bytes") : 0);
	family(&t, "wisp_memory_resident_bytes", "gauge",
	       "Guest RAM resident on the host.");
	sample(&t, "wisp_memory_resident_bytes", "",
	       mem ? get_u64(mem, "resident_bytes") : 0);
	blk_metrics(&t, devs);
	net_metrics(&t, devs);
	balloon_metrics(&t, devs);
	ok = !ferror(t.f);
	ok = !fclose(t.f) && ok;
	free(name);
	if (!ok) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

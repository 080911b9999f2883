// SPDX-License-Identifier: Apache-2.0
/*
 * The control protocol's request parser with every error path, the
 * --metrics-listen address parser, and the Prometheus formatter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "metrics.h"

static int parse(const char *line, struct control_request *req, char *msg)
{
	return control_parse_request(line, strlen(line), req, msg, 200);
}

static void expect_error(const char *line, const char *fragment)
{
	struct control_request req;
	char msg[200] = "";

	assert_int_equal(parse(line, &req, msg), -EINVAL);
	if (!strstr(msg, fragment))
		fail_msg("'%s': message '%s' lacks '%s'", line, msg, fragment);
}

static void test_requests(void **state)
{
	struct control_request req;
	char msg[200];

	(void)state;
	assert_int_equal(parse("{\"version\":1,\"request\":\"info\"}", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_INFO);
	assert_int_equal(parse("{\"request\":\"pause\"}", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_PAUSE);
	assert_int_equal(parse(" { \"request\" : \"resume\" } ", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_RESUME);
	assert_int_equal(parse("{\"request\":\"shutdown\"}", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_SHUTDOWN);
	assert_true(req.timeout == CONTROL_SHUTDOWN_TIMEOUT);
	assert_int_equal(parse("{\"request\":\"shutdown\",\"timeout\":2.5}", &req, msg), 0);
	assert_true(req.timeout == 2.5);
	assert_int_equal(parse("{\"request\":\"shutdown\",\"timeout\":0}", &req, msg), 0);
	assert_true(req.timeout == 0);
	assert_int_equal(parse("{\"request\":\"stop\"}", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_STOP);
	assert_int_equal(parse("{\"request\":\"stat\"}", &req, msg), 0);
	assert_int_equal(req.op, CONTROL_STAT);
	assert_false(req.prometheus);
	assert_int_equal(parse("{\"request\":\"stat\",\"format\":\"prometheus\"}", &req, msg), 0);
	assert_true(req.prometheus);
	assert_int_equal(parse("{\"request\":\"stat\",\"format\":\"json\"}", &req, msg), 0);
	assert_false(req.prometheus);
}

static void test_bad_requests(void **state)
{
	char *longline;

	(void)state;
	/* Malformed JSON, and JSON that is no object. */
	expect_error("", "malformed request");
	expect_error("{", "malformed request");
	expect_error("{\"request\":\"info\"", "malformed request");
	expect_error("{\"request\":'info'}", "malformed request");
	expect_error("{\"request\":\"info\"} {}", "malformed request");
	expect_error("{\"request\":\"info\",}", "malformed request");
	expect_error("[\"info\"]", "not a JSON object");
	expect_error("\"info\"", "not a JSON object");
	expect_error("42", "not a JSON object");
	expect_error("{\"request\":\"\xff\"}", "malformed request");
	/* Nesting deeper than the parser's limit. */
	expect_error("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		     "malformed request");
	/* The request and the version. */
	expect_error("{}", "missing \"request\"");
	expect_error("{\"request\":7}", "missing \"request\"");
	expect_error("{\"request\":null}", "missing \"request\"");
	expect_error("{\"request\":\"hibernate\"}", "unknown request 'hibernate'");
	expect_error("{\"version\":2,\"request\":\"info\"}", "unsupported version 2");
	expect_error("{\"version\":\"1\",\"request\":\"info\"}", "'version' must be an integer");
	expect_error("{\"version\":1.0,\"request\":\"info\"}", "'version' must be an integer");
	/* Fields: unknown, or of the wrong type or range. */
	expect_error("{\"request\":\"info\",\"verbose\":true}", "unknown field 'verbose' for request 'info'");
	expect_error("{\"request\":\"pause\",\"timeout\":1}", "unknown field 'timeout' for request 'pause'");
	expect_error("{\"request\":\"shutdown\",\"timeout\":\"5\"}", "'timeout' must be a number");
	expect_error("{\"request\":\"shutdown\",\"timeout\":-1}", "'timeout' must be a number");
	expect_error("{\"request\":\"shutdown\",\"timeout\":86401}", "'timeout' must be a number");
	expect_error("{\"request\":\"shutdown\",\"timeout\":1e999}", "'timeout' must be a number");
	expect_error("{\"request\":\"stat\",\"format\":\"xml\"}", "'format' must be");
	expect_error("{\"request\":\"stat\",\"format\":1}", "'format' must be");
	/* Over the line limit. */
	longline = malloc(CONTROL_LINE_MAX + 2);
	assert_non_null(longline);
	memset(longline, ' ', CONTROL_LINE_MAX + 1);
	longline[CONTROL_LINE_MAX + 1] = 0;
	memcpy(longline, "{\"request\":\"info\"}", 18);
	expect_error(longline, "longer than 4096 bytes");
	free(longline);
}

static void test_listen(void **state)
{
	struct sockaddr_storage sa;
	socklen_t len;
	char msg[160];

	(void)state;
	assert_int_equal(control_parse_listen("127.0.0.1:9100", &sa, &len, msg, sizeof(msg)), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(control_parse_listen("[::1]:9100", &sa, &len, msg, sizeof(msg)), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(control_parse_listen("localhost:1", &sa, &len, msg, sizeof(msg)), 0);
	assert_true(control_listen_is_loopback("127.0.0.1:9100"));
	assert_true(control_listen_is_loopback("127.3.2.1:9100"));
	assert_true(control_listen_is_loopback("[::1]:80"));
	assert_true(control_listen_is_loopback("localhost:80"));
	assert_false(control_listen_is_loopback("0.0.0.0:9100"));
	assert_false(control_listen_is_loopback("10.0.0.1:9100"));
	assert_false(control_listen_is_loopback("[::]:9100"));
	assert_int_equal(control_parse_listen("127.0.0.1", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "is not ADDR:PORT"));
	assert_int_equal(control_parse_listen("127.0.0.1:0", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen("127.0.0.1:65536", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen("127.0.0.1:9x", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen(":9100", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen("::1:9100", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen("[::1:9100", &sa, &len, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(control_parse_listen("example.com:80", &sa, &len, msg, sizeof(msg)), -EINVAL);
}

static void expect_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_metrics(void **state)
{
	static const char stat[] =
		"{\"name\":\"we\\\"b\",\"pid\":7,\"state\":\"paused\",\"uptime_s\":1.5,"
		"\"vcpus\":[{\"index\":0,\"exits\":{\"io\":120,\"mmio\":4,\"hlt\":0,"
		"\"shutdown\":0,\"system_event\":0,\"other\":1},\"exits_total\":125},"
		"{\"index\":1,\"exits\":{\"io\":3},\"kvm_counters\":{\"exits\":307},"
		"\"kvm_gauges\":{\"blocking\":1}}],"
		"\"memory\":{\"size_bytes\":536870912,\"resident_bytes\":20123648},"
		"\"devices\":[{\"id\":\"blk0\",\"kind\":\"virtio-blk\",\"reads\":10,"
		"\"writes\":2,\"flushes\":1,\"bytes_read\":40960,\"bytes_written\":8192,"
		"\"errors\":0},{\"id\":\"net0\",\"kind\":\"virtio-net\",\"link\":\"down\","
		"\"tx_frames\":5,\"tx_bytes\":420,\"rx_frames\":3,\"rx_bytes\":300,"
		"\"tx_dropped\":2,\"rx_dropped\":1}]}";
	struct json_object *o = json_tokener_parse(stat);
	char *text;

	(void)state;
	assert_non_null(o);
	text = metrics_format(o);
	json_object_put(o);
	assert_non_null(text);
	expect_line(text, "# TYPE wisp_vcpu_exits_total counter");
	expect_line(text, "wisp_up{name=\"we\\\"b\"} 1");
	expect_line(text, "wisp_paused{name=\"we\\\"b\"} 1");
	expect_line(text, "wisp_uptime_seconds{name=\"we\\\"b\"} 1.500");
	expect_line(text, "wisp_vcpu_exits_total{name=\"we\\\"b\",vcpu=\"0\",reason=\"io\"} 120");
	expect_line(text, "wisp_vcpu_exits_total{name=\"we\\\"b\",vcpu=\"0\",reason=\"other\"} 1");
	expect_line(text, "wisp_vcpu_exits_total{name=\"we\\\"b\",vcpu=\"1\",reason=\"io\"} 3");
	expect_line(text, "wisp_vcpu_exits_total{name=\"we\\\"b\",vcpu=\"1\",reason=\"mmio\"} 0");
	expect_line(text, "wisp_memory_resident_bytes{name=\"we\\\"b\"} 20123648");
	expect_line(text, "# TYPE wisp_kvm_vcpu_stat_total counter");
	expect_line(text, "wisp_kvm_vcpu_stat_total{name=\"we\\\"b\",vcpu=\"1\",stat=\"exits\"} 307");
	expect_line(text, "wisp_kvm_vcpu_gauge{name=\"we\\\"b\",vcpu=\"1\",stat=\"blocking\"} 1");
	expect_line(text, "wisp_blk_requests_total{name=\"we\\\"b\",device=\"blk0\",op=\"read\"} 10");
	expect_line(text, "wisp_blk_requests_total{name=\"we\\\"b\",device=\"blk0\",op=\"discard\"} 0");
	expect_line(text, "wisp_blk_bytes_total{name=\"we\\\"b\",device=\"blk0\",op=\"write\"} 8192");
	expect_line(text, "wisp_net_frames_total{name=\"we\\\"b\",device=\"net0\",direction=\"tx\"} 5");
	expect_line(text, "wisp_net_dropped_total{name=\"we\\\"b\",device=\"net0\",direction=\"rx\"} 1");
	expect_line(text, "wisp_net_link_up{name=\"we\\\"b\",device=\"net0\"} 0");
	/* Each family's HELP and TYPE once, before its samples. */
	assert_int_equal(strstr(text, "# TYPE wisp_net_frames_total") <
			 strstr(text, "wisp_net_frames_total{"), 1);
	assert_ptr_equal(strstr(strstr(text, "# TYPE wisp_up ") + 1, "# TYPE wisp_up "), NULL);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

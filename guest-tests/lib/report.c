// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>

#include "desc.h"
#include "libc.h"
#include "printf.h"
#include "report.h"

static int nr_pass, nr_fail, nr_skip;

static struct {
	const char *file;
	int line;
	const char *name;
} where;

/* Drops "guest-tests/" so locations read "x86/foo.c:42". */
static const char *short_file(const char *file)
{
	static const char prefix[] = "guest-tests/";
	size_t n = sizeof(prefix) - 1;

	for (const char *p = file; *p; p++)
		if (!strncmp(p, prefix, n))
			return p + n;
	return file;
}

void report_mark(const char *file, int line, const char *name)
{
	where.file = short_file(file);
	where.line = line;
	if (name)
		where.name = name;
}

const char *report_where(void)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "in '%s' after %s:%d",
		 where.name ? where.name : "-",
		 where.file ? where.file : "boot", where.line);
	return buf;
}

static void vreport(const char *tag, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("%s: %s\n", tag, msg);
}

bool report_at(const char *file, int line, bool ok, const char *fmt, ...)
{
	va_list ap;

	report_mark(file, line, NULL);
	__atomic_add_fetch(ok ? &nr_pass : &nr_fail, 1, __ATOMIC_SEQ_CST);
	va_start(ap, fmt);
	vreport(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return ok;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&nr_skip, 1, __ATOMIC_SEQ_CST);
	va_start(ap, fmt);
	vreport("SKIP", fmt, ap);
	va_end(ap);
}

int report_failures(void)
{
	return __atomic_load_n(&nr_fail, __ATOMIC_SEQ_CST);
}

void __noreturn report_summary(void)
{
	int fail = report_failures();

	printf("SUMMARY: %d passed, %d failed, %d skipped\n",
	       __atomic_load_n(&nr_pass, __ATOMIC_SEQ_CST), fail,
	       __atomic_load_n(&nr_skip, __ATOMIC_SEQ_CST));
	exit_guest(fail ? 1 : 0);
}

void __noreturn exit_port_failed(void)
{
	printf("FAIL: the exit port did not stop the VM; resetting\n");
	outb(0x64, 0xfe);
	triple_fault();
}

void __noreturn exit_guest(u32 status)
{
	outl(EXIT_PORT, status);
	exit_port_failed();
}

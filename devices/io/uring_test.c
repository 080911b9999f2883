// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring engine: the shared behavioural suite, then what is its
 * own: restrictions in force, the io-wq bound, and the fallback to the
 * sync engine when io_uring_setup is refused (a seccomp filter in a child
 * process plays the kernel without io_uring).  Where this host has no
 * io_uring at all, the io_uring cases are skipped with the reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "engine_suite_test.h"

static const struct engine_kind kinds[] = {
	{ "io_uring", io_engine_create_uring, 0 },
	{ "io_uring_1_worker", io_engine_create_uring, 1 },
};

/* An io_uring engine, or the test is skipped with the reason. */
static struct io_engine *uring_or_skip(const struct io_engine_config *cfg)
{
	struct io_engine *e;
	int ret = io_engine_create_uring(cfg, &e);

	if (ret) {
		print_message("io_uring unavailable: %s (%s): skipped\n",
			      io_engine_fallback_reason(ret), strerror(-ret));
		skip();
	}
	return e;
}

/* This process's io_uring fds, the last one in *@last. */
static unsigned int uring_fds(int *last)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], link[64];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!strcmp(link, "anon_inode:[io_uring]")) {
			*last = atoi(de->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static int raw_register(int fd, unsigned int op, void *arg, unsigned int nr)
{
	return syscall(__NR_io_uring_register, fd, op, arg, nr) < 0 ? -errno : 0;
}

/*
 * The ring refuses register operations other than file updates: asked
 * for a probe (harmless), it says EACCES.  A ring without restrictions
 * answers the same question.
 */
static void test_restrictions(void **state)
{
	struct io_engine_config cfg = { .depth = 8 };
	uint8_t probe[sizeof(struct io_uring_probe) +
		      256 * sizeof(struct io_uring_probe_op)];
	struct io_engine *e;
	int fd = -1, plain;

	(void)state;
	assert_int_equal(uring_fds(&fd), 0);
	e = uring_or_skip(&cfg);
	assert_string_equal(e->name, "io_uring");
	assert_int_equal(e->flags,
			 IO_ENGINE_RESTRICTED | IO_ENGINE_WORKERS_BOUND);
	assert_int_equal(uring_fds(&fd), 1);
	memset(probe, 0, sizeof(probe));
	assert_int_equal(raw_register(fd, IORING_REGISTER_PROBE, probe, 256),
			 -EACCES);
	assert_int_equal(raw_register(fd, IORING_REGISTER_EVENTFD, &fd, 1),
			 -EACCES);
	io_engine_destroy(e);
	assert_int_equal(uring_fds(&fd), 0);

	/* The control: an ordinary ring answers. */
	{
		struct io_uring_params p = { 0 };

		plain = (int)syscall(__NR_io_uring_setup, 4, &p);
		assert_true(plain >= 0);
		memset(probe, 0, sizeof(probe));
		assert_int_equal(raw_register(plain, IORING_REGISTER_PROBE,
					      probe, 256), 0);
		close(plain);
	}
}

struct iowq_run {
	struct io_engine *e;
	int fd;
	unsigned int max_workers;	/* io-wq threads seen at once */
	const char *failed;		/* what went wrong (no cmocka here) */
};

/* io-wq workers of thread @tid, named "iou-wrk-<tid>". */
static unsigned int count_iowq(pid_t tid)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	char want[16];
	unsigned int n = 0;

	assert_non_null(d);
	snprintf(want, sizeof(want), "iou-wrk-%d", (int)tid);
	while ((de = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
		n += !strcmp(comm, want);
	}
	closedir(d);
	return n;
}

/*
 * The owner thread (a fresh one: io-wq belongs to the submitting task)
 * queues writes and data syncs, which io_uring always hands to io-wq,
 * and counts the io-wq threads while they run.  cmocka's asserts belong
 * to the main thread: failures are recorded in @run.
 */
static void *iowq_owner(void *arg)
{
	enum { N = 48, SZ = 65536 };
	struct iowq_run *run = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	uint8_t *buf = malloc(SZ);
	unsigned int i, got = 0, polls = 0;

	if (!buf) {
		run->failed = "malloc";
		goto out;
	}
	memset(buf, 0x5a, SZ);
	if (io_engine_add_file(run->e, run->fd, 0)) {
		run->failed = "add_file";
		goto out;
	}
	for (i = 0; i < N; i++) {
		struct iovec v = { buf, SZ };
		struct io_request w = { .op = IO_OP_WRITE,
					.offset = (uint64_t)i * SZ,
					.iov = &v, .iovcnt = 1 };
		struct io_request s = { .op = IO_OP_DSYNC };

		if (io_engine_submit(run->e, i % 2 ? &s : &w)) {
			run->failed = "submit";
			goto out;
		}
	}
	if (io_engine_flush(run->e)) {
		run->failed = "flush";
		goto out;
	}
	while (got < N && polls++ < 100000) {
		struct pollfd p = { .fd = io_engine_fd(run->e),
				    .events = POLLIN };
		struct io_completion c[N];
		unsigned int k = count_iowq(tid);
		int n;

		if (k > run->max_workers)
			run->max_workers = k;
		poll(&p, 1, 1);
		n = io_engine_reap(run->e, c, N);
		for (i = 0; n > 0 && i < (unsigned int)n; i++)
			if (c[i].res < 0)
				run->failed = "a request failed";
		if (n > 0)
			got += (unsigned int)n;
	}
	if (got < N)
		run->failed = "requests did not complete";
out:
	io_engine_destroy(run->e);
	free(buf);
	return NULL;
}

static unsigned int iowq_measure(unsigned int workers)
{
	struct io_engine_config cfg = { .depth = 64, .workers = workers };
	struct iowq_run run = { 0 };
	char path[PATH_MAX];
	pthread_t t;

	suite_temp(path, sizeof(path), "/tmp", &run.fd);
	unlink(path);
	run.e = uring_or_skip(&cfg);
	assert_int_equal(pthread_create(&t, NULL, iowq_owner, &run), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (run.failed)
		fail_msg("io-wq run: %s", run.failed);
	close(run.fd);
	return run.max_workers;
}

/* No more io-wq threads than asked for, ever. */
static void test_iowq_bounded(void **state)
{
	unsigned int two, many;

	(void)state;
	two = iowq_measure(2);
	many = iowq_measure(IO_MAX_WORKERS);
	print_message("io-wq threads seen: %u with a bound of 2, %u with %u\n",
		      two, many, IO_MAX_WORKERS);
	assert_true(two <= 2);
}

/* In a child: io_uring_setup fails with @err, as the kernel may say. */
static int child_without_uring(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | ((unsigned int)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};
	struct io_engine_config cfg = { .kind = IO_ENGINE_AUTO };
	struct io_engine *e;
	uint8_t buf[512], back[512];
	char path[PATH_MAX];
	int uring_err = 0, fd, file;

	/* x86-64 syscall numbers only: enough for a test filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 10;
	if (io_engine_create(&cfg, &e, &uring_err))
		return 11;
	if (strcmp(e->name, "sync") || uring_err != -err)
		return 12;
	snprintf(path, sizeof(path), "/tmp/wisp-io-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 13;
	unlink(path);
	file = io_engine_add_file(e, fd, 0);
	memset(buf, 0x42, sizeof(buf));
	{
		struct iovec v = { buf, sizeof(buf) }, r = { back, sizeof(back) };
		struct io_request w = { .op = IO_OP_WRITE, .iov = &v,
					.iovcnt = 1, .file = (unsigned int)file };
		struct io_request rd = { .op = IO_OP_READ, .iov = &r,
					 .iovcnt = 1, .file = (unsigned int)file };
		struct io_completion c;
		struct pollfd p = { .fd = io_engine_fd(e), .events = POLLIN };

		if (io_engine_submit(e, &w) || io_engine_flush(e) ||
		    poll(&p, 1, SUITE_WAIT_MS) != 1 ||
		    io_engine_reap(e, &c, 1) != 1 || c.res != sizeof(buf))
			return 14;
		if (io_engine_submit(e, &rd) || io_engine_flush(e) ||
		    poll(&p, 1, SUITE_WAIT_MS) != 1 ||
		    io_engine_reap(e, &c, 1) != 1 || c.res != sizeof(back) ||
		    memcmp(buf, back, sizeof(buf)))
			return 15;
	}
	io_engine_destroy(e);
	close(fd);
	/* Asked for io_uring and nothing else, the error comes back. */
	cfg.kind = IO_ENGINE_URING;
	if (io_engine_create(&cfg, &e, &uring_err) != -err || uring_err)
		return 16;
	return 0;
}

static void expect_fallback(int err)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(child_without_uring(err));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	print_message("without io_uring (%s): %s; the sync engine took over\n",
		      strerror(err), io_engine_fallback_reason(-err));
}

static void test_fallback(void **state)
{
	(void)state;
	expect_fallback(ENOSYS);
	expect_fallback(EPERM);
}

/* Where io_uring works, io_engine_create() picks it. */
static void test_auto_picks_uring(void **state)
{
	struct io_engine_config cfg = { .kind = IO_ENGINE_AUTO };
	struct io_engine *e;
	int uring_err = 1;

	(void)state;
	io_engine_destroy(uring_or_skip(&cfg));
	assert_int_equal(io_engine_create(&cfg, &e, &uring_err), 0);
	assert_int_equal(uring_err, 0);
	assert_string_equal(e->name, "io_uring");
	io_engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restrictions),
		cmocka_unit_test(test_iowq_bounded),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_auto_picks_uring),
	};
	int fails = cmocka_run_group_tests_name("io_uring_engine", tests, NULL,
						NULL);
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fails += engine_suite_run(&kinds[i]);
	return fails;
}

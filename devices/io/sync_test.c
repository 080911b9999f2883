// SPDX-License-Identifier: Apache-2.0
/*
 * The sync engine: the shared behavioural suite with four workers and
 * with one, and its worker pool.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>

#include "engine_suite_test.h"

static const struct engine_kind kinds[] = {
	{ "io_sync", io_engine_create_sync, 0 },
	{ "io_sync_1_worker", io_engine_create_sync, 1 },
};

/* Threads of this process whose name is @name. */
static unsigned int count_threads(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	unsigned int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;	/* gone meanwhile */
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
		n += !strcmp(comm, name);
	}
	closedir(d);
	return n;
}

/* The pool has exactly the threads asked for (at most depth), then none. */
static void test_workers_bounded(void **state)
{
	struct io_engine_config cfg = { .depth = 16, .workers = 3 };
	struct io_engine *e;
	char path[PATH_MAX];
	unsigned int i;
	int fd;

	(void)state;
	suite_temp(path, sizeof(path), "/tmp", &fd);
	unlink(path);
	assert_int_equal(count_threads("wisp-io"), 0);
	assert_int_equal(io_engine_create_sync(&cfg, &e), 0);
	assert_string_equal(e->name, "sync");
	assert_int_equal(e->flags, IO_ENGINE_WORKERS_BOUND);
	assert_int_equal(count_threads("wisp-io"), 3);
	assert_int_equal(io_engine_add_file(e, fd, 0), 0);
	for (i = 0; i < 16; i++) {
		struct io_request req = { .op = IO_OP_DSYNC };

		assert_int_equal(io_engine_submit(e, &req), 0);
	}
	assert_int_equal(io_engine_flush(e), 0);
	assert_int_equal(count_threads("wisp-io"), 3);
	io_engine_destroy(e);
	assert_int_equal(count_threads("wisp-io"), 0);

	cfg.depth = 2;
	cfg.workers = 8;
	assert_int_equal(io_engine_create_sync(&cfg, &e), 0);
	assert_int_equal(count_threads("wisp-io"), 2);
	io_engine_destroy(e);
	cfg.workers = IO_MAX_WORKERS + 1;
	assert_int_equal(io_engine_create_sync(&cfg, &e), -EINVAL);
	close(fd);
}

/* io_engine_create() gives the sync engine when told to, no fallback. */
static void test_create_forced(void **state)
{
	struct io_engine_config cfg = { .kind = IO_ENGINE_SYNC };
	struct io_engine *e;
	int uring_err = 1;

	(void)state;
	assert_int_equal(io_engine_create(&cfg, &e, &uring_err), 0);
	assert_int_equal(uring_err, 0);
	assert_string_equal(e->name, "sync");
	io_engine_destroy(e);
	cfg.kind = (enum io_engine_kind)7;
	assert_int_equal(io_engine_create(&cfg, &e, &uring_err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workers_bounded),
		cmocka_unit_test(test_create_forced),
	};
	int fails = cmocka_run_group_tests_name("io_sync_pool", tests, NULL,
						NULL);
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		fails += engine_suite_run(&kinds[i]);
	return fails;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads bench/floor.bpf.c's programs on a cgroup v2 root and drains their
 * ring buffer every millisecond until SIGTERM, then prints how many records
 * it read and how many the programs could not reserve.
 *   floor_load OBJECT CGROUP_DIR [empty]   prints "ready" once attached;
 *                                          empty: the hooks send nothing
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int count_record(void *ctx, void *data, size_t len)
{
	(*(unsigned long long *)ctx)++;
	return 0;
}

/* The programs' `send_records` (their only constant, at offset 0), before load. */
static int set_send_records(struct bpf_object *obj, bool value)
{
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	size_t size = 0;
	const void *init = rodata ? bpf_map__initial_value(rodata, &size) : NULL;
	unsigned char copy[64];

	if (!init || size < sizeof(value) || size > sizeof(copy)) {
		fprintf(stderr, "floor_load: no send_records in the object\n");
		return -1;
	}
	memcpy(copy, init, size);
	memcpy(copy, &value, sizeof(value));
	return bpf_map__set_initial_value(rodata, copy, size);
}

int main(int argc, char **argv)
{
	unsigned long long records = 0, drops = 0;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *rb;
	struct bpf_map *bss;
	int cg, zero = 0;

	bool empty = argc == 4 && !strcmp(argv[3], "empty");

	if (argc != 3 && !empty) {
		fprintf(stderr, "usage: floor_load OBJECT CGROUP_DIR [empty]\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (obj && empty && set_send_records(obj, false))
		return 1;
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor_load: cannot load %s\n", argv[1]);
		return 1;
	}
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		fprintf(stderr, "floor_load: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach_cgroup(prog, cg)) {
			fprintf(stderr, "floor_load: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")),
			      count_record, &records, NULL);
	if (!rb) {
		fprintf(stderr, "floor_load: cannot open the ring buffer\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	/* The programs never wake us (like portwarden's, mostly): poll on a timer. */
	while (!stop) {
		ring_buffer__consume(rb);
		usleep(1000);
	}
	ring_buffer__consume(rb);
	bss = bpf_object__find_map_by_name(obj, ".bss");
	if (bss)
		bpf_map_lookup_elem(bpf_map__fd(bss), &zero, &drops);
	printf("records %llu drops %llu\n", records, drops);
	return 0;
}

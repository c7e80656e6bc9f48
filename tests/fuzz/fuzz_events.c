// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: ring-buffer records, as the kernel (or anything that can
 * write to the map) hands them to the reader. The input is a stream of
 * records, each "1 byte of length + bytes" (length byte with the top bit set:
 * a full struct pw_event). Every record goes through events__decode and, when
 * accepted, through daemon__ev_from_record into a ledger with the daemon's
 * operations, and out as a JSON line. Invariants checked after each record:
 * every decoded record was counted exactly once (received or rejected), and
 * the ledger's socket count matches its index and its per-port lists.
 */
#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "events.h"
#include "journal.h"
#include "ledger.h"
#include "log.h"

static void check_ledger(struct ledger *l)
{
	struct ledger_port *p, *tmp;
	size_t n = 0;

	HASH_ITER(hh, l->ports, p, tmp) {
		unsigned int k = 0;

		for (struct ledger_sock *s = p->socks; s; s = s->port_next) {
			if (s->port != p || memcmp(&s->key, &p->key, sizeof(p->key)))
				abort();
			k++;
		}
		if (!k || k != p->n_socks)
			abort();
		n += k;
	}
	if (n != l->n_socks || HASH_COUNT(l->socks) != l->n_socks || l->n_socks > l->max_socks)
		abort();
}

static void apply(struct ledger *l, struct pw_ev *ev)
{
	json_t *o;

	switch (ev->type) {
	case PW_REC_BIND:
	case PW_REC_INVENTORY:
		ledger__upsert(l, &ev->sock, NULL);
		break;
	case PW_REC_LISTEN:
		if (ledger__set_listening(l, ev->sock.cookie, true, ev->wall_ns)) {
			ev->sock.listening = true;
			ledger__upsert(l, &ev->sock, NULL);
		}
		break;
	case PW_REC_UNLISTEN:
		ledger__set_listening(l, ev->sock.cookie, false, ev->wall_ns);
		break;
	case PW_REC_CLOSE:
		ledger__remove(l, ev->sock.cookie);
		break;
	default:
		break;
	}
	/* The journal's view of the event must always serialise. */
	o = json_pack("{s:s, s:s, s:o}", "event", events__type_name(ev->type), "source",
		      events__source_name(ev->source), "socket", pw_json_sock(&ev->sock));
	if (!o)
		abort();
	pw_json_set_time(o, "time", ev->wall_ns);
	free(json_dumps(o, JSON_COMPACT));
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger *l = ledger__new(64); /* small: eviction is exercised too */
	struct pw_event_stats st = {};
	uint64_t decoded = 0;
	size_t off = 0;

	pw_log_level = (enum pw_log_level)-1;
	if (!l)
		return 0;
	while (off < size) {
		size_t len = data[off] & 0x80 ? sizeof(struct pw_event) : data[off];
		uint8_t *rec_buf;
		uint64_t sum = 0;
		struct pw_event rec;
		struct pw_ev ev;

		off++;
		if (len > size - off)
			len = size - off;
		/* An exact-size copy: ASan catches a decoder reading past len. */
		rec_buf = malloc(len ? len : 1);
		if (!rec_buf)
			break;
		memcpy(rec_buf, data + off, len);
		off += len;
		decoded++;
		if (!events__decode(rec_buf, len, &rec, &st)) {
			if (rec.hdr.size != len || !rec.hdr.type || rec.hdr.type >= PW_REC_TYPE_MAX)
				abort();
			daemon__ev_from_record(&rec, &ev);
			apply(l, &ev);
			check_ledger(l);
		}
		free(rec_buf);
		for (int i = 0; i <= PW_SRC_MAX; i++)
			sum += st.received[i] + st.rejected[i];
		if (sum != decoded)
			abort();
	}
	ledger__free(l);
	return 0;
}

/* The schedule: fees and allowance renewals (docs/charging.md, "Schedule").
 *
 * Periods are calendar months in UTC. A full pass over the active subscribers
 * runs once per month (at the first call after the month began, and at
 * start); an account first used between passes is brought up to date then
 * (ocs_account_touch), so a new subscriber never waits for the next month.
 * Only the current month is charged: a month that passed while koryod was
 * stopped is not charged afterwards. */
#include <errno.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "hlr/registry.h"
#include "ocs/ocs_internal.h"

struct pass {
	uint64_t *imsi;
	size_t n, cap;
	bool oom;
};

static void collect(void *ctx, const struct hlr_subscr_info *info)
{
	struct pass *p = ctx;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		uint64_t *v = realloc(p->imsi, cap * sizeof(*v));
		if (!v) {
			p->oom = true;
			return;
		}
		p->imsi = v;
		p->cap = cap;
	}
	p->imsi[p->n++] = info->rec.imsi;
}

int ocs_run_schedule(struct ocs *o)
{
	int64_t now = clock_now();
	int32_t month = ocs_month_of(now);
	ocs_ops_prune(o, now);
	if (!o->n_plans || !o->reg || month == o->schedule_month)
		return 0;

	/* The IMSIs first (the registry's list holds the store's lock, which a
	 * touch may need), a page at a time. */
	struct hlr_subscr_filter filter = {
	    .class_id = -1, .status = HLR_STATUS_ACTIVE, .city_id = -1};
	struct pass pass = {0};
	uint64_t after = 0;
	for (;;) {
		size_t before = pass.n;
		int n = hlr_subscr_list(o->reg, &filter, after, 1000, collect, &pass);
		if (n < 0 || pass.oom) {
			free(pass.imsi);
			return n < 0 ? -EIO : -ENOMEM;
		}
		if (pass.n == before)
			break;
		after = pass.imsi[pass.n - 1];
	}
	struct ocs_batch_wait w;
	ocs_batch_wait_init(&w);
	int changed = 0, rc = 0;
	for (size_t i = 0; i < pass.n && rc == 0; i++) {
		struct ocs_account *a;
		if (ocs_account_of_imsi(o, pass.imsi[i], &a) != 0)
			continue;
		pthread_mutex_lock(&a->mu);
		int rows = ocs_account_touch(o, a, now, &w);
		pthread_mutex_unlock(&a->mu);
		if (rows < 0)
			rc = rows;
		else if (rows > 0)
			changed++;
	}
	free(pass.imsi);
	int wrc = ocs_batch_wait_end(&w);
	if (rc == 0 && wrc == 0) {
		o->schedule_month = month;
		if (changed)
			LOGN("ocs", "schedule: %d accounts charged or renewed", changed);
		return changed;
	}
	LOGE("ocs", "schedule: a fee or renewal was not written; the pass runs again");
	return -EIO;
}

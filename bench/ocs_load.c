/* ocs_load: credit operations per second with durability, for
 * bench/charging_bench.sh (docs/performance.md, "Charging").
 *
 * A standalone program over koryod's own pieces: it opens a fresh store in
 * DIR (store.sync full by default, as koryod ships), installs the operator
 * profile (plans, tariffs and its subscribers.csv: the Koryolink profile has
 * 900), starts the group commit and opens online charging over it, as koryod
 * does. Every subscriber's account is brought up to date and given enough
 * credit and allowance that no request is refused for credit during the run
 * (setup, not measured).
 *
 * Then T driver threads keep N call sessions in flight, each one after the
 * other over the subscribers: ocs_call_reserve (slice 0, towards the
 * subscriber's own class, "class:NAME", which every Koryolink plan rates),
 * then, once that is durable, ocs_call_end with U seconds used. An operation
 * is counted when its done callback reports it granted: charging answers
 * only once the ledger row is committed (and fsynced with store.sync full).
 * A done callback runs on the group commit's thread; it hands the session
 * back to a driver thread through a queue, as koryod's SIP workers get their
 * answers through their mailboxes.
 *
 * After W seconds of warm-up, operations completing in the next S seconds
 * are counted: operations per second (reserves and ends; sessions per second
 * is half of it), latency p50 / p99 / max (request to durable answer, as the
 * driver sees it), the group commit's transactions (fsyncs) per second and
 * rows per transaction, and this process's CPU seconds. Then no new session
 * starts; the ones in flight are finished (at most 10 s).
 *
 * usage: koryo-bench-ocs-load -d DIR -p PROFILE [-n N] [-s S] [-w W] [-t T]
 *                             [-u U] [-y full|normal]
 *
 * The last line of output is machine-readable (key=value), for
 * charging_bench.sh. Exit status 0, or 1 if the setup fails or an operation
 * was refused or failed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/log.h"
#include "hlr/profile.h"
#include "hlr/registry.h"
#include "ocs/ocs.h"
#include "store/store.h"
#include "store/store_queue.h"

#define MAX_SUBS 100000

/* --- time --------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* --- subscribers ----------------------------------------------------------------------- */

struct sub {
	uint64_t imsi;
	char dest[40]; /* "class:NAME" of its plan's class */
};
static struct sub *subs;
static unsigned n_subs;

/* Reads the IMSIs of the profile's subscribers.csv (its first column). */
static int read_subscribers(const char *profile)
{
	char path[4200], line[2048];
	snprintf(path, sizeof(path), "%s/subscribers.csv", profile);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "ocs_load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	subs = calloc(MAX_SUBS, sizeof(*subs));
	if (!subs) {
		fclose(f);
		return -1;
	}
	bool header = true;
	while (fgets(line, sizeof(line), f) && n_subs < MAX_SUBS) {
		if (header) {
			header = false;
			continue;
		}
		char *end;
		uint64_t imsi = strtoull(line, &end, 10);
		if (end != line && *end == ',')
			subs[n_subs++].imsi = imsi;
	}
	fclose(f);
	if (!n_subs) {
		fprintf(stderr, "ocs_load: %s has no subscribers\n", path);
		return -1;
	}
	return 0;
}

/* --- waiting for setup operations ------------------------------------------------------ */

struct waitgroup {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending, failed;
	char reason[128];
};

static void wg_done(void *ctx, const struct ocs_grant *g)
{
	struct waitgroup *w = ctx;
	pthread_mutex_lock(&w->mu);
	if (g->status != 0 && !w->failed++)
		snprintf(w->reason, sizeof(w->reason), "%s", g->reason);
	if (--w->pending == 0)
		pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* --- plans: currency and class by name ------------------------------------------------ */

struct plan_ref {
	char name[32], currency[4], class_name[32];
};
static struct plan_ref plans[32];
static unsigned n_plans;

static void plan_one(void *ctx, const struct ocs_plan_info *p)
{
	(void)ctx;
	if (n_plans >= sizeof(plans) / sizeof(plans[0]))
		return;
	struct plan_ref *r = &plans[n_plans++];
	snprintf(r->name, sizeof(r->name), "%s", p->name);
	snprintf(r->currency, sizeof(r->currency), "%s", p->currency ? p->currency : "");
	snprintf(r->class_name, sizeof(r->class_name), "%s", p->class_name ? p->class_name : "");
}

static const struct plan_ref *plan_find(const char *name)
{
	for (unsigned i = 0; i < n_plans; i++)
		if (strcmp(plans[i].name, name) == 0)
			return &plans[i];
	return NULL;
}

/* Every account up to date (initial credit, the month's fee and allowance),
 * then credit in its plan's currency and allowance seconds far beyond what
 * the run can use. */
static int credit_everyone(struct ocs *o)
{
	ocs_plan_list(o, plan_one, NULL);
	struct waitgroup w = {.pending = 1};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	int rc = 0;
	for (unsigned i = 0; i < n_subs && rc == 0; i++) {
		char acct[24], op[64];
		snprintf(acct, sizeof(acct), "%" PRIu64, subs[i].imsi);
		struct ocs_account_info info;
		if (ocs_account_info(o, acct, &info) != 0) {
			fprintf(stderr, "ocs_load: subscriber %s has no account\n", acct);
			rc = -1;
			break;
		}
		const struct plan_ref *p = plan_find(info.plan);
		if (!p || !p->class_name[0]) {
			fprintf(stderr, "ocs_load: subscriber %s: plan '%s' has no class\n", acct,
			        info.plan);
			rc = -1;
			break;
		}
		snprintf(subs[i].dest, sizeof(subs[i].dest), "class:%s", p->class_name);
		snprintf(op, sizeof(op), "ocs-load-credit-%s", acct);
		pthread_mutex_lock(&w.mu);
		w.pending++;
		pthread_mutex_unlock(&w.mu);
		if (ocs_adjust(o, op, acct, p->currency[0] ? p->currency : NULL,
		               p->currency[0] ? INT64_C(1000000000000) : 0, INT64_C(1000000000), 0,
		               "ocs_load: credit for the benchmark", wg_done, &w) != 0) {
			fprintf(stderr, "ocs_load: out of memory\n");
			rc = -1;
		}
	}
	pthread_mutex_lock(&w.mu);
	if (--w.pending)
		while (w.pending)
			pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	if (rc == 0 && w.failed) {
		fprintf(stderr, "ocs_load: %u adjustments failed: %s\n", w.failed, w.reason);
		rc = -1;
	}
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}

/* --- the load ----------------------------------------------------------------------------- */

enum step { STEP_RESERVE, STEP_END };

struct slot {
	struct slot *next; /* in the completion queue */
	enum step step;
	char session[48];
	unsigned sub;
	uint64_t t0, t1; /* request sent, answer received (ns) */
	int status;
	char reason[128];
};

static struct ocs *ocs;
static struct slot *slots;
static unsigned used_seconds = 20;

/* Completions, from the done callbacks to the driver threads. */
static pthread_mutex_t cq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cq_cv = PTHREAD_COND_INITIALIZER;
static struct slot *cq_head, *cq_tail;

static atomic_uint_fast64_t next_session, next_sub;
static atomic_bool stopping;
static atomic_uint outstanding;         /* slots with an operation under way */
static _Atomic uint64_t t_begin, t_end; /* the measured window (ns); 0 before */

/* Per driver thread: what it counted in the window. */
struct driver {
	pthread_t thread;
	uint64_t ops, reserves, ends, refused;
	uint32_t *lat; /* microseconds */
	size_t n_lat, cap_lat;
	char first_reason[128];
};

static void on_answer(void *ctx, const struct ocs_grant *g)
{
	struct slot *s = ctx;
	s->t1 = now_ns();
	s->status = g->status;
	if (g->status != 0)
		snprintf(s->reason, sizeof(s->reason), "%s", g->reason);
	pthread_mutex_lock(&cq_mu);
	s->next = NULL;
	if (cq_tail)
		cq_tail->next = s;
	else
		cq_head = s;
	cq_tail = s;
	pthread_cond_signal(&cq_cv);
	pthread_mutex_unlock(&cq_mu);
}

/* Starts the next operation of slot s (a new session after an end). Returns
 * false when there is nothing more to do for it. */
static bool issue(struct slot *s, bool new_session)
{
	if (new_session) {
		if (atomic_load(&stopping))
			return false;
		s->step = STEP_RESERVE;
		s->sub = (unsigned)(atomic_fetch_add(&next_sub, 1) % n_subs);
		snprintf(s->session, sizeof(s->session), "ocs-load-%" PRIu64,
		         (uint64_t)atomic_fetch_add(&next_session, 1));
	} else {
		s->step = STEP_END;
	}
	s->t0 = now_ns();
	int rc = s->step == STEP_RESERVE
	             ? ocs_call_reserve(ocs, s->session, 0, subs[s->sub].imsi, subs[s->sub].dest,
	                                on_answer, s)
	             : ocs_call_end(ocs, s->session, used_seconds, on_answer, s);
	if (rc != 0) {
		fprintf(stderr, "ocs_load: %s failed: %d\n",
		        s->step == STEP_RESERVE ? "ocs_call_reserve" : "ocs_call_end", rc);
		return false;
	}
	return true;
}

/* A refusal counts whenever it comes; a grant only in the window. */
static void record(struct driver *d, const struct slot *s)
{
	if (s->status != 0) {
		if (!d->refused++)
			snprintf(d->first_reason, sizeof(d->first_reason), "%s", s->reason);
		return;
	}
	uint64_t b = atomic_load(&t_begin), e = atomic_load(&t_end);
	if (!b || s->t1 < b || s->t1 >= e)
		return;
	d->ops++;
	if (s->step == STEP_RESERVE)
		d->reserves++;
	else
		d->ends++;
	if (d->n_lat == d->cap_lat) {
		size_t cap = d->cap_lat ? d->cap_lat * 2 : 65536;
		uint32_t *v = realloc(d->lat, cap * sizeof(*v));
		if (!v)
			return;
		d->lat = v;
		d->cap_lat = cap;
	}
	uint64_t us = (s->t1 - s->t0) / 1000;
	d->lat[d->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void *driver_main(void *arg)
{
	struct driver *d = arg;
	for (;;) {
		pthread_mutex_lock(&cq_mu);
		while (!cq_head && atomic_load(&outstanding))
			pthread_cond_wait(&cq_cv, &cq_mu);
		struct slot *s = cq_head;
		if (s) {
			cq_head = s->next;
			if (!cq_head)
				cq_tail = NULL;
		}
		pthread_mutex_unlock(&cq_mu);
		if (!s)
			break; /* nothing queued, nothing under way */
		record(d, s);
		/* A refused reservation has no session to end: a new one starts. */
		bool next =
		    s->step == STEP_RESERVE && s->status == 0 ? issue(s, false) : issue(s, true);
		if (!next && atomic_fetch_sub(&outstanding, 1) == 1) {
			pthread_mutex_lock(&cq_mu);
			pthread_cond_broadcast(&cq_cv);
			pthread_mutex_unlock(&cq_mu);
		}
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void sleep_until(uint64_t t)
{
	for (uint64_t n; (n = now_ns()) < t;) {
		uint64_t d = t - n;
		struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u),
		                      .tv_nsec = (long)(d % 1000000000u)};
		nanosleep(&ts, NULL);
	}
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: koryo-bench-ocs-load -d DIR -p PROFILE [-n IN_FLIGHT] [-s SECONDS]\n"
	        "                            [-w WARMUP] [-t THREADS] [-u USED] [-y full|normal]\n"
	        "  -d DIR      directory for the store (a new ocs-load.db in it)\n"
	        "  -p PROFILE  operator profile directory (profiles/koryolink)\n"
	        "  -n N        call sessions in flight [256]\n"
	        "  -s S        seconds measured [10]\n"
	        "  -w W        seconds of warm-up before [1]\n"
	        "  -t T        driver threads [2]\n"
	        "  -u U        seconds used per call, given at its end [20]\n"
	        "  -y SYNC     store.sync: full (fsync every commit) or normal [full]\n");
	return 2;
}

static int die(const char *what)
{
	fprintf(stderr, "ocs_load: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *profile = NULL;
	unsigned inflight = 256, seconds = 10, warmup = 1, threads = 2;
	bool sync_full = true;
	int c;
	while ((c = getopt(argc, argv, "d:p:n:s:w:t:u:y:h")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'p':
			profile = optarg;
			break;
		case 'n':
			inflight = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warmup = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			used_seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'y':
			if (strcmp(optarg, "full") != 0 && strcmp(optarg, "normal") != 0)
				return usage();
			sync_full = strcmp(optarg, "full") == 0;
			break;
		default:
			return usage();
		}
	}
	if (!dir || !profile || optind != argc || inflight < 1 || inflight > 100000 ||
	    seconds < 1 || seconds > 3600 || warmup > 600 || threads < 1 || threads > 64 ||
	    used_seconds > 60)
		return usage();
	log_set_level(LOG_WARN);
	if (read_subscribers(profile) != 0)
		return 1;

	/* --- the store, the profile, the registry, charging: as koryod opens them */
	char path[4200], err[512];
	snprintf(path, sizeof(path), "%s/ocs-load.db", dir);
	struct store *st;
	struct store_options so = {.sync_full = sync_full};
	if (store_open(path, &so, &st, err, sizeof(err)) != 0)
		return die(err);
	store_lock(st);
	int rc = store_migrate(st, 0);
	store_unlock(st);
	if (rc != 0)
		return die("schema migration failed");
	if (hlr_profile_install(st, profile, err, sizeof(err)) != 0 ||
	    ocs_install(st, profile, err, sizeof(err)) != 0)
		return die(err);
	struct hlr_profile prof = {0};
	struct hlr_registry *reg;
	uint8_t key[32] = {0x6b, 0x6f, 0x72, 0x79, 0x6f};
	if (hlr_profile_load(st, &prof) != 0 || hlr_registry_open(st, &prof, key, &reg) != 0)
		return die("cannot open the registry");
	snprintf(path, sizeof(path), "%s/subscribers.csv", profile);
	FILE *f = fopen(path, "r");
	uint64_t imported = 0;
	struct hlr_import_error ie;
	if (!f || hlr_subscr_import_csv(reg, f, &imported, &ie, NULL, NULL) != 0)
		return die("cannot import the profile's subscribers");
	fclose(f);
	struct store_queue *q;
	if (store_queue_start(st, &q) != 0)
		return die("cannot start the group commit");
	hlr_registry_set_queue(reg, q);
	if (ocs_open(st, q, reg, &ocs) != 0)
		return die("cannot open charging");
	if (ocs_run_schedule(ocs) < 0)
		return die("the charging schedule failed");
	if (credit_everyone(ocs) != 0)
		return 1;

	/* --- the load */
	slots = calloc(inflight, sizeof(*slots));
	struct driver *drivers = calloc(threads, sizeof(*drivers));
	if (!slots || !drivers)
		return die("out of memory");
	struct store_queue_stats qs0, qs1;
	uint64_t t_start = now_ns();
	atomic_store(&outstanding, inflight);
	for (unsigned i = 0; i < inflight; i++)
		if (!issue(&slots[i], true))
			return die("cannot start the sessions");
	for (unsigned i = 0; i < threads; i++)
		if (pthread_create(&drivers[i].thread, NULL, driver_main, &drivers[i]) != 0)
			return die("cannot start a driver thread");
	sleep_until(t_start + (uint64_t)warmup * 1000000000u);
	store_queue_get_stats(q, &qs0);
	double cpu0 = cpu_seconds();
	uint64_t t0 = now_ns(), t1 = t0 + (uint64_t)seconds * 1000000000u;
	atomic_store(&t_end, t1);
	atomic_store(&t_begin, t0);
	sleep_until(t1);
	store_queue_get_stats(q, &qs1);
	double cpu1 = cpu_seconds();
	atomic_store(&stopping, true);

	/* --- draining, bounded: the slots and the group commit's thread */
	uint64_t deadline = now_ns() + 10 * 1000000000ull;
	while (atomic_load(&outstanding) && now_ns() < deadline) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&outstanding)) {
		fprintf(stderr, "ocs_load: %u sessions still unanswered 10 s after the run\n",
		        (unsigned)atomic_load(&outstanding));
		return 1; /* threads still wait: exit without tearing down */
	}
	for (unsigned i = 0; i < threads; i++)
		pthread_join(drivers[i].thread, NULL);

	uint64_t ops = 0, reserves = 0, ends = 0, refused = 0;
	size_t n_lat = 0;
	const char *why = NULL;
	for (unsigned i = 0; i < threads; i++) {
		ops += drivers[i].ops;
		reserves += drivers[i].reserves;
		ends += drivers[i].ends;
		refused += drivers[i].refused;
		n_lat += drivers[i].n_lat;
		if (drivers[i].refused && !why)
			why = drivers[i].first_reason;
	}
	uint32_t *lat = malloc((n_lat ? n_lat : 1) * sizeof(*lat));
	if (!lat)
		return die("out of memory");
	size_t k = 0;
	for (unsigned i = 0; i < threads; i++) {
		memcpy(lat + k, drivers[i].lat, drivers[i].n_lat * sizeof(*lat));
		k += drivers[i].n_lat;
		free(drivers[i].lat);
	}
	qsort(lat, n_lat, sizeof(*lat), cmp_u32);
	double span = (double)(t1 - t0) / 1e9;
	double p50 = n_lat ? lat[(size_t)(n_lat * 0.50)] / 1000.0 : 0;
	double p99 = n_lat ? lat[(size_t)(n_lat * 0.99)] / 1000.0 : 0;
	double pmax = n_lat ? lat[n_lat - 1] / 1000.0 : 0;
	uint64_t batches = qs1.batches - qs0.batches, rows = qs1.statements - qs0.statements;
	double cpu = cpu1 - cpu0;
	printf("store %s (sync %s), %u subscribers, %u sessions in flight, %u driver threads, "
	       "%u s measured after %u s\n",
	       dir, sync_full ? "full" : "normal", n_subs, inflight, threads, seconds, warmup);
	printf("durable credit operations: %.0f/s (reserve %.0f/s, end %.0f/s; sessions %.0f/s)\n",
	       ops / span, reserves / span, ends / span, ends / span);
	printf("latency request to durable answer: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", p50,
	       p99, pmax);
	printf("group commit: %.0f transactions/s, %.1f rows each; CPU %.2f s (%.0f operations per "
	       "CPU-second)\n",
	       batches / span, batches ? (double)rows / batches : 0.0, cpu,
	       cpu > 0 ? ops / cpu : 0);
	if (refused)
		printf("refused or failed: %" PRIu64 " (the first: %s)\n", refused, why);
	printf("RESULT ops_per_s=%.0f reserve_per_s=%.0f end_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
	       "max_ms=%.3f commits_per_s=%.0f rows_per_commit=%.1f cpu_s=%.2f refused=%" PRIu64
	       " inflight=%u seconds=%u\n",
	       ops / span, reserves / span, ends / span, p50, p99, pmax, batches / span,
	       batches ? (double)rows / batches : 0.0, cpu, refused, inflight, seconds);
	fflush(stdout);
	free(lat);

	store_queue_stop(q);
	hlr_registry_set_queue(reg, NULL);
	ocs_close(ocs);
	hlr_registry_close(reg);
	hlr_profile_free(&prof);
	store_close(st);
	free(slots);
	free(drivers);
	free(subs);
	return refused ? 1 : 0;
}

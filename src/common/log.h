#pragma once
/* Logging to stderr with levels and categories. One line per call, written with a
 * single write so lines from several threads never interleave. Never pass a secret. */

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "debug", "info", "notice", "warn" or "error". Returns 0, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

void log_write(enum log_level level, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOGD(cat, ...)                                                                             \
	do {                                                                                       \
		if (log_get_level() <= LOG_DEBUG)                                                  \
			log_write(LOG_DEBUG, cat, __VA_ARGS__);                                    \
	} while (0)
#define LOGI(cat, ...) log_write(LOG_INFO, cat, __VA_ARGS__)
#define LOGN(cat, ...) log_write(LOG_NOTICE, cat, __VA_ARGS__)
#define LOGW(cat, ...) log_write(LOG_WARN, cat, __VA_ARGS__)
#define LOGE(cat, ...) log_write(LOG_ERROR, cat, __VA_ARGS__)

/* Subscriber identities: parsing and formatting of IMSI, MSISDN, ICCID, status. */
#include "hlr/subscr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"

static const char *const status_names[HLR_STATUS_COUNT] = {"pending", "active", "suspended",
                                                           "terminated"};

const char *hlr_status_name(enum hlr_subscr_status s)
{
	return (unsigned)s < HLR_STATUS_COUNT ? status_names[s] : "unknown";
}

int hlr_status_parse(const char *name, enum hlr_subscr_status *out)
{
	for (unsigned i = 0; i < HLR_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum hlr_subscr_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t digits_value(const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

/* IMSIs start with an MCC, whose first digit is never 0: the number keeps them. */
int hlr_imsi_parse(const char *s, uint64_t *out)
{
	if (!str_is_digits(s, 14, 15) || s[0] == '0')
		return -EINVAL;
	*out = digits_value(s, strlen(s));
	return 0;
}

void hlr_imsi_format(uint64_t imsi, char *out)
{
	sprintf(out, "%" PRIu64, imsi);
}

/* E.164 numbers start with a country code, never 0. */
int hlr_msisdn_parse(const char *s, uint64_t *out)
{
	if (*s == '+')
		s++;
	if (!str_is_digits(s, 5, 15) || s[0] == '0')
		return -EINVAL;
	*out = digits_value(s, strlen(s));
	return 0;
}

int hlr_iccid_parse(const char *s, struct hlr_iccid *out)
{
	if (!str_is_digits(s, 18, 22))
		return -EINVAL;
	size_t n = strlen(s);
	out->len = (uint8_t)n;
	out->hi = digits_value(s, n - 18);
	out->lo = digits_value(s + n - 18, 18);
	return 0;
}

void hlr_iccid_format(const struct hlr_iccid *iccid, char *out)
{
	if (iccid->len == 0) {
		out[0] = '\0';
		return;
	}
	char tmp[48];
	sprintf(tmp, "%05" PRIu64 "%018" PRIu64, iccid->hi, iccid->lo);
	/* tmp has 23 digits; keep the last len of them. */
	size_t n = strlen(tmp);
	strcpy(out, tmp + (n - iccid->len));
}

bool hlr_iccid_eq(const struct hlr_iccid *a, const struct hlr_iccid *b)
{
	return a->hi == b->hi && a->lo == b->lo && a->len == b->len;
}

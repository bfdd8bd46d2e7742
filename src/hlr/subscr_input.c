#include "hlr/subscr_input.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "crypto/aka.h"
#include "hlr/sip_cred.h"

const char *const hlr_subscr_field_names[] = {
    "imsi",        "msisdn",       "iccid", "class", "status", "name", "id_document",
    "nationality", "city",         "k",     "op",    "opc",    "amf",  "sqn",
    "ind_bitlen",  "sip_password", NULL};

const char **hlr_subscr_fields_slot(struct hlr_subscr_fields *f, const char *name)
{
	const char **slots[] = {&f->imsi,   &f->msisdn, &f->iccid,       &f->class_name,
	                        &f->status, &f->name,   &f->id_document, &f->nationality,
	                        &f->city,   &f->k,      &f->op,          &f->opc,
	                        &f->amf,    &f->sqn,    &f->ind_bitlen,  &f->sip_password};
	for (unsigned i = 0; hlr_subscr_field_names[i]; i++) {
		if (strcmp(hlr_subscr_field_names[i], name) == 0)
			return slots[i];
	}
	return NULL;
}

void hlr_field_error_set(struct hlr_field_error *err, const char *field, const char *fmt, ...)
{
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static bool present(const char *v)
{
	return v && *v;
}

int hlr_field_class(const struct hlr_profile *p, const char *v, uint8_t *out,
                    struct hlr_field_error *err)
{
	int id = present(v) ? hlr_profile_class_find(p, v) : -1;
	if (id < 0) {
		char names[256] = "";
		for (unsigned i = 0; i < p->n_classes; i++) {
			strncat(names, i ? ", " : "", sizeof(names) - strlen(names) - 1);
			strncat(names, p->classes[i].name, sizeof(names) - strlen(names) - 1);
		}
		hlr_field_error_set(err, "class", "must be one of: %s", names);
		return -EINVAL;
	}
	*out = (uint8_t)id;
	return 0;
}

int hlr_field_status(const char *v, uint8_t *out, struct hlr_field_error *err)
{
	enum hlr_subscr_status s;
	if (!present(v) || hlr_status_parse(v, &s) != 0) {
		hlr_field_error_set(err, "status",
		                    "must be one of: pending, active, suspended, terminated");
		return -EINVAL;
	}
	*out = (uint8_t)s;
	return 0;
}

int hlr_field_msisdn(const struct hlr_profile *p, const char *v, uint64_t *out,
                     struct hlr_field_error *err)
{
	(void)p;
	if (hlr_msisdn_parse(v, out) != 0) {
		hlr_field_error_set(err, "msisdn",
		                    "must be an E.164 number: 5 to 15 digits, optional leading +");
		return -EINVAL;
	}
	return 0;
}

int hlr_field_city(const struct hlr_profile *p, const char *v, uint16_t *out,
                   struct hlr_field_error *err)
{
	unsigned id = hlr_profile_city_find(p, v);
	if (id == 0) {
		hlr_field_error_set(err, "city", "unknown city '%.60s'", v);
		return -EINVAL;
	}
	*out = (uint16_t)id;
	return 0;
}

int hlr_field_holder(const char *field, const char *v, char *out, size_t cap,
                     struct hlr_field_error *err)
{
	size_t n = strlen(v);
	if (n >= cap) {
		hlr_field_error_set(err, field, "longer than %zu characters", cap - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			hlr_field_error_set(err, field, "contains a control character");
			return -EINVAL;
		}
	}
	if (strcmp(field, "nationality") == 0 && n &&
	    (n != 3 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' || v[2] < 'A' ||
	     v[2] > 'Z')) {
		hlr_field_error_set(err, field, "must be an ISO 3166 alpha-3 code such as PRK");
		return -EINVAL;
	}
	memcpy(out, v, n + 1);
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	if (!str_is_digits(v, 1, 20))
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(v, NULL, 10);
	if (errno || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int hlr_subscr_input_parse(const struct hlr_profile *p, const struct hlr_subscr_fields *f,
                           unsigned default_ind_bitlen, struct hlr_subscr_new *out,
                           struct hlr_field_error *err)
{
	memset(out, 0, sizeof(*out));
	struct hlr_subscr *r = &out->rec;

	if (!present(f->imsi) || hlr_imsi_parse(f->imsi, &r->imsi) != 0) {
		hlr_field_error_set(err, "imsi",
		                    present(f->imsi) ? "must be 14 or 15 digits" : "is required");
		return -EINVAL;
	}
	char home[8];
	snprintf(home, sizeof(home), "%s%s", p->mcc, p->mnc);
	if (strncmp(f->imsi, home, strlen(home)) != 0) {
		hlr_field_error_set(err, "imsi", "must start with the network's MCC+MNC %s", home);
		return -EINVAL;
	}
	if (present(f->msisdn) && hlr_field_msisdn(p, f->msisdn, &r->msisdn, err) != 0)
		return -EINVAL;
	if (present(f->iccid) && hlr_iccid_parse(f->iccid, &r->iccid) != 0) {
		hlr_field_error_set(err, "iccid", "must be 18 to 22 digits");
		return -EINVAL;
	}
	if (!present(f->class_name)) {
		hlr_field_error_set(err, "class", "is required");
		return -EINVAL;
	}
	if (hlr_field_class(p, f->class_name, &r->class_id, err) != 0)
		return -EINVAL;
	r->status = HLR_STATUS_PENDING;
	if (present(f->status) && hlr_field_status(f->status, &r->status, err) != 0)
		return -EINVAL;
	if (present(f->name) &&
	    hlr_field_holder("name", f->name, out->holder.name, sizeof(out->holder.name), err) != 0)
		return -EINVAL;
	if (present(f->id_document) &&
	    hlr_field_holder("id_document", f->id_document, out->holder.id_document,
	                     sizeof(out->holder.id_document), err) != 0)
		return -EINVAL;
	if (present(f->nationality) &&
	    hlr_field_holder("nationality", f->nationality, out->holder.nationality,
	                     sizeof(out->holder.nationality), err) != 0)
		return -EINVAL;
	if (present(f->city) && hlr_field_city(p, f->city, &r->city_id, err) != 0)
		return -EINVAL;

	if (!present(f->k)) {
		hlr_field_error_set(err, "k", "is required");
		return -EINVAL;
	}
	if (hex_decode(f->k, out->k, 16) != 0) {
		hlr_field_error_set(err, "k", "must be 32 hex digits");
		return -EINVAL;
	}
	if (present(f->op) == present(f->opc)) {
		hlr_field_error_set(err, present(f->op) ? "opc" : "op",
		                    "exactly one of op and opc is required");
		return -EINVAL;
	}
	r->op_is_opc = present(f->opc);
	if (hex_decode(r->op_is_opc ? f->opc : f->op, out->op, 16) != 0) {
		hlr_field_error_set(err, r->op_is_opc ? "opc" : "op", "must be 32 hex digits");
		return -EINVAL;
	}
	if (present(f->amf) && hex_decode(f->amf, r->amf, 2) != 0) {
		hlr_field_error_set(err, "amf", "must be 4 hex digits");
		return -EINVAL;
	}
	if (present(f->sqn) && parse_u64(f->sqn, AKA_SQN_MAX, &r->sqn) != 0) {
		hlr_field_error_set(err, "sqn", "must be an integer from 0 to 2^48-1");
		return -EINVAL;
	}
	uint64_t ind = default_ind_bitlen;
	if (present(f->ind_bitlen) && parse_u64(f->ind_bitlen, 10, &ind) != 0) {
		hlr_field_error_set(err, "ind_bitlen", "must be an integer from 0 to 10");
		return -EINVAL;
	}
	r->ind_bitlen = (uint8_t)ind;
	if (present(f->sip_password)) {
		if (!hlr_sip_password_valid(f->sip_password)) {
			hlr_field_error_set(err, "sip_password",
			                    "must be 8 to 128 printable ASCII characters");
			return -EINVAL;
		}
		if (!r->msisdn) {
			hlr_field_error_set(err, "sip_password",
			                    "needs an msisdn (the digest username)");
			return -EINVAL;
		}
		snprintf(out->sip_password, sizeof(out->sip_password), "%s", f->sip_password);
	}
	return 0;
}

#pragma once
/* Validation of subscriber input, shared by the API (JSON) and the CSV import so
 * that both accept and refuse exactly the same things with the same words. */

#include "hlr/profile.h"
#include "hlr/subscr.h"

/* The raw text of each input field; NULL or "" means absent. */
struct hlr_subscr_fields {
	const char *imsi, *msisdn, *iccid, *class_name, *status;
	const char *name, *id_document, *nationality, *city;
	const char *k, *op, *opc, *amf, *sqn, *ind_bitlen, *sip_password;
};

/* Names of the fields above, as the API and the CSV header spell them. */
extern const char *const hlr_subscr_field_names[];

/* Returns a pointer to the member of f named name, or NULL for an unknown name. */
const char **hlr_subscr_fields_slot(struct hlr_subscr_fields *f, const char *name);

/* Parses and checks every field. Returns 0 with *out filled (secrets in clear: the
 * caller wipes it), or -EINVAL with err naming the first bad field. */
int hlr_subscr_input_parse(const struct hlr_profile *p, const struct hlr_subscr_fields *f,
                           unsigned default_ind_bitlen, struct hlr_subscr_new *out,
                           struct hlr_field_error *err);

/* Single-field checks used by updates. Each returns 0 or -EINVAL with err set. */
int hlr_field_class(const struct hlr_profile *p, const char *v, uint8_t *out,
                    struct hlr_field_error *err);
int hlr_field_status(const char *v, uint8_t *out, struct hlr_field_error *err);
int hlr_field_msisdn(const struct hlr_profile *p, const char *v, uint64_t *out,
                     struct hlr_field_error *err);
int hlr_field_city(const struct hlr_profile *p, const char *v, uint16_t *out,
                   struct hlr_field_error *err);
int hlr_field_holder(const char *field, const char *v, char *out, size_t cap,
                     struct hlr_field_error *err);

void hlr_field_error_set(struct hlr_field_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

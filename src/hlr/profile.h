#pragma once
/* The operator profile: network identity, subscriber classes and cities. It is
 * data (profiles/<name>/), installed into an empty store and read from the store
 * at start; the code knows no operator. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define HLR_MAX_CLASSES 64

#define HLR_MAX_APNS 8

struct hlr_class {
	char name[32];
	char description[256];
	bool cs, ps; /* the circuit and packet domains it may attach to */
	char apns[HLR_MAX_APNS][64];
	unsigned n_apns;
};

struct hlr_city {
	char name[64];
	char province[64];
	int64_t population;
	char kind[16]; /* capital, main, small */
};

struct hlr_profile {
	char name[64];
	char operator_name[64];
	char mcc[4];
	char mnc[4];
	char country_code[4];
	char national_prefix[4];
	char international_prefix[8];
	struct hlr_class classes[HLR_MAX_CLASSES];
	unsigned n_classes;
	struct hlr_city *cities; /* sorted by name */
	unsigned n_cities;
};

/* True if no profile has been installed in the store yet. */
int hlr_profile_installed(struct store *st);

/* Installs the profile directory dir (profile.conf, classes.csv, cities.csv) into
 * the store in one transaction. Returns 0, or -1 with "FILE:LINE: reason" in err
 * and nothing written. The caller holds no store lock. */
int hlr_profile_install(struct store *st, const char *dir, char *err, size_t errcap);

/* Reads the installed profile from the store into p. Returns 0, -ENOENT if none is
 * installed, -EIO. Free with hlr_profile_free(). */
int hlr_profile_load(struct store *st, struct hlr_profile *p);
void hlr_profile_free(struct hlr_profile *p);

/* Index of the class called name, or -1. */
int hlr_profile_class_find(const struct hlr_profile *p, const char *name);
/* 1 + index of the city called name, or 0 if there is none. */
unsigned hlr_profile_city_find(const struct hlr_profile *p, const char *name);
/* Name of class id / city id, or NULL ("no city" for city id 0). */
const char *hlr_profile_class_name(const struct hlr_profile *p, unsigned class_id);
const char *hlr_profile_city_name(const struct hlr_profile *p, unsigned city_id);

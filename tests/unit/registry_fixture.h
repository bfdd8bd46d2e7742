/*
 * A registry on a fresh store for a unit test: a temporary directory holding
 * an operator profile (profile.conf, classes.csv, cities.csv) and the database,
 * the store opened and migrated, the profile installed and loaded, and the
 * registry opened under a master key. A test can close and reopen all of it to
 * check what survives a restart, or reopen only the registry under another
 * master key.
 */
#ifndef KORYO_TESTS_REGISTRY_FIXTURE_H
#define KORYO_TESTS_REGISTRY_FIXTURE_H

#include <stdint.h>

#include "hlr/profile.h"
#include "hlr/registry.h"
#include "store/store.h"

struct registry_fixture {
	char dir[64];
	char db[128];
	struct store *st;
	struct hlr_profile profile;
	uint8_t master_key[32];
	struct hlr_registry *reg;
};

/* Makes the directory /tmp/koryo-test-<tag>.XXXXXX with the test profile in it,
 * keeps master_key and opens everything. Fails the test on any error. */
void registry_fixture_setup(struct registry_fixture *fx, const char *tag,
                            const uint8_t master_key[32]);

/* Closes everything and removes the directory. */
void registry_fixture_teardown(struct registry_fixture *fx);

/* Opens the store (migrating it and installing the profile the first time),
 * loads the profile and opens the registry under fx->master_key. */
void registry_fixture_open(struct registry_fixture *fx);

/* Closes the registry, the profile and the store. */
void registry_fixture_close(struct registry_fixture *fx);

/* Closes and opens everything again, as a restart does. */
void registry_fixture_reopen(struct registry_fixture *fx);

/* Closes the registry and opens it again on the same store under key. */
void registry_fixture_reopen_registry(struct registry_fixture *fx, const uint8_t key[32]);

/* Writes text to the file name in the fixture's directory. */
void registry_fixture_write_file(const struct registry_fixture *fx, const char *name,
                                 const char *text);

#endif

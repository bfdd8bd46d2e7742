#include "registry_fixture.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void registry_fixture_write_file(const struct registry_fixture *fx, const char *name,
                                 const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

void registry_fixture_open(struct registry_fixture *fx)
{
	char err[256] = "";
	assert_int_equal(store_open(fx->db, NULL, &fx->st, err, sizeof(err)), 0);
	assert_int_equal(store_migrate(fx->st, 0), 0);
	if (!hlr_profile_installed(fx->st)) {
		if (hlr_profile_install(fx->st, fx->dir, err, sizeof(err)) != 0)
			fail_msg("profile install: %s", err);
	}
	assert_int_equal(hlr_profile_load(fx->st, &fx->profile), 0);
	assert_int_equal(hlr_registry_open(fx->st, &fx->profile, fx->master_key, &fx->reg), 0);
}

void registry_fixture_close(struct registry_fixture *fx)
{
	hlr_registry_close(fx->reg);
	fx->reg = NULL;
	hlr_profile_free(&fx->profile);
	store_close(fx->st);
	fx->st = NULL;
}

void registry_fixture_reopen(struct registry_fixture *fx)
{
	registry_fixture_close(fx);
	registry_fixture_open(fx);
}

void registry_fixture_reopen_registry(struct registry_fixture *fx, const uint8_t key[32])
{
	hlr_registry_close(fx->reg);
	fx->reg = NULL;
	assert_int_equal(hlr_registry_open(fx->st, &fx->profile, key, &fx->reg), 0);
}

void registry_fixture_setup(struct registry_fixture *fx, const char *tag,
                            const uint8_t master_key[32])
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/koryo-test-%s.XXXXXX", tag);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/koryo.db", fx->dir);
	/* Three classes and three cities; the comment line and the quoted
	 * descriptions (one with a colon, one with a comma) are on purpose. */
	registry_fixture_write_file(fx, "profile.conf",
	                            "# test operator\n"
	                            "name = Testlink\n"
	                            "operator = Test Operator\n"
	                            "mcc = 467\n"
	                            "mnc = 05\n"
	                            "country_code = 850\n"
	                            "national_prefix = 0\n"
	                            "international_prefix = 00\n");
	registry_fixture_write_file(fx, "classes.csv",
	                            "name,description,domains,apns\n"
	                            "citizen,\"Citizen: domestic only\",cs ps,intranet\n"
	                            "foreigner,Foreign visitor,cs ps,internet\n"
	                            "official,\"Official, capped\",cs,\n");
	registry_fixture_write_file(fx, "cities.csv",
	                            "name,province,population,kind\n"
	                            "Pyongyang,Pyongyang,2000000,capital\n"
	                            "Hamhung,South Hamgyong,768551,main\n"
	                            "Kaesong,North Hwanghae,308440,small\n");
	memcpy(fx->master_key, master_key, sizeof(fx->master_key));
	registry_fixture_open(fx);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void registry_fixture_teardown(struct registry_fixture *fx)
{
	registry_fixture_close(fx);
	assert_int_equal(nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

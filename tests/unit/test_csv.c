/*
 * The streaming CSV reader (RFC 4180) used by the subscriber import and the
 * profile: quoting, line numbers an operator can trust in error messages, CRLF,
 * and the errors for malformed quoting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csv.h"

struct reader {
	FILE *f;
	struct csv_reader r;
	char err[160];
};

static void open_text(struct reader *rd, const char *text)
{
	/* A real file, as the import reads: fmemopen() has its own quirks. */
	rd->f = tmpfile();
	assert_non_null(rd->f);
	assert_int_equal(fwrite(text, 1, strlen(text), rd->f), strlen(text));
	rewind(rd->f);
	csv_init(&rd->r, rd->f);
	rd->err[0] = '\0';
}

static void close_reader(struct reader *rd)
{
	csv_free(&rd->r);
	fclose(rd->f);
}

static int next(struct reader *rd)
{
	return csv_next(&rd->r, rd->err, sizeof(rd->err));
}

/* Asserts that the next record starts at line and has exactly the given fields
 * (NULL-terminated). */
static void expect_record(struct reader *rd, unsigned line, ...)
{
	assert_int_equal(next(rd), 1);
	assert_int_equal(rd->r.line, line);
	va_list ap;
	va_start(ap, line);
	unsigned i = 0;
	for (const char *want; (want = va_arg(ap, const char *)); i++) {
		assert_true(i < rd->r.n_fields);
		assert_string_equal(rd->r.fields[i], want);
	}
	va_end(ap);
	assert_int_equal(rd->r.n_fields, i);
}

static void expect_end(struct reader *rd)
{
	assert_int_equal(next(rd), 0);
	assert_int_equal(next(rd), 0); /* and stays there */
}

static void test_plain(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "imsi,class\n467050000000001,citizen\n467050000000002,official\n");
	expect_record(&rd, 1, "imsi", "class", NULL);
	expect_record(&rd, 2, "467050000000001", "citizen", NULL);
	expect_record(&rd, 3, "467050000000002", "official", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_quoted_commas_and_quotes(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "\"Kim, Chol\",\"say \"\"hi\"\"\",\"\"\"\",plain\n");
	expect_record(&rd, 1, "Kim, Chol", "say \"hi\"", "\"", "plain", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_embedded_newline(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "a,\"line one\nline two\nline three\",z\n"
	               "next,record\n"
	               "\"x\ny\",end\n"
	               "last,one\n");
	expect_record(&rd, 1, "a", "line one\nline two\nline three", "z", NULL);
	/* The record after a three-line record starts on line 4. */
	expect_record(&rd, 4, "next", "record", NULL);
	expect_record(&rd, 5, "x\ny", "end", NULL);
	expect_record(&rd, 7, "last", "one", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_crlf(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "a,b\r\nc,d\r\n\"q\r\nr\",e\r\n\r\nf,\r\n");
	expect_record(&rd, 1, "a", "b", NULL);
	expect_record(&rd, 2, "c", "d", NULL);
	/* Inside quotes the CRLF is data, and still counts as a line. */
	expect_record(&rd, 3, "q\r\nr", "e", NULL);
	expect_record(&rd, 6, "f", "", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_blank_lines_skipped(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "\n\na\n\n\r\n\nb,c\n\n");
	expect_record(&rd, 3, "a", NULL);
	expect_record(&rd, 7, "b", "c", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_empty_fields(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, ",,\na,,b\n\"\",x\n,\n\"\"\n");
	expect_record(&rd, 1, "", "", "", NULL);
	expect_record(&rd, 2, "a", "", "b", NULL);
	expect_record(&rd, 3, "", "x", NULL);
	expect_record(&rd, 4, "", "", NULL);
	expect_record(&rd, 5, "", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_last_line_without_newline(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "a,b\nc,d");
	expect_record(&rd, 1, "a", "b", NULL);
	expect_record(&rd, 2, "c", "d", NULL);
	expect_end(&rd);
	close_reader(&rd);

	open_text(&rd, "a,\"quoted, last\"");
	expect_record(&rd, 1, "a", "quoted, last", NULL);
	expect_end(&rd);
	close_reader(&rd);

	open_text(&rd, "a,");
	expect_record(&rd, 1, "a", "", NULL);
	expect_end(&rd);
	close_reader(&rd);
}

static void test_unterminated_quote(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "ok,1\nbad,\"never closed\nmore,2\n");
	expect_record(&rd, 1, "ok", "1", NULL);
	assert_int_equal(next(&rd), -1);
	assert_string_equal(rd.err, "unterminated quoted field");
	assert_int_equal(rd.r.line, 2); /* where the bad record started */
	close_reader(&rd);
}

static void test_text_after_closing_quote(void **state)
{
	(void)state;
	struct reader rd;
	open_text(&rd, "ok,1\n\n\"ab\"c,d\n");
	expect_record(&rd, 1, "ok", "1", NULL);
	assert_int_equal(next(&rd), -1);
	assert_string_equal(rd.err, "text after a closing quote");
	assert_int_equal(rd.r.line, 3);
	close_reader(&rd);

	open_text(&rd, "x,\"ab\" \n");
	assert_int_equal(next(&rd), -1);
	assert_string_equal(rd.err, "text after a closing quote");
	close_reader(&rd);
}

static void test_too_many_fields(void **state)
{
	(void)state;
	struct reader rd;
	char text[256] = "";
	for (int i = 0; i < CSV_MAX_FIELDS; i++)
		strcat(text, "x,");
	strcat(text, "x\n"); /* CSV_MAX_FIELDS + 1 fields */
	open_text(&rd, text);
	assert_int_equal(next(&rd), -1);
	char want[64];
	snprintf(want, sizeof(want), "more than %d fields", CSV_MAX_FIELDS);
	assert_string_equal(rd.err, want);
	close_reader(&rd);

	/* Exactly CSV_MAX_FIELDS is fine. */
	text[0] = '\0';
	for (int i = 1; i < CSV_MAX_FIELDS; i++)
		strcat(text, "x,");
	strcat(text, "x\n");
	open_text(&rd, text);
	assert_int_equal(next(&rd), 1);
	assert_int_equal(rd.r.n_fields, CSV_MAX_FIELDS);
	close_reader(&rd);
}

static void test_long_fields(void **state)
{
	(void)state;
	/* Fields longer than the first buffer: earlier fields must survive the growth. */
	size_t big = 20000;
	char *text = malloc(2 * big + 64);
	assert_non_null(text);
	strcpy(text, "first,\"");
	size_t n = strlen(text);
	memset(text + n, 'q', big);
	n += big;
	strcpy(text + n, "\",");
	n += 2;
	memset(text + n, 'u', big);
	n += big;
	strcpy(text + n, ",last\nnext\n");

	struct reader rd;
	open_text(&rd, text);
	assert_int_equal(next(&rd), 1);
	assert_int_equal(rd.r.n_fields, 4);
	assert_string_equal(rd.r.fields[0], "first");
	assert_int_equal(strlen(rd.r.fields[1]), big);
	assert_int_equal(strspn(rd.r.fields[1], "q"), big);
	assert_int_equal(strlen(rd.r.fields[2]), big);
	assert_int_equal(strspn(rd.r.fields[2], "u"), big);
	assert_string_equal(rd.r.fields[3], "last");
	expect_record(&rd, 2, "next", NULL);
	expect_end(&rd);
	close_reader(&rd);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_quoted_commas_and_quotes),
	    cmocka_unit_test(test_embedded_newline),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_blank_lines_skipped),
	    cmocka_unit_test(test_empty_fields),
	    cmocka_unit_test(test_last_line_without_newline),
	    cmocka_unit_test(test_unterminated_quote),
	    cmocka_unit_test(test_text_after_closing_quote),
	    cmocka_unit_test(test_too_many_fields),
	    cmocka_unit_test(test_long_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_json.c — json_parse_strict() reads JSON the way the API server (Go) does, or refuses it
 * (SPEC §9): duplicate keys, escaped NUL, invalid UTF-8, raw control characters, trailing
 * data, a byte-order mark, empty input and excessive nesting are all errors with line:column;
 * json_get() is case-sensitive.
 *
 * The inputs are exact bytes, so they are written as escaped C string literals and passed with
 * an explicit length (some contain NUL bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "json.h"
#include "text.h"

/* Parse `len` bytes and return whether they were refused, freeing any tree first so that a
 * failing assertion never leaks. */
static bool refused_n(const char *text, size_t len, json_error *err)
{
    cJSON *root = json_parse_strict(text, len, err);
    bool refused = root == NULL;
    cJSON_Delete(root);
    return refused;
}

static bool refused(const char *text, json_error *err)
{
    return refused_n(text, strlen(text), err);
}

/* The first element of a parsed one-element array, as a string; the tree stays in *root. */
static const char *only_string(cJSON *root)
{
    assert_true(cJSON_IsArray(root));
    assert_int_equal(cJSON_GetArraySize(root), 1);
    return json_string(cJSON_GetArrayItem(root, 0));
}

/* ---------------------------------------------------------------------------------------- */
/* Valid bodies                                                                              */

static void test_valid_admission_review_parses(void **state)
{
    (void)state;
    const char *body =
        "{\n"
        "  \"apiVersion\": \"admission.k8s.io/v1\",\n"
        "  \"kind\": \"AdmissionReview\",\n"
        "  \"request\": {\n"
        "    \"uid\": \"705ab4f5-6393-11e8-b7cc-42010a800002\",\n"
        "    \"operation\": \"CREATE\",\n"
        "    \"dryRun\": false,\n"
        "    \"object\": {\n"
        "      \"metadata\": {\"name\": \"web\", \"annotations\": {}},\n"
        "      \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"nginx\"},\n"
        "                             {\"name\": \"side\", \"image\": \"busybox\"}],\n"
        "               \"securityContext\": null}\n"
        "    }\n"
        "  }\n"
        "}\n";
    json_error err;
    cJSON *root = json_parse_strict(body, strlen(body), &err);
    assert_non_null(root);
    const cJSON *req = json_get(root, "request");
    assert_string_equal(json_string(json_get(req, "operation")), "CREATE");
    assert_true(cJSON_IsFalse(json_get(req, "dryRun")));
    const cJSON *spec = json_get(json_get(req, "object"), "spec");
    assert_int_equal(cJSON_GetArraySize(json_get(spec, "containers")), 2);
    assert_true(json_is_absent(json_get(spec, "securityContext")));
    cJSON_Delete(root);
}

static void test_valid_scalars_parse(void **state)
{
    (void)state;
    const char *texts[] = {"0",     "-1.5e+3", "true",
                           "false", "null",    "\"x\"",
                           "[]",    "{}",      " [1, 2.5, \"a\", null, {\"k\": [true]}] \r\n\t"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error err;
        cJSON *root = json_parse_strict(texts[i], strlen(texts[i]), &err);
        assert_non_null(root);
        cJSON_Delete(root);
    }
}

static void test_input_need_not_be_nul_terminated(void **state)
{
    (void)state;
    /* Only the first 7 bytes count: what follows is outside the buffer. */
    const char buf[] = "{\"a\":1}GARBAGE";
    json_error err;
    cJSON *root = json_parse_strict(buf, 7, &err);
    assert_non_null(root);
    assert_int_equal(json_get(root, "a")->valueint, 1);
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------------------------------- */
/* Duplicate keys (cJSON keeps the first, Go the last)                                       */

static void test_duplicate_key_top_level_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("{\"kind\": \"Pod\",\n \"kind\": \"Deployment\"}", &err));
    assert_non_null(strstr(err.message, "duplicate key \"kind\""));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
}

static void test_duplicate_key_in_array_of_objects_refused_at_duplicate(void **state)
{
    (void)state;
    /* The key "name" occurs in every container; only the second container repeats it. */
    const char *body = "{\"spec\": {\n"                          /* line 1 */
                       " \"containers\": [\n"                    /* line 2 */
                       "  {\"name\": \"a\"},\n"                  /* line 3 */
                       "  {\"name\": \"b\", \"image\": \"x\",\n" /* line 4 */
                       "   \"name\": \"c\"}\n"                   /* line 5: the duplicate */
                       " ]\n"
                       "}}";
    json_error err;
    assert_true(refused(body, &err));
    assert_non_null(strstr(err.message, "duplicate key \"name\""));
    assert_int_equal(err.line, 5);
    assert_int_equal(err.column, 4);
}

static void test_duplicate_key_deep_inside_array_refused(void **state)
{
    (void)state;
    const char *body =
        "{\"a\": [{\"b\": [[{\"c\": {\"d\": 1, \"e\": 2}}, {\"x\": 1, \"x\": 2}]]}]}";
    json_error err;
    assert_true(refused(body, &err));
    assert_non_null(strstr(err.message, "duplicate key \"x\""));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 50); /* the second "x" */
}

static void test_duplicate_key_position_not_confused_by_equal_string_value(void **state)
{
    (void)state;
    /* The text "name" first appears as a value; the duplicate key is on line 3. */
    json_error err;
    assert_true(refused("{\"k\": \"name\",\n \"name\": 1,\n \"name\": 2}", &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 2);
}

static void test_duplicate_key_written_with_escape_refused(void **state)
{
    (void)state;
    /* "a\/b" and "a/b" are the same key once unescaped, as Go sees them. */
    json_error err;
    assert_true(refused("{\"a\\/b\": 1, \"a/b\": 2}", &err));
    assert_non_null(strstr(err.message, "duplicate key"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 13); /* the later occurrence, "a/b" */
}

/* True when `s` holds no C0 control character and no DEL. */
static bool no_raw_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static void test_duplicate_key_message_escapes_control_characters(void **state)
{
    (void)state;
    /* The key holds a newline and an ESC once unescaped; the message is shown to users and
     * logged, so control characters from the input must be escaped (SPEC §7.4). */
    json_error err;
    assert_true(refused("{\"a\\nb\\u001b[2J\": 1, \"a\\nb\\u001b[2J\": 2}", &err));
    assert_non_null(strstr(err.message, "duplicate key"));
    assert_true(no_raw_control(err.message));
}

static void test_duplicate_key_message_cut_on_utf8_boundary(void **state)
{
    (void)state;
    /* A long duplicate key ending in a two-byte character: however the message shortens the
     * key, it must not cut that character in half. */
    char text[600] = "{\"";
    for (int i = 0; i < 119; i++)
        strcat(text, "a");
    strcat(text, "\xc3\xa9\": 1, \"");
    for (int i = 0; i < 119; i++)
        strcat(text, "a");
    strcat(text, "\xc3\xa9\": 2}");
    json_error err;
    assert_true(refused(text, &err));
    assert_true(valid_utf8(err.message));
}

/* {"k0": 0, ..., "k<n-1>": n-1} on one line, with member `dup_at` named like member 2 instead
 * (none when dup_at < 0), inside [ ] after a small object holding the same names, so that
 * only a duplicate within the large object counts. Returns the column of the duplicate key. */
static unsigned large_object(char *text, size_t size, int n, int dup_at)
{
    unsigned column = 0;
    snprintf(text, size, "[{\"k2\": 1, \"k5\": 2}, {");
    for (int i = 0; i < n; i++) {
        snprintf(text + strlen(text), size - strlen(text), "%s", i ? ", " : "");
        if (i == dup_at)
            column = (unsigned)strlen(text) + 1;
        snprintf(text + strlen(text), size - strlen(text), "\"k%d\": %d", i == dup_at ? 2 : i, i);
    }
    snprintf(text + strlen(text), size - strlen(text), "}]");
    return column;
}

static void test_duplicate_key_in_objects_small_and_large_refused_at_duplicate(void **state)
{
    (void)state;
    /* Objects up to 16 members are checked as they are read, larger ones afterwards: both
     * sides of the boundary, and a duplicate early or late in a large object. */
    static const int cases[][2] = {{16, 15}, {17, 16}, {17, 3}, {40, 39}, {40, 17}, {300, 250}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[8192];
        unsigned column = large_object(text, sizeof text, cases[i][0], cases[i][1]);
        json_error err;
        assert_true(refused(text, &err));
        assert_non_null(strstr(err.message, "duplicate key \"k2\""));
        assert_int_equal(err.line, 1);
        assert_int_equal(err.column, column);
        large_object(text, sizeof text, cases[i][0], -1);
        cJSON *root = json_parse_strict(text, strlen(text), &err);
        assert_non_null(root);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(root, 1)), cases[i][0]);
        cJSON_Delete(root);
    }
}

static void test_duplicate_key_message_never_ends_in_half_an_escape(void **state)
{
    (void)state;
    /* The key is shown escaped (\x01) and cut to 120 bytes: the cut falls inside the escape,
     * which must go whole. */
    char key[200] = "";
    for (int i = 0; i < 118; i++)
        strcat(key, "a");
    strcat(key, "\\u0001zz");
    char text[600];
    snprintf(text, sizeof text, "{\"%s\": 1, \"%s\": 2}", key, key);
    json_error err;
    assert_true(refused(text, &err));
    char want[200] = "duplicate key \"";
    for (int i = 0; i < 118; i++)
        strcat(want, "a");
    strcat(want, "\"");
    assert_string_equal(err.message, want);
}

static void test_same_key_in_sibling_objects_accepted(void **state)
{
    (void)state;
    const char *text =
        "[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"x\": {\"name\": 1}, \"name\": 2}]";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    cJSON_Delete(root);
}

static void test_keys_differing_in_case_are_distinct(void **state)
{
    (void)state;
    const char *text = "{\"kind\": \"Pod\", \"Kind\": \"Secret\"}";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_string_equal(json_string(json_get(root, "kind")), "Pod");
    assert_string_equal(json_string(json_get(root, "Kind")), "Secret");
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------------------------------- */
/* Escapes                                                                                   */

static void test_escaped_nul_in_string_refused(void **state)
{
    (void)state;
    /* cJSON's C string would stop at the NUL: "a.json\u0000/../x" judged as "a.json". */
    json_error err;
    assert_true(refused("{\"localhostProfile\": \"a.json\\u0000/../x\"}", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 29);
    assert_non_null(strstr(err.message, "\\u0000"));
}

static void test_escaped_nul_in_key_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("{\"ki\\u0000nd\": \"Pod\"}", &err));
}

static void test_escaped_backslash_then_u0000_accepted(void **state)
{
    (void)state;
    /* JSON text ["\\u0000"]: an escaped backslash followed by the letters u0000. */
    const char *text = "[\"\\\\u0000\"]";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_string_equal(only_string(root), "\\u0000");
    cJSON_Delete(root);
}

static void test_escaped_backslash_pairs_then_escaped_nul_refused(void **state)
{
    (void)state;
    /* ["\\\u0000"]: an escaped backslash, then a real \u0000 escape. */
    json_error err;
    assert_true(refused("[\"\\\\\\u0000\"]", &err));
}

static void test_invalid_unicode_escape_refused(void **state)
{
    (void)state;
    /* Not JSON (Go: "invalid character 'Z' in \u hexadecimal character escape"). cJSON reads
     * a bad \u escape as U+0000, which ends its C string: the same hole as \u0000. */
    json_error err;
    assert_true(refused("[\"a.json\\uZZZZ/../x\"]", &err));
    assert_true(refused("[\"a\\u12G4b\"]", &err));
}

static void test_valid_unicode_escapes_accepted(void **state)
{
    (void)state;
    const char *text = "[\"\\u00e9\\u20AC\\ud83d\\ude00\\/\"]";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_string_equal(only_string(root), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
    cJSON_Delete(root);
}

static void test_every_escape_decoded_and_numbers_read_as_cjson_reads_them(void **state)
{
    (void)state;
    /* Escapes next to plain runs, at both ends of a string and in a key; numbers of every
     * form of the grammar, compared with cJSON's own reading of the same text. */
    const char *text = "{\"k\\u0041\\n\": [\"\\\"\\\\\\/\\b\\f\\n\\r\\tx\\u007f\",\n"
                       " \"\\uD7FF\\uE000\\uDBFF\\uDFFF\", -0, 0.5e-3, 1E+2, -12.75, 2147483648,\n"
                       " 123456789012345678901234567890, 1e400, true, false, null, {}, []]}";
    json_error err;
    cJSON *mine = json_parse_strict(text, strlen(text), &err);
    assert_non_null(mine);
    cJSON *theirs = cJSON_Parse(text);
    assert_non_null(theirs);
    const cJSON *list = json_get(mine, "kA\n");
    assert_non_null(list);
    assert_string_equal(cJSON_GetArrayItem(list, 0)->valuestring, "\"\\/\b\f\n\r\tx\x7f");
    assert_string_equal(cJSON_GetArrayItem(list, 1)->valuestring,
                        "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf");
    char *a = cJSON_PrintUnformatted(mine);
    char *b = cJSON_PrintUnformatted(theirs);
    assert_string_equal(a, b);
    /* Numbers bit for bit (1e400 is infinity for both, which cJSON_Compare calls unequal). */
    const cJSON *other = json_get(theirs, "kA\n");
    for (int i = 0; i < cJSON_GetArraySize(list); i++) {
        const cJSON *x = cJSON_GetArrayItem(list, i), *y = cJSON_GetArrayItem(other, i);
        assert_int_equal(x->type, y->type);
        assert_memory_equal(&x->valuedouble, &y->valuedouble, sizeof x->valuedouble);
        assert_int_equal(x->valueint, y->valueint);
    }
    /* The last child is reachable from the first, as cJSON links its own lists. */
    assert_ptr_equal(list->child->prev, cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1));
    assert_int_equal(cJSON_GetArrayItem(list, 6)->valueint, 2147483647); /* saturated */
    cJSON_free(a);
    cJSON_free(b);
    cJSON_Delete(mine);
    cJSON_Delete(theirs);
}

static void test_unpaired_surrogate_escape_refused_at_its_position(void **state)
{
    (void)state;
    /* Go would read U+FFFD; refusing is this project's choice (json.h). */
    json_error err;
    assert_true(refused("[\"ab\\ud800\"]", &err)); /* high, then the end */
    assert_int_equal(err.column, 5);
    assert_non_null(strstr(err.message, "surrogate"));
    assert_true(refused("[\"\\udc00\"]", &err)); /* low alone */
    assert_int_equal(err.column, 3);
    assert_true(refused("[\"\\ud800\\u0041\"]", &err)); /* high, then not low */
    assert_int_equal(err.column, 3);
    assert_true(refused("[\"\\ud800\\uZZZZ\"]", &err)); /* high, then a bad escape */
    assert_int_equal(err.column, 9);
    assert_non_null(strstr(err.message, "invalid \\u escape"));
}

/* ---------------------------------------------------------------------------------------- */
/* UTF-8                                                                                     */

static void test_utf8_lone_continuation_byte_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[\"ab\x80\"]", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 5);
    assert_non_null(strstr(err.message, "UTF-8"));
}

static void test_utf8_overlong_encoding_refused(void **state)
{
    (void)state;
    /* 0xC0 0xAF is an overlong '/': "a\xc0\xafb" must never become "a/b". */
    json_error err;
    assert_true(refused("[\"a\xc0\xaf"
                        "b\"]",
                        &err));
    assert_int_equal(err.column, 4);
    assert_true(refused("[\"\xe0\x80\xaf\"]", &err)); /* three-byte overlong '/' */
}

static void test_utf8_encoded_surrogate_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[\"\xed\xa0\x80\"]", &err)); /* U+D800 */
    assert_int_equal(err.column, 3);
}

static void test_utf8_truncated_sequence_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[\"\xe2\x82\"]", &err)); /* euro sign missing its last byte */
    assert_int_equal(err.column, 3);
    const char end[] = "[\"\xf0\x9f\x98"; /* cut at the end of the input */
    assert_true(refused_n(end, sizeof end - 1, &err));
}

static void test_utf8_above_max_code_point_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[\"\xf4\x90\x80\x80\"]", &err)); /* U+110000 */
    assert_true(refused("[\"\xff\"]", &err));
}

static void test_utf8_invalid_outside_string_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[1,\xc0\xaf 2]", &err));
}

static void test_utf8_valid_multibyte_accepted(void **state)
{
    (void)state;
    /* é (2 bytes), € (3 bytes), 😀 (4 bytes), U+10FFFF, and in a key. */
    const char *text = "{\"caf\xc3\xa9\": [\"\xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"]}";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_string_equal(only_string(json_get(root, "caf\xc3\xa9")),
                        "\xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    cJSON_Delete(root);
}

static void test_text_escape_shows_bytes_of_no_utf8_character_as_hex(void **state)
{
    (void)state;
    /* Messages escape with the reader's idea of valid UTF-8 (json_utf8_len): a file name may
     * hold any byte, and a lone 0x9b is CSI to a terminal reading 8-bit controls. Valid
     * characters stay as they are; C0, DEL and C1 are escaped as before; a sequence cut short
     * by the end of the string is escaped byte by byte, never read past its NUL. */
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"a\x1b[2J\x07\x7f", "a\\x1b[2J\\x07\\x7f"},
        {"\xc2\x85\xc2\x9b", "\\u0085\\u009b"},
        {"m\xff\xfe.json", "m\\xff\\xfe.json"},
        {"\x9b"
         "31m",
         "\\x9b"
         "31m"},
        {"\xc0\xaf", "\\xc0\\xaf"},          /* overlong '/' */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a UTF-16 surrogate */
        {"end\xe2\x82", "end\\xe2\\x82"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = text_escape(cases[i].in);
        assert_non_null(got);
        assert_string_equal(got, cases[i].out);
        free(got);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Control characters, trailing data, BOM, empty input                                      */

static void test_raw_control_character_in_string_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("[\"a\tb\"]", &err));
    assert_int_equal(err.column, 4);
    assert_non_null(strstr(err.message, "control character"));
    assert_true(refused("{\"a\": \"x\ny\"}", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 9);
    assert_true(refused("[\"\x1f\"]", &err));
}

static void test_raw_nul_byte_in_string_refused(void **state)
{
    (void)state;
    const char text[] = "[\"a.json\0/../x\"]";
    json_error err;
    assert_true(refused_n(text, sizeof text - 1, &err));
}

static void test_control_character_outside_string_refused(void **state)
{
    (void)state;
    /* JSON white space is only space, tab, LF and CR (RFC 8259 §2); Go refuses anything else
     * ("invalid character '\x00' after top-level value"). cJSON skips every byte <= 0x20. */
    json_error err;
    const char nul_after[] = "{}\0";
    assert_true(refused_n(nul_after, sizeof nul_after - 1, &err));
    const char nul_before[] = "\0{}";
    assert_true(refused_n(nul_before, sizeof nul_before - 1, &err));
    assert_true(refused("{\x01\"a\": 1}", &err));
    assert_true(refused("{\"a\":\f1}", &err));
}

static void test_trailing_data_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("{\"a\": 1} x", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 10);
    assert_non_null(strstr(err.message, "after the JSON value"));
    assert_true(refused("{}{}", &err));
    assert_int_equal(err.column, 3);
    assert_true(refused("[1]\n]", &err));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
}

static void test_trailing_white_space_accepted(void **state)
{
    (void)state;
    const char *text = "{\"a\": 1} \t\r\n  \n";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    cJSON_Delete(root);
}

static void test_byte_order_mark_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("\xef\xbb\xbf{\"a\": 1}", &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.message, "byte-order mark"));
}

static void test_empty_input_refused(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused_n("", 0, &err));
    assert_non_null(strstr(err.message, "empty"));
    assert_true(refused(" \r\n\t ", &err));
    assert_non_null(strstr(err.message, "empty"));
}

static void test_number_outside_json_grammar_refused(void **state)
{
    (void)state;
    /* Leading zeros and a bare trailing '.' are not JSON numbers (RFC 8259 §6); Go refuses
     * them, cJSON hands them to strtod. */
    json_error err;
    assert_true(refused("[01]", &err));
    assert_true(refused("[-01]", &err));
    assert_true(refused("[1.]", &err));
    assert_true(refused("[1.e5]", &err));
}

static void test_malformed_syntax_refused(void **state)
{
    (void)state;
    const char *texts[] = {
        "[1,]",   "{\"a\": 1,}", "['a']",     "[NaN]",           "[+1]",          "[.5]",
        "[True]", "{\"a\" 1}",   "[\"\\x\"]", "[\"unterminated", "{\"a\": [1, 2}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error err;
        assert_true(refused(texts[i], &err));
        assert_true(err.line >= 1);
        assert_true(err.column >= 1);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Nesting                                                                                   */

/* `depth` arrays nested in one another: "[[[...]]]". Owned by the caller. */
static char *nested_arrays(size_t depth)
{
    char *s = malloc(2 * depth + 1);
    assert_non_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_nesting_of_1000_accepted(void **state)
{
    (void)state;
    char *text = nested_arrays(1000);
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    free(text);
    assert_non_null(root);
    cJSON_Delete(root);
}

static void test_nesting_deeper_than_1000_refused(void **state)
{
    (void)state;
    char *text = nested_arrays(1001);
    json_error err;
    bool r = refused(text, &err);
    free(text);
    assert_true(r);
    assert_int_equal(err.line, 1);
}

static void test_very_deep_nesting_refused_without_crash(void **state)
{
    (void)state;
    /* Far beyond any stack: arrays, and objects ({"a":{"a":...) unterminated. */
    size_t depth = 200000;
    char *text = nested_arrays(depth);
    json_error err;
    bool r1 = refused(text, &err);
    free(text);
    assert_true(r1);

    const char unit[] = "{\"a\":";
    size_t n = sizeof unit - 1;
    char *obj = malloc(n * depth + 1);
    assert_non_null(obj);
    for (size_t i = 0; i < depth; i++)
        memcpy(obj + i * n, unit, n);
    obj[n * depth] = '\0';
    bool r2 = refused(obj, &err);
    free(obj);
    assert_true(r2);
}

/* ---------------------------------------------------------------------------------------- */
/* Positions                                                                                 */

static void test_error_position_on_line_3(void **state)
{
    (void)state;
    json_error err;
    assert_true(refused("{\n  \"a\": 1,\n  \"b\": x\n}", &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);

    assert_true(refused("{\n  \"a\": 1,\n  \"b\": \"\xc0\xaf\"\n}", &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 9);

    assert_true(refused("{\n  \"a\": 1,\n  \"b\": \"\\u0000\"\n}", &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 9);
}

/* ---------------------------------------------------------------------------------------- */
/* Getters                                                                                   */

static void test_json_get_is_case_sensitive(void **state)
{
    (void)state;
    const char *text = "{\"Kind\": \"Pod\"}";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_null(json_get(root, "kind"));
    assert_null(json_get(root, "KIND"));
    assert_string_equal(json_string(json_get(root, "Kind")), "Pod");
    cJSON_Delete(root);
}

static void test_json_get_on_non_object_is_null(void **state)
{
    (void)state;
    const char *text = "[{\"a\": 1}]";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_null(json_get(root, "a"));
    assert_null(json_get(NULL, "a"));
    assert_null(json_get(json_get(root, "a"), "b"));
    cJSON_Delete(root);
}

static void test_json_is_absent_and_json_string(void **state)
{
    (void)state;
    const char *text = "{\"n\": null, \"s\": \"x\", \"i\": 1, \"o\": {}}";
    json_error err;
    cJSON *root = json_parse_strict(text, strlen(text), &err);
    assert_non_null(root);
    assert_true(json_is_absent(json_get(root, "missing")));
    assert_true(json_is_absent(json_get(root, "n")));
    assert_false(json_is_absent(json_get(root, "o")));
    assert_string_equal(json_string(json_get(root, "s")), "x");
    assert_null(json_string(json_get(root, "i")));
    assert_null(json_string(json_get(root, "n")));
    assert_null(json_string(NULL));
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_admission_review_parses),
        cmocka_unit_test(test_valid_scalars_parse),
        cmocka_unit_test(test_input_need_not_be_nul_terminated),
        cmocka_unit_test(test_duplicate_key_top_level_refused),
        cmocka_unit_test(test_duplicate_key_in_array_of_objects_refused_at_duplicate),
        cmocka_unit_test(test_duplicate_key_deep_inside_array_refused),
        cmocka_unit_test(test_duplicate_key_position_not_confused_by_equal_string_value),
        cmocka_unit_test(test_duplicate_key_written_with_escape_refused),
        cmocka_unit_test(test_duplicate_key_message_escapes_control_characters),
        cmocka_unit_test(test_duplicate_key_message_cut_on_utf8_boundary),
        cmocka_unit_test(test_same_key_in_sibling_objects_accepted),
        cmocka_unit_test(test_duplicate_key_message_never_ends_in_half_an_escape),
        cmocka_unit_test(test_duplicate_key_in_objects_small_and_large_refused_at_duplicate),
        cmocka_unit_test(test_keys_differing_in_case_are_distinct),
        cmocka_unit_test(test_escaped_nul_in_string_refused),
        cmocka_unit_test(test_escaped_nul_in_key_refused),
        cmocka_unit_test(test_escaped_backslash_then_u0000_accepted),
        cmocka_unit_test(test_escaped_backslash_pairs_then_escaped_nul_refused),
        cmocka_unit_test(test_invalid_unicode_escape_refused),
        cmocka_unit_test(test_valid_unicode_escapes_accepted),
        cmocka_unit_test(test_utf8_lone_continuation_byte_refused),
        cmocka_unit_test(test_utf8_overlong_encoding_refused),
        cmocka_unit_test(test_utf8_encoded_surrogate_refused),
        cmocka_unit_test(test_utf8_truncated_sequence_refused),
        cmocka_unit_test(test_utf8_above_max_code_point_refused),
        cmocka_unit_test(test_utf8_invalid_outside_string_refused),
        cmocka_unit_test(test_utf8_valid_multibyte_accepted),
        cmocka_unit_test(test_text_escape_shows_bytes_of_no_utf8_character_as_hex),
        cmocka_unit_test(test_every_escape_decoded_and_numbers_read_as_cjson_reads_them),
        cmocka_unit_test(test_unpaired_surrogate_escape_refused_at_its_position),
        cmocka_unit_test(test_raw_control_character_in_string_refused),
        cmocka_unit_test(test_raw_nul_byte_in_string_refused),
        cmocka_unit_test(test_control_character_outside_string_refused),
        cmocka_unit_test(test_trailing_data_refused),
        cmocka_unit_test(test_trailing_white_space_accepted),
        cmocka_unit_test(test_byte_order_mark_refused),
        cmocka_unit_test(test_empty_input_refused),
        cmocka_unit_test(test_number_outside_json_grammar_refused),
        cmocka_unit_test(test_malformed_syntax_refused),
        cmocka_unit_test(test_nesting_of_1000_accepted),
        cmocka_unit_test(test_nesting_deeper_than_1000_refused),
        cmocka_unit_test(test_very_deep_nesting_refused_without_crash),
        cmocka_unit_test(test_error_position_on_line_3),
        cmocka_unit_test(test_json_get_is_case_sensitive),
        cmocka_unit_test(test_json_get_on_non_object_is_null),
        cmocka_unit_test(test_json_is_absent_and_json_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

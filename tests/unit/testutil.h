/*
 * testutil.h — helpers shared by the cmocka unit tests. Include after <cmocka.h>.
 */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* A JSON document from a literal written with single quotes for readability: every ' becomes
 * a ". None of the documents in the tests needs a literal apostrophe. Fails the test when the
 * text is not JSON. The caller frees it with cJSON_Delete(). */
static inline cJSON *doc(const char *single_quoted)
{
    char *s = strdup(single_quoted);
    assert_non_null(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = cJSON_Parse(s);
    free(s);
    assert_non_null(j);
    return j;
}

/* True when `s` is valid UTF-8 as far as lead and continuation bytes go (in particular, no
 * character cut in half at the end). */
static inline bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

#endif

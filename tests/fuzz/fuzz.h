/*
 * fuzz.h — what the fuzz targets of tests/fuzz share: the libFuzzer entry points, an invariant
 * check that aborts (so libFuzzer and the replay driver both report it as a crash, with the
 * input that caused it), and checks on text the server sends back.
 */
#ifndef SW_FUZZ_H
#define SW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

/* libFuzzer's interface (https://llvm.org/docs/LibFuzzer.html). Every target defines both. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK — abort with the file, line, condition and a printf-style explanation when `cond`
 * does not hold: a broken invariant is a finding like a sanitizer report. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\nFUZZ INVARIANT BROKEN at %s:%d: %s\n  ", __FILE__, __LINE__,        \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* fuzz_utf8_chars — the number of characters of `s` when it is valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF), else (size_t)-1. */
static inline size_t fuzz_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p) {
        unsigned c = *p, cp, min;
        size_t n;
        if (c < 0x80) {
            n = 1, cp = c, min = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return (size_t)-1;
        }
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return (size_t)-1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return (size_t)-1;
        p += n;
        chars++;
    }
    return chars;
}

/* fuzz_has_control — true when `s` holds a C0 control character other than those in `allowed`
 * (e.g. "\n"), or DEL. User data reaches messages, warnings (HTTP headers at the API server)
 * and logs only escaped (SPEC §7.4). */
static inline bool fuzz_has_control(const char *s, const char *allowed)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            continue;
        bool ok = false;
        for (const char *a = allowed; a && *a; a++)
            ok = ok || (unsigned char)*a == *p;
        if (!ok)
            return true;
    }
    return false;
}

/* fuzz_yaml_lines — how many lines libyaml can count in `size` bytes: one more than the line
 * breaks, which for YAML are "\r\n", "\r" and "\n", and NEL, LS and PS (U+0085, U+2028,
 * U+2029). An upper bound (CR LF counts twice), for checking the line numbers of messages. */
static inline size_t fuzz_yaml_lines(const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n' || data[i] == '\r')
            lines++;
        else if (data[i] == 0xc2 && i + 1 < size && data[i + 1] == 0x85)
            lines++;
        else if (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
                 (data[i + 2] == 0xa8 || data[i + 2] == 0xa9))
            lines++;
    }
    return lines;
}

#endif

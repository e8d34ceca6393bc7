/*
 * test_log.c — the JSON-lines log: every line parses as one JSON object whose values read back
 * exactly as given (quotes, backslashes, control characters, UTF-8), lines longer than the
 * inline buffer, invalid UTF-8 replaced, levels below the threshold dropped, and log_json()
 * splicing its fields after the head; batches written whole and in order; a full non-blocking
 * stderr waited for, once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs `fn` with stderr sent to a temporary file and returns what it wrote (caller frees). */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    off_t n = lseek(fileno(tmp), 0, SEEK_END); /* the log writes with write(2) */
    assert_true(n >= 0);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(tmp), text, (size_t)n, 0), (ssize_t)n);
    fclose(tmp);
    return text;
}

/* The one line in `text`, parsed; fails unless there is exactly one, ending in '\n'. */
static cJSON *only_line(const char *text)
{
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    cJSON *j = cJSON_ParseWithLength(text, (size_t)(nl - text));
    assert_non_null(j);
    assert_true(cJSON_IsObject(j));
    return j;
}

/* What `fn` logs, which must be one line, as JSON (the caller deletes it). */
static cJSON *capture_line(void (*fn)(void))
{
    char *text = capture(fn);
    cJSON *j = only_line(text);
    free(text);
    return j;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static const char awkward[] = "q\"b\\s/\n\r\t\x01\x1f\x7f é ✓ 🙂 end";

static void write_review_like_line(void)
{
    log_line l;
    assert_int_equal(log_begin(&l, LOG_INFO, "review"), 1);
    log_add_str(&l, "name", awkward);
    log_add_str(&l, "absent", NULL);
    log_add_uint(&l, "zero", 0);
    log_add_uint(&l, "big", 18446744073709551615ull);
    log_add_bool(&l, "yes", 1);
    log_add_bool(&l, "no", 0);
    log_end(&l);
}

static void test_values_read_back_exactly(void **state)
{
    (void)state;
    char *text = capture(write_review_like_line);
    cJSON *j = only_line(text);
    /* The head comes first, in this order. */
    assert_true(strncmp(text, "{\"ts\":\"", 7) == 0);
    assert_non_null(strstr(text, "\",\"level\":\"info\",\"event\":\"review\","));
    const char *ts = str(j, "ts");
    assert_int_equal(strlen(ts), 27); /* 2024-05-01T12:34:56.123456Z */
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[26], 'Z');
    assert_string_equal(str(j, "name"), awkward);
    assert_string_equal(str(j, "absent"), "");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "zero")));
    assert_true(strstr(text, "\"big\":18446744073709551615,") != NULL);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "yes")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "no")));
    cJSON_Delete(j);
    free(text);
}

static char *long_value;

static void write_long_line(void)
{
    log_line l;
    assert_int_equal(log_begin(&l, LOG_WARN, "long"), 1);
    log_add_str(&l, "a", long_value);
    log_add_str(&l, "b", "after");
    log_end(&l);
}

static void test_a_line_longer_than_the_inline_buffer_is_whole(void **state)
{
    (void)state;
    size_t n = 3 * sizeof(((log_line *)0)->inline_buf) + 7;
    long_value = malloc(n + 1);
    assert_non_null(long_value);
    for (size_t i = 0; i < n; i++)
        long_value[i] = i % 50 == 49 ? '"' : (char)('a' + i % 26);
    long_value[n] = '\0';
    cJSON *j = capture_line(write_long_line);
    assert_string_equal(str(j, "a"), long_value);
    assert_string_equal(str(j, "b"), "after");
    assert_string_equal(str(j, "level"), "warn");
    cJSON_Delete(j);
    free(long_value);
}

static void write_invalid_utf8(void)
{
    log_line l;
    assert_int_equal(log_begin(&l, LOG_ERROR, "bytes"), 1);
    log_add_str(&l, "v", "a\xff\xc3(b\xed\xa0\x80z");
    log_end(&l);
}

static void test_invalid_utf8_is_replaced(void **state)
{
    (void)state;
    cJSON *j = capture_line(write_invalid_utf8);
    assert_string_equal(str(j, "v"), "a?"
                                     "?(b?"
                                     "??z");
    cJSON_Delete(j);
}

static void write_invalid_utf8_through_cjson(void)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "v", "x\xc0\xaf\xe2\x82y"); /* overlong '/', a cut euro sign */
    log_json(LOG_WARN, "bytes", f);
}

static void test_invalid_utf8_from_cjson_fields_is_replaced(void **state)
{
    (void)state;
    cJSON *j = capture_line(write_invalid_utf8_through_cjson);
    assert_string_equal(str(j, "v"), "x????y");
    cJSON_Delete(j);
}

static void write_below_threshold(void)
{
    log_set_level(LOG_WARN);
    log_line l;
    assert_int_equal(log_begin(&l, LOG_INFO, "quiet"), 0);
    log_json(LOG_DEBUG, "quiet", cJSON_CreateObject());
    log_msg(LOG_INFO, "quiet", "%s", "dropped");
    log_set_level(LOG_INFO);
}

static void test_lines_below_the_threshold_are_dropped(void **state)
{
    (void)state;
    char *text = capture(write_below_threshold);
    assert_string_equal(text, "");
    free(text);
}

static void write_log_json(void)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "path", "/mutate\n");
    cJSON_AddNumberToObject(f, "n", 3);
    log_json(LOG_INFO, "spliced", f);
    log_json(LOG_INFO, "empty", cJSON_CreateObject());
    log_msg(LOG_WARN, "msg", "%d %s", 42, "tail\"");
}

static void test_log_json_and_log_msg_splice_their_fields(void **state)
{
    (void)state;
    char *text = capture(write_log_json);
    char *second = strchr(text, '\n') + 1;
    char *third = strchr(second, '\n') + 1;
    char save = *second;
    *second = '\0';
    cJSON *a = only_line(text);
    *second = save;
    assert_string_equal(str(a, "event"), "spliced");
    assert_string_equal(str(a, "path"), "/mutate\n");
    assert_int_equal(cJSON_GetObjectItem(a, "n")->valueint, 3);
    save = *third;
    *third = '\0';
    cJSON *b = only_line(second);
    *third = save;
    assert_string_equal(str(b, "event"), "empty");
    assert_int_equal(cJSON_GetArraySize(b), 3);
    cJSON *c = only_line(third);
    assert_string_equal(str(c, "msg"), "42 tail\"");
    assert_string_equal(str(c, "level"), "warn");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    free(text);
}

/* The line at *cursor as JSON (the caller deletes it); *cursor moves past it. */
static cJSON *next_line(char **cursor)
{
    char *end = strchr(*cursor, '\n');
    assert_non_null(end);
    char save = end[1];
    end[1] = '\0';
    cJSON *o = only_line(*cursor);
    end[1] = save;
    *cursor = end + 1;
    return o;
}

/* Batched: info lines wait for the flusher, a warning or a line larger than a batch writes them
 * first and then itself, and stopping writes the rest. */
static void write_batched(void)
{
    assert_int_equal(log_batch_start(), 0);
    log_msg(LOG_INFO, "first", "a");
    log_msg(LOG_INFO, "second", "b");
    static char big[20 * 1024]; /* a line larger than a batch: written at once, in its place */
    memset(big, 'x', sizeof big - 1);
    log_msg(LOG_INFO, "big", "%s", big);
    log_msg(LOG_WARN, "third", "c");
    log_msg(LOG_INFO, "fourth", "d");
    log_batch_stop();
    log_msg(LOG_INFO, "fifth", "after the batches");
}

static void test_batched_lines_keep_their_order(void **state)
{
    (void)state;
    char *text = capture(write_batched);
    static const char *const events[] = {"first", "second", "big", "third", "fourth", "fifth"};
    char *line = text;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        cJSON *o = next_line(&line);
        assert_string_equal(str(o, "event"), events[i]);
        cJSON_Delete(o);
    }
    assert_string_equal(line, "");
    free(text);
}

/* Many lines, several batches, each written in pieces of whole lines: all of them, in order. */
static void write_many_batched(void)
{
    assert_int_equal(log_batch_start(), 0);
    for (int i = 0; i < 1000; i++)
        log_msg(LOG_INFO, "many", "%d %0*d", i, i % 300, 0); /* lines of 70 to 370 bytes */
    log_batch_stop();
}

static void test_many_batched_lines_are_whole_and_in_order(void **state)
{
    (void)state;
    char *text = capture(write_many_batched);
    char *line = text;
    for (int i = 0; i < 1000; i++) {
        cJSON *o = next_line(&line);
        assert_int_equal(atoi(str(o, "msg")), i);
        cJSON_Delete(o);
    }
    assert_string_equal(line, "");
    free(text);
}

/* An info line reaches stderr without a warning or a stop: the flusher writes it. */
static void write_one_and_wait(void)
{
    assert_int_equal(log_batch_start(), 0);
    log_msg(LOG_INFO, "alone", "flushed by the thread");
    off_t size = 0;
    for (int i = 0; i < 200 && size == 0; i++) { /* up to 2 s; the flusher runs every 50 ms */
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
        size = lseek(STDERR_FILENO, 0, SEEK_END);
    }
    assert_true(size > 0);
    log_batch_stop();
}

static void test_the_flusher_writes_pending_lines(void **state)
{
    (void)state;
    cJSON *o = capture_line(write_one_and_wait);
    assert_string_equal(str(o, "event"), "alone");
    cJSON_Delete(o);
}

/* stderr as the write end of a non-blocking pipe, filled to the brim with *filled bytes of
 * '#'; returns the read end and keeps the real stderr in *saved. */
static int full_nonblocking_stderr(int *saved, size_t *filled)
{
    int fds[2];
    assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
    char junk[4096];
    memset(junk, '#', sizeof junk);
    ssize_t w;
    *filled = 0;
    while ((w = write(fds[1], junk, sizeof junk)) > 0)
        *filled += (size_t)w;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    fflush(stderr);
    *saved = dup(STDERR_FILENO);
    assert_true(*saved >= 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    close(fds[1]);
    return fds[0];
}

static void restore_stderr(int saved)
{
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
}

/* Everything in the pipe `fd` (non-blocking) now, as a string (caller frees). */
static char *drain(int fd)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    ssize_t r;
    while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Read exactly `n` bytes of the pipe `fd` (non-blocking), which holds at least that many. */
static void read_exactly(int fd, size_t n)
{
    char buf[4096];
    while (n > 0) {
        ssize_t r = read(fd, buf, n < sizeof buf ? n : sizeof buf);
        assert_true(r > 0);
        n -= (size_t)r;
    }
}

typedef struct {
    int fd;
    size_t n;
} later_read;

/* After 300 ms, reads `n` bytes of the filler, making that much room. */
static void *skip_later(void *arg)
{
    const later_read *l = arg;
    struct timespec ms300 = {0, 300 * 1000 * 1000};
    nanosleep(&ms300, NULL);
    read_exactly(l->fd, l->n);
    return NULL;
}

/* A stderr its opener made non-blocking, full for a moment: the line waits for room, as on a
 * blocking stderr, instead of being dropped. */
static void test_a_full_nonblocking_stderr_is_waited_for(void **state)
{
    (void)state;
    int saved;
    size_t filled;
    int rd = full_nonblocking_stderr(&saved, &filled);
    pthread_t reader;
    later_read all = {rd, filled}; /* the whole filler: room for the line, which stays */
    assert_int_equal(pthread_create(&reader, NULL, skip_later, &all), 0);
    log_msg(LOG_WARN, "waited", "for room in the pipe");
    assert_int_equal(pthread_join(reader, NULL), 0);
    restore_stderr(saved);
    char *text = drain(rd);
    close(rd);
    cJSON *o = only_line(text);
    assert_string_equal(str(o, "event"), "waited");
    cJSON_Delete(o);
    free(text);
}

/* A reader that has stopped holds a writer for at most a second, once: later lines that find
 * the pipe full are dropped at once, until one gets through. */
static void test_a_stopped_reader_holds_the_writer_once(void **state)
{
    (void)state;
    int saved;
    size_t filled;
    int rd = full_nonblocking_stderr(&saved, &filled);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    log_msg(LOG_WARN, "dropped", "after waiting");
    double first = seconds_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5; i++)
        log_msg(LOG_WARN, "dropped", "without waiting");
    double next = seconds_since(&t0);
    free(drain(rd));
    log_msg(LOG_WARN, "written", "once there is room");
    restore_stderr(saved);
    char *text = drain(rd);
    close(rd);
    assert_true(first >= 0.9);
    assert_true(next < first / 2); /* not five more waits */
    cJSON *o = only_line(text);
    assert_string_equal(str(o, "event"), "written");
    cJSON_Delete(o);
    free(text);
}

static void write_long_warning(void)
{
    char *big = malloc(10001);
    assert_non_null(big);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    log_msg(LOG_WARN, "long", "%s", big);
    free(big);
}

/* A line longer than PIPE_BUF of which the pipe took only part before the wait ran out: the next
 * line still comes whole, on a line of its own after the fragment. */
static void test_a_line_cut_short_does_not_swallow_the_next(void **state)
{
    (void)state;
    int saved;
    size_t filled;
    int rd = full_nonblocking_stderr(&saved, &filled);
    pthread_t reader;
    later_read page = {rd, 4096}; /* room for 4 KiB of the 10 KB line, then none */
    assert_int_equal(pthread_create(&reader, NULL, skip_later, &page), 0);
    write_long_warning();
    assert_int_equal(pthread_join(reader, NULL), 0);
    read_exactly(rd, filled - 4096);
    char *fragment = drain(rd);
    assert_int_equal(strlen(fragment), 4096);
    assert_null(strchr(fragment, '\n'));
    free(fragment);
    log_msg(LOG_WARN, "next", "after the fragment");
    restore_stderr(saved);
    char *text = drain(rd);
    close(rd);
    assert_int_equal(text[0], '\n'); /* ends the fragment */
    cJSON *o = only_line(text + 1);
    assert_string_equal(str(o, "event"), "next");
    cJSON_Delete(o);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_read_back_exactly),
        cmocka_unit_test(test_a_line_longer_than_the_inline_buffer_is_whole),
        cmocka_unit_test(test_invalid_utf8_is_replaced),
        cmocka_unit_test(test_invalid_utf8_from_cjson_fields_is_replaced),
        cmocka_unit_test(test_lines_below_the_threshold_are_dropped),
        cmocka_unit_test(test_log_json_and_log_msg_splice_their_fields),
        cmocka_unit_test(test_batched_lines_keep_their_order),
        cmocka_unit_test(test_many_batched_lines_are_whole_and_in_order),
        cmocka_unit_test(test_the_flusher_writes_pending_lines),
        cmocka_unit_test(test_a_full_nonblocking_stderr_is_waited_for),
        cmocka_unit_test(test_a_stopped_reader_holds_the_writer_once),
        cmocka_unit_test(test_a_line_cut_short_does_not_swallow_the_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

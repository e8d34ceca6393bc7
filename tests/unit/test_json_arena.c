/*
 * test_json_arena.c — the per-request cJSON arena: a scope's trees are its memory and survive
 * until its end; a large review's extra blocks wait as spares and serve the next large review
 * on another worker thread, instead of going back to malloc; at most 8 wait, and
 * json_arena_trim() frees them.
 * Sanitizer builds never use the arena (json_arena.h): there the tests only check that cJSON
 * still works through the hooks.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_arena.h"

/* More than the first block (64 KiB) and less than a heap block (120 KiB): one heap block. */
#define LARGE_STRING (100 * 1024)

static bool arena_in_use(void)
{
    json_arena_begin();
    void *p = cJSON_malloc(16);
    bool in_use = json_arena_owns(p);
    cJSON_free(p);
    json_arena_end();
    return in_use;
}

/* Opens a scope, fills the first block, then takes one heap block for a large string; returns
 * the string's address (in that heap block), ends the scope. */
static const void *large_scope(void)
{
    json_arena_begin();
    cJSON *filler = cJSON_CreateArray();
    for (int i = 0; i < 100; i++)
        cJSON_AddItemToArray(filler, cJSON_CreateString("0123456789"));
    char *big = cJSON_malloc(LARGE_STRING);
    assert_non_null(big);
    memset(big, 'x', LARGE_STRING);
    assert_true(json_arena_owns(big));
    assert_true(json_arena_owns(filler));
    json_arena_delete(filler); /* arena memory: freed with the scope, not here */
    const void *at = big;
    json_arena_end();
    return at;
}

/* Two workers: `first` runs a large review and stays alive (so that its malloc arena stays
 * its own) while `second` runs one; then both end. */
typedef struct {
    pthread_barrier_t *barrier;
    bool first;
    const void *at;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    if (!w->first)
        pthread_barrier_wait(w->barrier);
    w->at = large_scope();
    if (w->first)
        pthread_barrier_wait(w->barrier);
    pthread_barrier_wait(w->barrier);
    json_arena_release();
    return NULL;
}

static void test_trees_live_until_the_scope_ends(void **state)
{
    (void)state;
    json_arena_begin();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "Pod");
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"kind\":\"Pod\"}");
    json_arena_delete(o);
    cJSON_free(text);
    json_arena_end();
    /* Outside a scope, cJSON allocates with malloc as usual. */
    cJSON *outside = cJSON_CreateString("after");
    assert_false(json_arena_owns(outside));
    cJSON_Delete(outside);
    json_arena_release();
}

static void test_a_spare_block_serves_the_next_large_review_on_another_thread(void **state)
{
    (void)state;
    if (!arena_in_use()) {
        json_arena_release();
        skip(); /* a sanitizer build: plain malloc, nothing to reuse */
    }
    json_arena_trim();
    /* The block the first worker's review left as a spare is the one the second's gets. With
     * plain malloc the second would be served from its own malloc arena, elsewhere. */
    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    worker a = {&barrier, true, NULL}, b = {&barrier, false, NULL};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, worker_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, worker_main, &b), 0);
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tb, NULL), 0);
    pthread_barrier_destroy(&barrier);
    const void *first = a.at, *second = b.at;
    assert_non_null(first);
    assert_ptr_equal(first, second);
    /* On this thread too, as long as the spare is there. */
    assert_ptr_equal(large_scope(), first);
    json_arena_trim();
    json_arena_release();
}

/* A worker whose review takes four heap blocks (the most one scope takes before it maps larger
 * ones), then waits for the others before ending its scope. */
static void *four_blocks(void *arg)
{
    pthread_barrier_t *barrier = arg;
    json_arena_begin();
    for (int i = 0; i < 4; i++) {
        char *p = cJSON_malloc(LARGE_STRING); /* one 120 KiB heap block each */
        assert_non_null(p);
        memset(p, 'x', LARGE_STRING);
    }
    pthread_barrier_wait(barrier);
    json_arena_end();
    pthread_barrier_wait(barrier); /* alive until all have ended: no malloc arena is shared */
    json_arena_release();
    return NULL;
}

static void test_spares_are_capped_and_trimmed(void **state)
{
    (void)state;
    if (!arena_in_use()) {
        json_arena_release();
        skip();
    }
    json_arena_trim();
    size_t before = mallinfo2().uordblks;
    /* Three reviews of four blocks each end together: 12 blocks, of which 8 stay as spares. */
    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 3), 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, four_blocks, &barrier), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    size_t held = mallinfo2().uordblks - before;
    assert_true(held >= 8 * 120 * 1024);
    assert_true(held < 9 * 120 * 1024);
    json_arena_trim();
    size_t after = mallinfo2().uordblks;
    assert_true(after < before + 120 * 1024);
    json_arena_release();
}

int main(void)
{
    json_arena_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trees_live_until_the_scope_ends),
        cmocka_unit_test(test_a_spare_block_serves_the_next_large_review_on_another_thread),
        cmocka_unit_test(test_spares_are_capped_and_trimmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

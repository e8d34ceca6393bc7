/*
 * json_arena.c — a thread-local bump allocator behind cJSON's hooks (json_arena.h).
 */
#include "json_arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

/* Under valgrind, memory between scopes is marked unaddressable: a pointer kept past
 * json_arena_end() reads as an error there, as it would if the blocks went back to free().
 * (No-ops without valgrind, and when its headers are not installed.) */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define ARENA_RETIRE(b) VALGRIND_MAKE_MEM_NOACCESS((b)->data, (b)->size)
#define ARENA_REUSE(b)  VALGRIND_MAKE_MEM_UNDEFINED((b)->data, (b)->size)
#endif
#endif
#ifndef ARENA_RETIRE
#define ARENA_RETIRE(b) ((void)(b))
#define ARENA_REUSE(b)  ((void)(b))
#endif

#define ARENA_BLOCK (64 * 1024) /* kept for reuse: a typical review fits in it */
/* The blocks after the first: below M_MMAP_THRESHOLD (128 KiB, cmd_serve.c), so that malloc
 * takes them from its heap and the next request reuses them. Blocks the kernel maps and unmaps
 * for every request cost page faults and, on munmap, a TLB shootdown on every CPU: with
 * 40-container pods that was a fifth of the server's time. */
#define ARENA_HEAP_BLOCK (120 * 1024)
/* After this many heap blocks (about 0.5 MiB of tree: a 75 KiB object; 40 containers take
 * one), each block is twice the last, mapped on its own and given back when the request ends.
 * Heap blocks freed at the top of a worker's malloc arena stay resident (malloc_trim does not
 * shrink a thread arena's top): with 32 of them, 100,000 annotations left 1.7 MiB behind. */
#define ARENA_HEAP_BLOCKS 4
/* Heap blocks a scope has finished with wait here for the next scope on any thread, instead of
 * going back to malloc: a 120 KiB block freed at the top of a worker's malloc arena makes glibc
 * shrink that arena at once (its trim threshold is 128 KiB), and the next large review faults
 * the pages back in, paying a TLB shootdown per request. json_arena_trim() empties this. */
#define ARENA_SPARE_BLOCKS 8
#define ARENA_ALIGN        16

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block;

/* This thread's arena: `active` while a scope is open; `blocks` is the block being filled,
 * then the older ones; `kept` is the first block, reused from one scope to the next. */
static _Thread_local bool active;
static _Thread_local block *blocks;
static _Thread_local block *kept;
static _Thread_local size_t nblocks; /* blocks in this scope */

static bool installed;

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static block *spare[ARENA_SPARE_BLOCKS];
static size_t spare_count;
/* Frees a thread's kept block when the thread exits (libmicrohttpd's workers at shutdown). */
static pthread_key_t kept_key;

static void free_kept(void *b)
{
    free(b);
}

static block *new_block(size_t at_least)
{
    size_t size = at_least > ARENA_BLOCK ? at_least : ARENA_BLOCK;
    block *b = malloc(sizeof *b + size);
    if (b) {
        b->next = NULL;
        b->size = size;
        b->used = 0;
    }
    return b;
}

/* A spare heap block, or NULL when there is none. */
static block *take_spare(void)
{
    block *b = NULL;
    pthread_mutex_lock(&spare_lock);
    if (spare_count > 0)
        b = spare[--spare_count];
    pthread_mutex_unlock(&spare_lock);
    if (b) {
        ARENA_REUSE(b);
        b->next = NULL;
        b->used = 0;
    }
    return b;
}

/* Keep `b` as a spare when it is a heap block and there is room; otherwise free it. */
static void give_back(block *b)
{
    bool kept_as_spare = false;
    if (b->size == ARENA_HEAP_BLOCK) {
        pthread_mutex_lock(&spare_lock);
        if (spare_count < ARENA_SPARE_BLOCKS) {
            ARENA_RETIRE(b);
            spare[spare_count++] = b;
            kept_as_spare = true;
        }
        pthread_mutex_unlock(&spare_lock);
    }
    if (!kept_as_spare)
        free(b);
}

static bool owns(const void *p)
{
    for (const block *b = blocks; b; b = b->next)
        if ((const unsigned char *)p >= b->data && (const unsigned char *)p < b->data + b->size)
            return true;
    return false;
}

static void *arena_malloc(size_t n)
{
    if (!active)
        return malloc(n);
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        return NULL;
    if (!blocks || blocks->size - blocks->used < need) {
        size_t grow = ARENA_HEAP_BLOCK;
        if (!blocks)
            grow = ARENA_BLOCK;
        else if (nblocks > ARENA_HEAP_BLOCKS)
            grow = blocks->size < ((size_t)8 << 20) ? blocks->size * 2 : blocks->size;
        block *b = grow == ARENA_HEAP_BLOCK && need <= grow ? take_spare() : NULL;
        if (!b)
            b = new_block(need > grow ? need : grow);
        if (!b)
            return NULL;
        b->next = blocks;
        blocks = b;
        nblocks++;
    }
    void *p = blocks->data + blocks->used;
    blocks->used += need;
    return p;
}

static void arena_free(void *p)
{
    if (p == NULL || (active && owns(p)))
        return; /* reclaimed all at once by json_arena_end() */
    free(p);
}

bool json_arena_owns(const void *p)
{
    return active && owns(p);
}

void json_arena_delete(cJSON *tree)
{
    if (tree != NULL && !json_arena_owns(tree))
        cJSON_Delete(tree);
}

/* AddressSanitizer must see every cJSON allocation: sanitizer builds keep malloc. (A constant
 * rather than #ifdef around the code, so that both builds compile all of it.) */
#ifdef SW_SANITIZE
static const bool use_arena = false;
#else
static const bool use_arena = true;
#endif

void json_arena_install(void)
{
    if (!use_arena || installed || pthread_key_create(&kept_key, free_kept) != 0)
        return;
    cJSON_Hooks hooks = {arena_malloc, arena_free};
    cJSON_InitHooks(&hooks);
    installed = true;
}

void json_arena_begin(void)
{
    if (!installed)
        return;
    if (!kept) {
        kept = new_block(ARENA_BLOCK);
        if (!kept)
            return; /* no arena: plain malloc, still correct */
        pthread_setspecific(kept_key, kept);
    }
    ARENA_REUSE(kept);
    kept->used = 0;
    kept->next = NULL;
    blocks = kept;
    nblocks = 1;
    active = true;
}

void json_arena_end(void)
{
    if (!active)
        return;
    active = false;
    while (blocks && blocks != kept) {
        block *next = blocks->next;
        give_back(blocks);
        blocks = next;
    }
    if (kept)
        ARENA_RETIRE(kept);
    blocks = NULL;
}

void json_arena_trim(void)
{
    pthread_mutex_lock(&spare_lock);
    while (spare_count > 0)
        free(spare[--spare_count]);
    pthread_mutex_unlock(&spare_lock);
}

void json_arena_release(void)
{
    json_arena_end();
    if (installed)
        pthread_setspecific(kept_key, NULL);
    free(kept);
    kept = NULL;
}

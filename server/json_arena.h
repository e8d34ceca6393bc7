/*
 * json_arena.h — per-request memory for cJSON in the server's request path.
 *
 * cJSON allocates every node and every string on its own; for one AdmissionReview that is
 * hundreds of malloc/free pairs, and profiling the server under load put malloc and free at a
 * quarter of its CPU time. Between json_arena_begin() and json_arena_end() on a thread,
 * cJSON's allocations (through cJSON_InitHooks) come from a bump allocator owned by that
 * thread; its memory is reused by the next request, and cJSON_Delete() frees nothing.
 * Anything cJSON allocates inside the scope must not outlive it: copy what must (the
 * response body) with malloc before json_arena_end().
 *
 * In sanitizer builds (SW_SANITIZE) the arena is never used, so AddressSanitizer keeps
 * checking every cJSON allocation.
 */
#ifndef SW_JSON_ARENA_H
#define SW_JSON_ARENA_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* json_arena_install — point cJSON's hooks at the arena-aware allocator. Call once, before
 * any other thread uses cJSON. Without it, begin/end do nothing. */
void json_arena_install(void);

/* json_arena_begin — from now on, this thread's cJSON allocations come from its arena. */
void json_arena_begin(void);

/* json_arena_end — back to malloc; the arena's memory is reclaimed for the next scope: the
 * thread keeps its first block, up to 8 of the 120 KiB blocks a large review adds wait as
 * spares for any thread (until json_arena_trim()), and larger blocks are freed. */
void json_arena_end(void);

/* json_arena_owns — whether `p` is memory of this thread's open arena scope. */
bool json_arena_owns(const void *p);

/* json_arena_delete — cJSON_Delete(tree), unless the tree is memory of this thread's open arena
 * scope: its end reclaims that all at once, and walking the tree to free nothing is a
 * measurable part of a review. */
void json_arena_delete(cJSON *tree);

/* json_arena_release — free this thread's kept block (at thread or process end). */
void json_arena_release(void);

/* json_arena_trim — free the spare blocks (up to about 1 MiB), for when a burst of large
 * reviews is over. Thread-safe. */
void json_arena_trim(void);

#endif

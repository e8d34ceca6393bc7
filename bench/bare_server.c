/*
 * bare_server.c — the floor under seccomp-webhook's HTTP figures: libmicrohttpd over GnuTLS
 * with the server's own settings (a thread pool of one thread per core, epoll, the same TLS
 * priority string), answering every POST with a fixed file once the body has been read, and
 * doing nothing else. bench/http-bench.sh runs it beside the real server and nginx, so that
 * "ours / bare" is the cost of the product itself and "bare / nginx" that of the HTTP library.
 * Not a test.
 *
 *   bench_bare_server PORT CERT.pem KEY.pem ANSWER_FILE
 *
 * ANSWER_FILE is re-read on SIGHUP, so one process can stand in for several bodies.
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls_priorities.h"

static struct MHD_Response *_Atomic answer;
static const char *answer_path;
static volatile sig_atomic_t reload;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return buf;
}

static struct MHD_Response *load_answer(void)
{
    size_t len;
    char *text = slurp(answer_path, &len);
    if (text == NULL)
        return NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (r != NULL)
        MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (*con_cls == NULL) {
        *con_cls = c; /* the headers: ask for the body */
        return MHD_YES;
    }
    if (*data_size != 0) {
        *data_size = 0; /* read and dropped */
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, atomic_load(&answer));
}

static void on_hup(int sig)
{
    (void)sig;
    reload = 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_bare_server PORT CERT.pem KEY.pem ANSWER_FILE\n");
        return 2;
    }
    size_t n;
    char *cert = slurp(argv[2], &n);
    char *key = slurp(argv[3], &n);
    answer_path = argv[4];
    struct MHD_Response *first = load_answer();
    if (cert == NULL || key == NULL || first == NULL) {
        fprintf(stderr, "bench_bare_server: cannot read the certificate, key or answer\n");
        return 2;
    }
    atomic_store(&answer, first);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
        (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL, MHD_OPTION_HTTPS_MEM_CERT, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1), MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bench_bare_server: cannot start on port %s\n", argv[1]);
        return 2;
    }
    signal(SIGHUP, on_hup);
    for (;;) {
        pause();
        if (reload) {
            reload = 0;
            struct MHD_Response *r = load_answer();
            if (r != NULL) {
                /* The old answer stays alive: a response still being sent may refer to it. */
                atomic_store(&answer, r);
            }
        }
    }
}

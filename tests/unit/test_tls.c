/*
 * test_tls.c — reading the serving certificate and key from files (tls_load_files): a leaf
 * with its intermediate is read whole, with what the logs say about it; a key file whose
 * private value does not go with its public half is refused, though the public half matches
 * the certificate (X509_check_private_key() compares only that).
 *
 * tests/fixtures/tls (README.md there): chain.pem is a leaf and its intermediate, key.pem the
 * leaf's key, key-wrong-private.pem the leaf's public point with another private value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls.h"

static void fixture(char *out, size_t len, const char *name)
{
    const char *dir = getenv("SW_FIXTURES");
    assert_non_null(dir);
    snprintf(out, len, "%s/tls/%s", dir, name);
}

static void test_a_chain_and_its_key_are_read_whole(void **state)
{
    (void)state;
    char chain[4096], key[4096], err[256] = "";
    fixture(chain, sizeof chain, "chain.pem");
    fixture(key, sizeof key, "key.pem");
    tls_pair p = {0};
    assert_int_equal(tls_load_files(chain, key, &p, err, sizeof err), 0);
    assert_int_equal(p.chain_len, 2);
    assert_string_equal(p.subject, "CN=seccomp-webhook.seccomp-webhook.svc");
    assert_string_equal(p.sans, "DNS:seccomp-webhook.seccomp-webhook.svc,"
                                "DNS:seccomp-webhook.seccomp-webhook.svc.cluster.local");
    assert_true(p.not_after > p.not_before);
    assert_int_equal(strlen(p.fingerprint), 32 * 3 - 1);
    /* Both certificates, re-encoded, then the key as PKCS#8. */
    const char *second = strstr(p.cert_pem + 1, "-----BEGIN CERTIFICATE-----");
    assert_non_null(second);
    assert_null(strstr(second + 1, "-----BEGIN CERTIFICATE-----"));
    assert_int_equal(strncmp(p.key_pem, "-----BEGIN PRIVATE KEY-----", 27), 0);

    /* The same files give the same identity; the identity is not all zeros. */
    tls_pair again = {0};
    assert_int_equal(tls_load_files(chain, key, &again, err, sizeof err), 0);
    assert_memory_equal(p.identity, again.identity, sizeof p.identity);
    static const unsigned char zeros[sizeof p.identity];
    assert_memory_not_equal(p.identity, zeros, sizeof p.identity);
    tls_pair_free(&again);
    tls_pair_free(&p);
}

static void test_a_key_whose_private_half_is_wrong_is_refused(void **state)
{
    (void)state;
    char chain[4096], key[4096], err[256] = "";
    fixture(chain, sizeof chain, "chain.pem");
    fixture(key, sizeof key, "key-wrong-private.pem");
    tls_pair p = {0};
    assert_int_equal(tls_load_files(chain, key, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "key-wrong-private.pem"));
    assert_non_null(strstr(err, "the private key does not go with its own public key"));
    assert_null(p.cert_pem);
    assert_null(p.key_pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_chain_and_its_key_are_read_whole),
        cmocka_unit_test(test_a_key_whose_private_half_is_wrong_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

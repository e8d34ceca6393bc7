/*
 * tls_priorities.h — the server's GnuTLS priority string, in one place for the server
 * (server/http.c) and for the bare libmicrohttpd server the benchmarks compare it with
 * (bench/bare_server.c).
 */
#ifndef SW_TLS_PRIORITIES_H
#define SW_TLS_PRIORITIES_H

/*
 * The GnuTLS priority string (MHD_OPTION_HTTPS_PRIORITIES; SPEC §4: TLS 1.2 or newer only).
 *   NORMAL                   GnuTLS's defaults for signature algorithms and the verification
 *                            profile (RSA-2048 and P-256 certificates both work)
 *   -VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2
 *                            TLS 1.3 and 1.2 only: SSL 3.0, TLS 1.0 and 1.1 are refused; the
 *                            API server's client asks for TLS 1.2 at least
 *   -CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305  -MAC-ALL:+AEAD
 *                            AEAD ciphers only: no CBC, RC4, 3DES, CCM
 *   -KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA
 *                            forward-secret key exchange only (TLS 1.2: no static RSA, no
 *                            finite-field DHE, no PSK); TLS 1.3 is always ephemeral
 *   -GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1
 *                            X25519 first: Go's client (the API server) and OpenSSL send their
 *                            TLS 1.3 key share for X25519, and with server precedence NORMAL's
 *                            order (P-256 first) made every new connection pay a
 *                            HelloRetryRequest round trip; no finite-field groups
 *   %SERVER_PRECEDENCE       the server's order, not the client's
 * Suites offered: TLS 1.3 AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305; TLS 1.2
 * ECDHE-{ECDSA,RSA}-{AES256-GCM,AES128-GCM,CHACHA20-POLY1305}.
 * Checked with gnutls-cli and openssl s_client against the running server: TLS 1.0 and 1.1
 * refused; TLS 1.2 and 1.3 accepted with an ECDSA and an RSA certificate; CBC, CCM, static-RSA
 * and DHE suites refused; an X25519 key share answered without a HelloRetryRequest.
 */
#define HTTP_TLS_PRIORITIES                                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"            \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:"  \
    "+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:%SERVER_PRECEDENCE"

#endif

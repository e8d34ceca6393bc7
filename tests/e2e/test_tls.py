#!/usr/bin/python3
"""
test_tls.py — the TLS policy and client certificates of `serve`, end to end (SPEC §3, §4;
issue 6).

TLS policy. A server with an RSA certificate (so that static-RSA key exchange would be
possible at all) is probed with `openssl s_client -msg`:
  refused  TLS 1.0 and 1.1 (the client offered at SECLEVEL=0, which OpenSSL 3 needs to send
           them), the CBC-SHA1 suites AES128-SHA (static RSA) and ECDHE-RSA-AES128-SHA
           (forward-secret but CBC), and AES128-GCM-SHA256 (AEAD but static-RSA key exchange);
  accepted TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and ECDHE-RSA-CHACHA20-POLY1305, and TLS 1.3,
           each with the certificate verified against the test CA.
A refusal counts only when the ClientHello went out and no ServerHello came back; and each
refused command is first shown to complete a handshake against `openssl s_server` configured to
allow it, so it is the webhook that refuses, not the client. The README must quote the exact
priority string of server/http.c.

Client certificates (--client-ca, a bundle of two CAs as during a CA rotation), with curl:
  - a certificate from either CA of the bundle: 200 on /validate (TLS 1.2 and 1.3) and /mutate,
    and a second request on the same keep-alive connection too;
  - none, one from a foreign CA, an expired one (made with `openssl ca -startdate/-enddate` in
    2020), one for serverAuth only: 403 with {"error": ...}, and a "client_cert_rejected" line
    with the reason (missing, unknown_ca, expired, wrong_purpose) and GnuTLS's status word;
  - /healthz and /readyz: 200 without any certificate.
A foreign-CA certificate gets 403, not a failed handshake: libmicrohttpd only *requests* a
client certificate (GNUTLS_CERT_REQUEST), so the handshake completes whatever the client sends —
it has to, since /healthz and /readyz on the same port need none — and the server judges the
certificate per request with gnutls_certificate_verify_peers() and its status word.
Finally, --client-ca naming a file without a certificate stops `serve` with exit 2.

    tests/e2e/test_tls.py --binary build/seccomp-webhook [--self-sandbox] [--keep]

The last line is `N passed, M failed`; the exit status is 1 on any failure.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tlslib import (  # noqa: E402
    CA, CLIENT_EXT, SERVER_EXT, Results, Server, SetupError, client_context, dump_log,
    free_port, pod_review, s_client)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REFUSED = [
    ("TLS 1.0", ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]),
    ("TLS 1.1", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
    ("CBC-SHA1 suite AES128-SHA (static RSA)", ["-tls1_2", "-cipher", "AES128-SHA"]),
    ("CBC-SHA1 suite ECDHE-RSA-AES128-SHA", ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"]),
    ("RSA key exchange AES128-GCM-SHA256", ["-tls1_2", "-cipher", "AES128-GCM-SHA256"]),
]
ACCEPTED = [
    ("TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256", ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
     "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    ("TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305", ["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"],
     "TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305"),
    ("TLS 1.3", ["-tls1_3"], "TLSv1.3", None),
]


def client_hello_sent(out):
    return re.search(r"^>>> .*ClientHello", out, re.M) is not None


def server_hello_received(out):
    return re.search(r"^<<< .*ServerHello", out, re.M) is not None


def negotiated(out):
    """(protocol, cipher) from s_client's session summary."""
    proto = re.search(r"^\s*Protocol\s*:\s*(\S+)", out, re.M)
    new = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
    if proto is None and new is not None and new.group(1) == "TLSv1.3":
        proto = new  # TLS 1.3 sessions print no Protocol line before a ticket arrives
    return (proto.group(1) if proto else None, new.group(2) if new else None)


# ------------------------------------------------------------------------------------------------
# TLS policy
# ------------------------------------------------------------------------------------------------

def check_control(res, work, cert, key):
    """Each refused command completes against openssl s_server allowing everything."""
    port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                            "-cert", cert, "-key", key, "-cipher", "ALL:@SECLEVEL=0",
                            "-naccept", str(len(REFUSED)), "-quiet"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd=work)
    try:
        time.sleep(0.3)
        for name, opts in REFUSED:
            out = ""
            for _ in range(20):  # s_server may need a moment to listen
                rc, out, err = s_client(port, opts)
                if server_hello_received(out):
                    break
                time.sleep(0.1)
            res.check("control: openssl s_server accepts %s from the same client" % name,
                      server_hello_received(out), out[-400:])
    finally:
        srv.kill()
        srv.wait(5)


def check_policy(res, server, ca):
    for name, opts in REFUSED:
        rc, out, err = s_client(server.port, opts, ca=ca)
        ok = rc != 0 and client_hello_sent(out) and not server_hello_received(out)
        res.check("refused: %s (ClientHello sent, no ServerHello, handshake failed)" % name, ok,
                  "exit %d, negotiated %s; %s" % (rc, negotiated(out), err.strip()[-300:]))
    for name, opts, want_proto, want_cipher in ACCEPTED:
        rc, out, err = s_client(server.port, opts, ca=ca)
        proto, cipher = negotiated(out)
        ok = (rc == 0 and proto == want_proto and "Verify return code: 0 (ok)" in out
              and (want_cipher is None or cipher == want_cipher))
        res.check("accepted: %s (verified, negotiated %s %s)" % (name, proto, cipher), ok,
                  "exit %d; %s" % (rc, err.strip()[-300:]))


def check_readme(res):
    with open(os.path.join(ROOT, "server", "tls_priorities.h")) as f:
        src = f.read()
    m = re.search(r"#define HTTP_TLS_PRIORITIES\s*\\?\s*((?:\"[^\"]*\"\s*\\?\s*)+)", src)
    if not res.check("server/tls_priorities.h defines HTTP_TLS_PRIORITIES", m is not None):
        return
    prio = "".join(re.findall(r"\"([^\"]*)\"", m.group(1)))
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    res.check("README.md quotes the exact priority string %s" % prio,
              re.search(r"(^|[\s`])" + re.escape(prio) + r"($|[\s`])", readme, re.M) is not None)


# ------------------------------------------------------------------------------------------------
# Client certificates
# ------------------------------------------------------------------------------------------------

def curl(port, ca, path, cert=None, key=None, body=None, extra=()):
    """One curl run (possibly several URLs); returns (exit status, [HTTP codes], stdout)."""
    cmd = ["curl", "-q", "--silent", "--show-error", "--http1.1", "--noproxy", "*",
           "--cacert", ca, "--max-time", "10", "--write-out", "\n%{http_code}\n"]
    if cert:
        cmd += ["--cert", cert, "--key", key]
    cmd += list(extra)
    if body is not None:
        cmd += ["--header", "Content-Type: application/json", "--header", "Expect:",
                "--data-binary", body]
    urls = path if isinstance(path, list) else [path]
    cmd += ["https://127.0.0.1:%d%s" % (port, p) for p in urls]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    text = p.stdout.decode("utf-8", "replace")
    codes = [int(c) for c in re.findall(r"^(\d{3})$", text, re.M)]
    return p.returncode, codes, text, p.stderr.decode("utf-8", "replace")


def check_client_certs(res, server, ca, good, good2, foreign, expired, wrong_purpose):
    body = json.dumps(pod_review(), separators=(",", ":"))
    port = server.port

    def review_ok(text):
        return '"kind":"AdmissionReview"' in text and '"uid"' in text

    for label, (cert, key), extra in (("CA 1", good, ["--tlsv1.2", "--tls-max", "1.2"]),
                                      ("CA 1", good, ["--tlsv1.3"]),
                                      ("CA 2 of the bundle", good2, ["--tlsv1.3"])):
        rc, codes, text, err = curl(port, ca, "/validate?timeout=10s", cert, key, body, extra)
        res.check("client cert from %s, %s: 200 on /validate" % (label, extra[0][2:]),
                  rc == 0 and codes == [200] and review_ok(text), "%s %s %s" % (rc, codes, err))
    rc, codes, text, err = curl(port, ca, "/mutate?timeout=10s", good[0], good[1], body)
    res.check("good client cert: 200 on /mutate", rc == 0 and codes == [200] and review_ok(text),
              "%s %s %s" % (rc, codes, err))
    # Two requests on one keep-alive connection (the second from the connection's cache).
    rc, codes, text, err = curl(port, ca, ["/validate?timeout=10s", "/validate?timeout=10s"],
                                good[0], good[1], body, ["--verbose"])
    res.check("good client cert: two requests on one keep-alive connection, both 200",
              rc == 0 and codes == [200, 200] and "Re-using existing connection" in err,
              "%s %s %s" % (rc, codes, err[-300:]))

    before = len(server.events("client_cert_rejected"))
    cases = [("no client certificate", None, None, "missing"),
             ("a certificate from a foreign CA", foreign[0], foreign[1], "unknown_ca"),
             ("an expired certificate", expired[0], expired[1], "expired"),
             ("a serverAuth-only certificate", wrong_purpose[0], wrong_purpose[1],
              "wrong_purpose")]
    for label, cert, key, reason in cases:
        for endpoint in ("/validate", "/mutate"):
            rc, codes, text, err = curl(port, ca, endpoint + "?timeout=10s", cert, key, body)
            err_body = None
            try:
                err_body = json.loads(text.rsplit("\n", 2)[0])
            except ValueError:
                pass
            ok = (rc == 0 and codes == [403] and isinstance(err_body, dict)
                  and isinstance(err_body.get("error"), str) and err_body["error"])
            res.check("%s: 403 with a JSON error on %s (handshake completed)" % (label, endpoint),
                      ok, "%s %s %r %s" % (rc, codes, text[:200], err[-200:]))
        lines = server.wait_event("client_cert_rejected", timeout=5,
                                  pred=lambda e, r=reason: e.get("reason") == r)
        res.check("%s: logged as client_cert_rejected, reason %s" % (label, reason),
                  len(lines) >= 2, server.events("client_cert_rejected")[before:])
        if reason != "missing" and lines:
            res.check("%s: the log line has GnuTLS's status word and the subject" % label,
                      re.match(r"^0x[0-9a-f]+$", lines[0].get("gnutls_status", "")) is not None
                      and "CN=" in lines[0].get("subject", ""), lines[0])

    for path in ("/healthz", "/readyz"):
        rc, codes, text, err = curl(port, ca, path)
        res.check("%s without a client certificate: 200" % path, rc == 0 and codes == [200],
                  "%s %s %s" % (rc, codes, err))


def check_bad_client_ca(res, binary, work, cert, key):
    empty = os.path.join(work, "not-a-ca.pem")
    with open(empty, "w") as f:
        f.write("no certificate here\n")
    p = subprocess.run([binary, "serve", "--listen", "127.0.0.1:%d" % free_port(),
                        "--tls-cert", cert, "--tls-key", key, "--client-ca", empty,
                        "--no-self-sandbox"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    err = p.stderr.decode("utf-8", "replace")
    res.check("--client-ca without a certificate: exit 2 naming the file",
              p.returncode == 2 and "not-a-ca.pem" in err, "exit %d: %s" % (p.returncode, err))



def check_port_taken(res, binary, cert, key):
    """A server that cannot bind its port exits 2 (SPEC §3: 1 is a violation found), saying
    why in a start_failed line."""
    import socket
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        p = subprocess.run([binary, "serve", "--listen", "127.0.0.1:%d" % taken.getsockname()[1],
                            "--tls-cert", cert, "--tls-key", key, "--no-self-sandbox"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        taken.close()
    err = p.stderr.decode("utf-8", "replace")
    res.check("a port already taken: exit 2 with a start_failed line",
              p.returncode == 2 and '"start_failed"' in err and "already in use" in err,
              "exit %d: %s" % (p.returncode, err[-500:]))

# ------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--self-sandbox", action="store_true",
                    help="run the servers with their seccomp filter (no --no-self-sandbox)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)

    res = Results()
    work = tempfile.mkdtemp(prefix="sw-tls-")
    servers = []
    try:
        ca = CA(work, "ca", key="rsa")
        rsa_cert, rsa_key = ca.issue("server", "localhost", SERVER_EXT, key="rsa")
        client_ca1 = CA(work, "client-ca-1")
        client_ca2 = CA(work, "client-ca-2")
        foreign_ca = CA(work, "foreign-ca")
        bundle = os.path.join(work, "client-bundle.pem")
        with open(bundle, "w") as out:
            for c in (client_ca1, client_ca2):
                with open(c.pem) as f:
                    out.write(f.read())
        good = client_ca1.issue("good", "apiserver", CLIENT_EXT)
        good2 = client_ca2.issue("good2", "apiserver (new CA)", CLIENT_EXT)
        foreign = foreign_ca.issue("foreign", "apiserver", CLIENT_EXT)
        expired = client_ca1.issue("expired", "apiserver (expired)", CLIENT_EXT,
                                   not_before="20200101000000Z", not_after="20200102000000Z")
        server_only = client_ca1.issue(
            "server-only", "not a client",
            CLIENT_EXT.replace("extendedKeyUsage=clientAuth", "extendedKeyUsage=serverAuth"))

        # -- the TLS policy -----------------------------------------------------------------
        check_readme(res)
        check_control(res, work, rsa_cert, rsa_key)
        server = Server(binary, ["--tls-cert", rsa_cert, "--tls-key", rsa_key], work,
                        sandbox=args.self_sandbox, tag="policy-server")
        servers.append(server)
        server.start()
        server.wait_healthy(client_context(ca.pem))
        check_policy(res, server, ca.pem)

        # -- client certificates ------------------------------------------------------------
        cserver = Server(binary, ["--tls-cert", rsa_cert, "--tls-key", rsa_key,
                                  "--client-ca", bundle], work, sandbox=args.self_sandbox,
                         tag="client-ca-server")
        servers.append(cserver)
        cserver.start()
        cserver.wait_healthy(client_context(ca.pem))
        start = cserver.wait_event("start")
        res.check("start line names the client CA bundle (2 certificates)",
                  bool(start) and start[0].get("client_ca") == bundle
                  and start[0].get("client_ca_certs") == 2, start)
        check_client_certs(res, cserver, ca.pem, good, good2, foreign, expired, server_only)
        check_bad_client_ca(res, binary, work, rsa_cert, rsa_key)
        check_port_taken(res, binary, rsa_cert, rsa_key)

        for s in servers:
            rc = s.stop()
            res.check("%s: SIGTERM → exit 0" % s.log_path.rsplit("/", 1)[1], rc == 0,
                      "exit %r" % rc)
            res.check("%s: no sanitizer report" % s.log_path.rsplit("/", 1)[1],
                      s.sanitizer_report() is None, s.sanitizer_report())
            res.check("%s: no sandbox_violation" % s.log_path.rsplit("/", 1)[1],
                      not s.events("sandbox_violation"), s.events("sandbox_violation"))
    except SetupError as e:
        res.check("test setup", False, e)
    finally:
        for s in servers:
            s.kill()
        if res.failed:
            for s in servers:
                dump_log(s)
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())

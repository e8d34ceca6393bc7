#!/usr/bin/python3
"""
test_rotation.py — certificate hot reload, end to end (SPEC §3; issue 6).

The server serves --tls-cert/--tls-key from a directory laid out as the kubelet lays out a
mounted TLS Secret (tls.crt and tls.key symlinks through `..data` into a timestamped directory),
and each new version is published the kubelet's way: a new directory, a `..data_tmp` symlink
renamed over `..data`, the old directory removed.

While reviews flow without a pause — on ONE keep-alive connection and on a new connection per
request, in parallel threads, all over TLS verified against the test CA — the pair goes

    A → B                        new connections are served B (the fingerprint that `openssl
                                 s_client | openssl x509 -fingerprint -sha256` sees) within
                                 5 s; "certificate_loaded" names B's subject, SANs, notAfter
                                 (RFC 3339, equal to openssl's) and fingerprint, and A's
    → B's certificate with C's key     refused ("certificate_rejected", the key does not match);
                                 B is still served
    → B's certificate cut in half      refused (an incomplete PEM block); B still served
    → B's certificate cut inside the BEGIN line of a next block   refused; B still served
    → B again, same bytes        nothing happens (no certificate_loaded)
    → C (an RSA key instead of EC), the files overwritten in place one after the other
                                 rather than through `..data` (certificate first: for a moment
                                 C's certificate meets B's key, refused or not seen), then
                                 served C

and the test checks that not one request of the stream failed, that the keep-alive connection
was never dropped and kept the certificate it was given (A) to the end, that the fresh
connections saw A, then B, then C, never going back, and that the server exits 0 on SIGTERM
with no sanitizer report and (with --self-sandbox) no sandbox_violation.

    tests/e2e/test_rotation.py --binary build/seccomp-webhook [--self-sandbox] [--keep]

The last line is `N passed, M failed`; the exit status is 1 on any failure.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tlslib import (  # noqa: E402
    CA, RFC3339_RE, SERVER_EXT, AtomicDir, Conn, Results, Server, SetupError, client_context,
    dump_log, fingerprint_of, fingerprint_of_der, pod_review, post_review, read_bytes, run,
    served_fingerprint)

SEEN_WITHIN = 5.0      # seconds for a new pair to reach new connections
CHECK_INTERVAL = 1     # --cert-check-interval for this run
STEADY = 1.5           # seconds a refused pair is watched for not being served


class Stream:
    """Reviews without a pause: one thread on one keep-alive connection, `fresh` threads each
    opening a new connection per request. Every answer and every served fingerprint is kept."""

    MAX_REQUESTS = 500000

    def __init__(self, port, ctx, fresh=2):
        self.port, self.ctx = port, ctx
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.failures = []
        self.count = 0
        self.fresh_ders = {}          # thread name -> [DER of each fresh connection, in order]
        self.keepalive_ders = set()   # the certificates the keep-alive connection was served
        self.keepalive_connects = 0
        self.threads = [threading.Thread(target=self._keepalive, daemon=True)]
        self.threads += [threading.Thread(target=self._fresh, daemon=True) for _ in range(fresh)]

    def _more(self):
        return not self.stop_event.is_set() and self.count < self.MAX_REQUESTS

    def _one(self, conn, how):
        review = pod_review(profile={"type": "RuntimeDefault"})
        status, doc, raw = post_review(conn, "validate", review)
        ok = (status == 200 and isinstance(doc, dict)
              and (doc.get("response") or {}).get("uid") == review["request"]["uid"]
              and (doc.get("response") or {}).get("allowed") is True)
        with self.lock:
            self.count += 1
            if not ok:
                self.failures.append("%s: HTTP %d %r" % (how, status, raw[:200]))

    def _keepalive(self):
        conn = Conn(self.port, self.ctx)
        while self._more():
            self._one(conn, "keep-alive")
            if conn.peer_der is not None:
                self.keepalive_ders.add(conn.peer_der)
        self.keepalive_connects = conn.connects
        conn.close()

    def _fresh(self):
        while self._more():
            conn = Conn(self.port, self.ctx)
            self._one(conn, "fresh")
            if conn.peer_der is not None:
                with self.lock:
                    self.fresh_ders.setdefault(threading.current_thread().name, []).append(
                        conn.peer_der)
            conn.close()

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(30)


def wait_served(port, want, limit=SEEN_WITHIN + 5):
    """Poll `openssl s_client` until a new connection is served `want`; returns the seconds it
    took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if served_fingerprint(port) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def steady_served(port, want, seconds=STEADY):
    """Every new connection during `seconds` is served `want`; returns what was seen."""
    seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.add(served_fingerprint(port))
        time.sleep(0.1)
    return seen


def not_after_rfc3339(pem):
    out = run(["openssl", "x509", "-in", pem, "-noout", "-enddate", "-dateopt", "iso_8601"],
              check=False)
    if out.returncode == 0:  # "notAfter=2026-12-01 18:00:00Z"
        text = out.stdout.decode().strip().split("=", 1)[1]
        return text.replace(" ", "T")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--self-sandbox", action="store_true",
                    help="run the server with its seccomp filter (no --no-self-sandbox)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    res = Results()
    work = tempfile.mkdtemp(prefix="sw-rotation-")
    server = stream = None
    try:
        ca = CA(work, "ca")
        a_cert, a_key = ca.issue("a", "webhook-a.example.svc", SERVER_EXT)
        b_cert, b_key = ca.issue("b", "webhook-b.example.svc", SERVER_EXT)
        c_cert, c_key = ca.issue("c", "webhook-c.example.svc", SERVER_EXT, key="rsa")
        fp = {n: fingerprint_of(p) for n, p in (("A", a_cert), ("B", b_cert), ("C", c_cert))}
        name_of = {v: k for k, v in fp.items()}

        secret = AtomicDir(os.path.join(work, "tls"))
        secret.publish({"tls.crt": read_bytes(a_cert), "tls.key": read_bytes(a_key)})
        server = Server(args.binary, ["--tls-cert", secret.path("tls.crt"),
                                      "--tls-key", secret.path("tls.key"),
                                      "--cert-check-interval", str(CHECK_INTERVAL)],
                        work, sandbox=args.self_sandbox)
        server.start()
        ctx = client_context(ca.pem)
        server.wait_healthy(ctx)
        start = server.wait_event("certificate_loaded")
        res.check("at start: certificate_loaded (source start) with A's fingerprint",
                  bool(start) and start[0].get("source") == "start"
                  and start[0].get("fingerprint_sha256") == fp["A"], start)
        res.check("a new connection is served A", served_fingerprint(server.port) == fp["A"])

        stream = Stream(server.port, ctx)
        stream.start()
        time.sleep(0.5)

        # -- A → B, the kubelet's way --------------------------------------------------------
        secret.publish({"tls.crt": read_bytes(b_cert), "tls.key": read_bytes(b_key)})
        took = wait_served(server.port, fp["B"])
        res.check("A → B: new connections are served B within %.0f s (%s)" % (
            SEEN_WITHIN, "%.2f s" % took if took is not None else "never"),
            took is not None and took <= SEEN_WITHIN)
        loaded = server.wait_event("certificate_loaded", 2)
        line = loaded[1] if len(loaded) > 1 else {}
        res.check("certificate_loaded (source reload) names B and A as the previous",
                  line.get("source") == "reload" and line.get("fingerprint_sha256") == fp["B"]
                  and line.get("previous_fingerprint_sha256") == fp["A"], line)
        res.check("certificate_loaded has B's subject and SANs",
                  "CN=webhook-b.example.svc" in line.get("subject", "")
                  and line.get("sans") == ["IP:127.0.0.1", "DNS:localhost"], line)
        want_end = not_after_rfc3339(b_cert)
        res.check("certificate_loaded has notAfter in RFC 3339 (%s) and as Unix time" % want_end,
                  RFC3339_RE.match(line.get("not_after", "")) is not None
                  and (want_end is None or line.get("not_after") == want_end)
                  and isinstance(line.get("not_after_unix"), (int, float)), line)

        # -- refused pairs: B stays ------------------------------------------------------------
        b_pem = read_bytes(b_cert)
        refused = [
            ("B's certificate with C's key (mismatched)", b_pem, read_bytes(c_key),
             "does not match"),
            ("B's certificate cut in half (half-written)", b_pem[:len(b_pem) // 2],
             read_bytes(b_key), "certificate"),
            ("B's certificate followed by a cut BEGIN line", b_pem + b"-----BEGIN CERT",
             read_bytes(b_key), "incomplete PEM block"),
        ]
        for label, cert_bytes, key_bytes, reason in refused:
            before = len(server.events("certificate_rejected"))
            secret.publish({"tls.crt": cert_bytes, "tls.key": key_bytes})
            lines = server.wait_event("certificate_rejected", before + 1)
            new = lines[before:]
            res.check("%s: certificate_rejected with the reason, B kept" % label,
                      bool(new) and reason in new[0].get("reason", "")
                      and new[0].get("kept_fingerprint_sha256") == fp["B"], new)
            seen = steady_served(server.port, fp["B"])
            res.check("%s: new connections are still served B" % label, seen == {fp["B"]},
                      [name_of.get(s, s) for s in seen])

        # -- the same pair again: nothing --------------------------------------------------
        n_loaded = len(server.events("certificate_loaded"))
        secret.publish({"tls.crt": read_bytes(b_cert), "tls.key": read_bytes(b_key)})
        time.sleep(CHECK_INTERVAL + 1.0)
        res.check("B published again (same bytes): no certificate_loaded, B served",
                  len(server.events("certificate_loaded")) == n_loaded
                  and served_fingerprint(server.port) == fp["B"])

        # -- B → C, files overwritten in place, one after the other ------------------------
        data_dir = os.path.join(secret.root, secret.current)
        with open(os.path.join(data_dir, "tls.crt"), "wb") as f:
            f.write(read_bytes(c_cert))
        time.sleep(0.3)
        with open(os.path.join(data_dir, "tls.key"), "wb") as f:
            f.write(read_bytes(c_key))
        took = wait_served(server.port, fp["C"])
        res.check("B → C written in place (certificate, then key): C served within %.0f s" %
                  SEEN_WITHIN, took is not None and took <= SEEN_WITHIN)
        loaded = server.wait_event("certificate_loaded", n_loaded + 1)
        res.check("certificate_loaded for C (an RSA key after EC ones)",
                  bool(loaded) and loaded[-1].get("fingerprint_sha256") == fp["C"],
                  loaded[-1:] if loaded else None)
        time.sleep(0.5)

        # -- the stream ----------------------------------------------------------------------
        stream.stop()
        res.check("%d reviews during the rotations, none failed" % stream.count,
                  stream.count > 50 and not stream.failures, stream.failures[:5])
        res.check("the keep-alive connection was never dropped (%d connect)" %
                  stream.keepalive_connects, stream.keepalive_connects == 1)
        kept = [fingerprint_of_der(d) for d in stream.keepalive_ders]
        res.check("the keep-alive connection kept A's certificate to the end",
                  kept == [fp["A"]], [name_of.get(k, k) for k in kept])
        # Each thread's connections follow one another, so each thread's sequence must be
        # A…B…C (two threads' handshakes may overlap, so only per thread is order defined).
        orders = []
        for thread, ders in sorted(stream.fresh_ders.items()):
            order = []
            for der in ders:
                n = name_of.get(fingerprint_of_der(der), "?")
                if not order or order[-1] != n:
                    order.append(n)
            orders.append(order)
        res.check("each fresh-connection thread saw A, then B, then C, never going back (%s)" %
                  "; ".join(" → ".join(o) for o in orders),
                  len(orders) == 2 and all(o == ["A", "B", "C"] for o in orders), orders)

        rc = server.stop()
        res.check("SIGTERM → exit 0", rc == 0, "exit %r" % rc)
        res.check("no sanitizer report", server.sanitizer_report() is None,
                  server.sanitizer_report())
        res.check("no sandbox_violation", not server.events("sandbox_violation"),
                  server.events("sandbox_violation"))
    except SetupError as e:
        res.check("test setup", False, e)
    finally:
        if stream is not None:
            stream.stop()
        if server is not None:
            server.kill()
            if res.failed:
                dump_log(server)
        if args.keep:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())

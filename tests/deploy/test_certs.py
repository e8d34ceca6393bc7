#!/usr/bin/python3
"""
test_certs.py — certs/make-certs.sh, checked with `openssl` and the real server:

  * the serving certificate verifies against the CA (`openssl verify -CAfile`), carries the SANs
    the API server checks (`openssl x509 -ext subjectAltName`: <svc>.<ns>.svc and
    <svc>.<ns>.svc.cluster.local), is a server-auth leaf (CA:FALSE) of the asked key type
    (EC P-256 or RSA 3072) and validity, and its key matches it; private keys are mode 0600;
  * caBundle.b64, secret.yaml (kubernetes.io/tls) and cabundle-patch.yaml hold exactly those
    files, and `kubectl kustomize` of the written overlay renders manifests/ with the Secret and
    the caBundle on both webhook configurations (other --namespace/--service names too);
  * `seccomp-webhook serve` with the pair answers a `curl` that trusts only the base64-decoded
    caBundle and reaches it by the Service DNS name (--resolve): HTTPS /healthz and a /validate
    AdmissionReview; a name outside the SANs and a curl without the CA are refused;
  * --renew: a new leaf from the same CA, caBundle unchanged;
  * rotation with overlap (--rotate start, promote, finish): after start the bundle holds the
    old and the new CA and verifies both serving certificates while the Secret keeps the old
    pair; after promote the Secret holds the new pair and the bundle still verifies both (the
    server is reached with each pair through the same bundle); after finish the bundle is the new
    CA only and no longer verifies the old leaf; out-of-order phases are refused.

The last line is `N passed, M failed`; exit 1 on any failure.
"""

import argparse
import base64
import json
import os
import re
import shutil
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

import yaml  # noqa: E402

SVC, NS = "seccomp-webhook", "seccomp-webhook"


def make(out, *args):
    return dl.run(["bash", dl.CERTS_SCRIPT, "--out", out] + list(args))


def read(path):
    with open(path) as f:
        return f.read()


def pem_certs(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", text, re.S)


def verifies(cafile, cert):
    p = dl.run(["openssl", "verify", "-CAfile", cafile, cert])
    return p.returncode == 0 and p.stdout.strip().endswith("OK")


def x509(cert, *opts):
    return dl.run(["openssl", "x509", "-in", cert, "-noout"] + list(opts), check=True).stdout


def fingerprint(cert):
    return x509(cert, "-fingerprint", "-sha256").strip().split("=", 1)[1]


def pubkey_of_cert(cert):
    return dl.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"], check=True).stdout


def pubkey_of_key(key):
    return dl.run(["openssl", "pkey", "-in", key, "-pubout"], check=True).stdout


def check_set(R, out, label, svc=SVC, ns=NS, keytype="ec", days=365):
    """The files of one make-certs.sh run."""
    files = ["ca.crt", "ca.key", "tls.crt", "tls.key", "ca-bundle.crt", "caBundle.b64",
             "secret.yaml", "cabundle-patch.yaml", "kustomization.yaml"]
    missing = [f for f in files if not os.path.isfile(os.path.join(out, f))]
    if not R.check("%s: writes %s" % (label, " ".join(files)), not missing, missing):
        return False
    ca, crt, key = (os.path.join(out, f) for f in ("ca.crt", "tls.crt", "tls.key"))
    for k in ("ca.key", "tls.key", "secret.yaml"):
        mode = stat.S_IMODE(os.stat(os.path.join(out, k)).st_mode)
        R.check("%s: %s is private (mode %o)" % (label, k, mode), mode & 0o077 == 0, oct(mode))
    R.check("%s: openssl verify -CAfile ca.crt tls.crt" % label, verifies(ca, crt))
    san = x509(crt, "-ext", "subjectAltName")
    names = set(re.findall(r"DNS:([^,\s]+)", san))
    host = "%s.%s.svc" % (svc, ns)
    R.check("%s: subjectAltName has %s and %s.cluster.local" % (label, host, host),
            {host, host + ".cluster.local"} <= names, san.strip())
    R.check("%s: no IP SAN, nothing outside the Service's names" % label,
            "IP Address" not in san and all(n == svc or n.startswith(svc + ".") for n in names),
            san.strip())
    leaf = x509(crt, "-text")
    R.check("%s: leaf is CA:FALSE, serverAuth" % label,
            "CA:FALSE" in leaf and "TLS Web Server Authentication" in leaf, "")
    if keytype == "ec":
        R.check("%s: EC P-256 key" % label, "NIST CURVE: P-256" in leaf, "")
    else:
        R.check("%s: RSA 3072 key" % label, "Public-Key: (3072 bit)" in leaf, "")
    cat = x509(ca, "-text")
    R.check("%s: the CA is CA:TRUE with keyCertSign" % label,
            "CA:TRUE" in cat and "Certificate Sign" in cat, "")
    end = dl.run(["openssl", "x509", "-in", crt, "-noout", "-checkend",
                  str((days - 1) * 86400)]).returncode == 0
    not_longer = dl.run(["openssl", "x509", "-in", crt, "-noout", "-checkend",
                         str((days + 1) * 86400)]).returncode != 0
    R.check("%s: the serving certificate is valid for %d days" % (label, days),
            end and not_longer, x509(crt, "-enddate").strip())
    R.check("%s: tls.key matches tls.crt" % label, pubkey_of_cert(crt) == pubkey_of_key(key))
    R.check("%s: tls.key is unencrypted PKCS#8" % label,
            read(key).startswith("-----BEGIN PRIVATE KEY-----"), read(key).split("\n")[0])

    bundle = read(os.path.join(out, "ca-bundle.crt"))
    b64 = read(os.path.join(out, "caBundle.b64")).strip()
    R.check("%s: caBundle.b64 is ca-bundle.crt in base64, one line" % label,
            "\n" not in b64 and base64.b64decode(b64, validate=True).decode() == bundle, "")
    sec = yaml.safe_load(read(os.path.join(out, "secret.yaml")))
    data = sec.get("data") or {}
    R.check("%s: secret.yaml is a kubernetes.io/tls Secret in %s holding tls.crt and tls.key"
            % (label, ns),
            sec.get("kind") == "Secret" and sec.get("type") == "kubernetes.io/tls"
            and sec["metadata"].get("namespace") == ns
            and set(data) == {"tls.crt", "tls.key"}
            and base64.b64decode(data["tls.crt"]).decode() == read(crt)
            and base64.b64decode(data["tls.key"]).decode() == read(key), sec.get("metadata"))
    patch = yaml.safe_load(read(os.path.join(out, "cabundle-patch.yaml")))
    R.check("%s: cabundle-patch.yaml replaces caBundle with caBundle.b64" % label,
            patch == [{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle",
                       "value": b64}], patch)
    return True


def check_overlay(R, kubectl, out, label, svc=SVC, ns=NS):
    if kubectl is None:
        print("note: no kubectl, the overlay is not rendered")
        return
    objs, err = dl.kustomize(kubectl, out)
    if not R.check("%s: kubectl kustomize %s renders" % (label, os.path.basename(out)),
                   objs is not None, err):
        return
    b64 = read(os.path.join(out, "caBundle.b64")).strip()
    sec = dl.one(objs, "Secret")
    dep = dl.one(objs, "Deployment")
    want_secret = next(v["secret"]["secretName"]
                       for v in dep["spec"]["template"]["spec"]["volumes"] if "secret" in v)
    R.check("%s: the overlay has the Secret the Deployment mounts" % label,
            sec is not None and sec["metadata"]["name"] == want_secret
            and sec["metadata"]["namespace"] == ns
            and sec["data"] == yaml.safe_load(read(os.path.join(out, "secret.yaml")))["data"],
            (sec or {}).get("metadata"))
    service = dl.one(objs, "Service")
    R.check("%s: Service %s in %s" % (label, svc, ns),
            service["metadata"]["name"] == svc and service["metadata"]["namespace"] == ns
            and dl.one(objs, "Namespace")["metadata"]["name"] == ns, service["metadata"])
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        w = dl.one(objs, kind)["webhooks"][0]
        cc = w["clientConfig"]
        R.check("%s: %s has the caBundle" % (label, kind), cc.get("caBundle") == b64, "")
        values = w["namespaceSelector"]["matchExpressions"][0]["values"]
        R.check("%s: %s calls %s.%s and excludes %s" % (label, kind, svc, ns, ns),
                cc["service"]["name"] == svc and cc["service"]["namespace"] == ns
                and ns in values and "kube-system" in values, (cc["service"], values))


def serve_and_curl(R, binary, cert, key, bundle_b64_file, workdir, label,
                   svc=SVC, ns=NS, negative=False):
    """The real server with the pair, a curl trusting only the decoded caBundle."""
    cafile = os.path.join(workdir, "cabundle-decoded-%d.pem" % int(time.monotonic() * 1e6))
    with open(cafile, "wb") as f:
        f.write(base64.b64decode(read(bundle_b64_file).strip(), validate=True))
    host = "%s.%s.svc" % (svc, ns)
    with dl.Server(binary, cert, key, workdir) as srv:
        if not R.check("%s: serve starts with the pair" % label, srv.wait_listening(),
                       srv.stderr()[-2000:]):
            return
        url = "https://%s:%d" % (host, srv.port)
        rc, code, body = dl.curl(url + "/healthz", host, srv.port, cafile)
        R.check("%s: curl --cacert <caBundle> --resolve %s GET /healthz -> 200"
                % (label, host), rc == 0 and code == 200, (rc, code, body))
        rc, code, body = dl.curl(url + "/validate?timeout=5s", host, srv.port, cafile,
                                 data=dl.EXAMPLE_REVIEW)
        review = dl.admission_response(body) if rc == 0 else None
        with open(dl.EXAMPLE_REVIEW) as f:
            uid = json.load(f)["request"]["uid"]
        R.check("%s: POST /validate over the Service name -> an AdmissionReview for the uid"
                % label, code == 200 and review is not None
                and review.get("response", {}).get("uid") == uid, (rc, code, body[:300]))
        if negative:
            long_host = host + ".cluster.local"
            rc, code, _ = dl.curl("https://%s:%d/healthz" % (long_host, srv.port), long_host,
                                  srv.port, cafile)
            R.check("%s: the .svc.cluster.local name verifies too" % label,
                    rc == 0 and code == 200, rc)
            other = "other.%s.svc" % ns
            rc, code, _ = dl.curl("https://%s:%d/healthz" % (other, srv.port), other,
                                  srv.port, cafile)
            R.check("%s: a name outside the SANs is refused by curl (exit 60)" % label,
                    rc == 60, rc)
            empty = os.path.join(workdir, "foreign-ca.pem")
            shutil.copy(os.path.join(workdir, "foreign", "ca.crt"), empty)
            rc, code, _ = dl.curl(url + "/healthz", host, srv.port, empty)
            R.check("%s: a curl trusting another CA is refused (exit 60)" % label, rc == 60, rc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="build/seccomp-webhook")
    ap.add_argument("--kubectl", help="kubectl (default /usr/bin/kubectl, then PATH)")
    a = ap.parse_args()
    kubectl = dl.find_kubectl(a.kubectl)
    R = dl.Results()
    work = dl.tempdir("sw-certs-")
    try:
        run_all(R, a.binary, kubectl, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    dl.exit_with(R)


def run_all(R, binary, kubectl, work):
    # A CA that is not ours, for the negative curl.
    p = make(os.path.join(work, "foreign"))
    R.check("a second, foreign set is made", p.returncode == 0, p.stderr)

    # --- first set, EC (default) -----------------------------------------------------------
    out = os.path.join(work, "out")
    p = make(out)
    if not R.check("make-certs.sh (EC P-256 default) exits 0", p.returncode == 0, p.stderr):
        return
    if check_set(R, out, "ec"):
        check_overlay(R, kubectl, out, "ec")
        serve_and_curl(R, binary, os.path.join(out, "tls.crt"), os.path.join(out, "tls.key"),
                       os.path.join(out, "caBundle.b64"), work, "ec", negative=True)
    p = make(out)
    R.check("a second run refuses to replace the CA without --force", p.returncode == 2,
            (p.returncode, p.stderr))

    # --- RSA 3072, other names, shorter validity --------------------------------------------
    rsa = os.path.join(work, "rsa")
    p = make(rsa, "--key-type", "rsa", "--namespace", "platform", "--service", "seccomp",
             "--days", "90")
    if R.check("make-certs.sh --key-type rsa --namespace platform --service seccomp exits 0",
               p.returncode == 0, p.stderr):
        if check_set(R, rsa, "rsa", svc="seccomp", ns="platform", keytype="rsa", days=90):
            check_overlay(R, kubectl, rsa, "rsa", svc="seccomp", ns="platform")
            serve_and_curl(R, binary, os.path.join(rsa, "tls.crt"), os.path.join(rsa, "tls.key"),
                           os.path.join(rsa, "caBundle.b64"), work, "rsa",
                           svc="seccomp", ns="platform")
    for bad in (["--key-type", "dsa"], ["--namespace", "Bad_NS"], ["--days", "0"],
                ["--rotate", "sideways"]):
        p = make(os.path.join(work, "bad"), *bad)
        R.check("make-certs.sh %s is a usage error (exit 2)" % " ".join(bad),
                p.returncode == 2, (p.returncode, p.stderr))

    # --- --renew: a new leaf from the same CA --------------------------------------------------
    old_leaf = os.path.join(work, "leaf-before-renew.crt")
    shutil.copy(os.path.join(out, "tls.crt"), old_leaf)
    bundle_before = read(os.path.join(out, "caBundle.b64"))
    p = make(out, "--renew")
    if R.check("--renew exits 0", p.returncode == 0, p.stderr):
        R.check("--renew: a different serving certificate",
                fingerprint(old_leaf) != fingerprint(os.path.join(out, "tls.crt")))
        R.check("--renew: the caBundle is unchanged",
                read(os.path.join(out, "caBundle.b64")) == bundle_before)
        check_set(R, out, "renew")

    # --- rotation with overlap -------------------------------------------------------------
    rotation(R, binary, kubectl, out, work)


def rotation(R, binary, kubectl, out, work):
    keep = os.path.join(work, "keep")
    os.makedirs(keep)
    for f in ("ca.crt", "tls.crt", "tls.key"):
        shutil.copy(os.path.join(out, f), os.path.join(keep, "old-" + f))
    old_ca, old_leaf, old_key = (os.path.join(keep, "old-" + f)
                                 for f in ("ca.crt", "tls.crt", "tls.key"))
    bundle = os.path.join(out, "ca-bundle.crt")
    b64 = os.path.join(out, "caBundle.b64")

    for phase in ("promote", "finish"):
        p = make(out, "--rotate", phase)
        R.check("--rotate %s before start is refused (exit 2)" % phase, p.returncode == 2,
                (p.returncode, p.stderr))

    # Step 1: the webhooks learn the new CA; the Secret keeps the old pair.
    p = make(out, "--rotate", "start")
    if not R.check("--rotate start exits 0", p.returncode == 0, p.stderr):
        return
    new_ca, new_leaf, new_key = (os.path.join(out, "next", f)
                                 for f in ("ca.crt", "tls.crt", "tls.key"))
    certs = pem_certs(read(bundle))
    R.check("start: the bundle is the old CA then the new CA",
            len(certs) == 2 and certs[0] == read(old_ca) and certs[1] == read(new_ca),
            len(certs))
    R.check("start: a new CA (different key)",
            pubkey_of_cert(new_ca) != pubkey_of_cert(old_ca))
    R.check("start: the bundle verifies the old serving certificate", verifies(bundle, old_leaf))
    R.check("start: the bundle verifies the new serving certificate", verifies(bundle, new_leaf))
    R.check("start: the new serving certificate does not verify against the old CA alone",
            not verifies(old_ca, new_leaf))
    R.check("start: the Secret still holds the old pair",
            read(os.path.join(out, "tls.crt")) == read(old_leaf))
    R.check("start: caBundle.b64 is the two-CA bundle",
            base64.b64decode(read(b64).strip()).decode() == read(bundle))
    check_overlay(R, kubectl, out, "start")
    serve_and_curl(R, binary, old_leaf, old_key, b64, work, "start, old pair")
    p = make(out, "--rotate", "start")
    R.check("--rotate start twice is refused (exit 2)", p.returncode == 2, p.returncode)
    p = make(out, "--renew")
    R.check("--renew during a started rotation is refused (exit 2)", p.returncode == 2,
            p.returncode)

    # Step 2: the Secret gets the new pair; the bundle still holds both.
    new_leaf_text, new_ca_text = read(new_leaf), read(new_ca)
    p = make(out, "--rotate", "promote")
    if not R.check("--rotate promote exits 0", p.returncode == 0, p.stderr):
        return
    R.check("promote: the Secret holds the new pair",
            read(os.path.join(out, "tls.crt")) == new_leaf_text
            and read(os.path.join(out, "ca.crt")) == new_ca_text
            and not os.path.exists(os.path.join(out, "next")))
    sec = yaml.safe_load(read(os.path.join(out, "secret.yaml")))
    R.check("promote: secret.yaml carries the new serving certificate",
            base64.b64decode(sec["data"]["tls.crt"]).decode() == new_leaf_text)
    R.check("promote: the bundle is unchanged (old + new CA)",
            len(pem_certs(read(bundle))) == 2 and verifies(bundle, old_leaf)
            and verifies(bundle, os.path.join(out, "tls.crt")))
    R.check("promote: the old pair is kept in previous/",
            read(os.path.join(out, "previous", "tls.crt")) == read(old_leaf))
    check_overlay(R, kubectl, out, "promote")
    # While the kubelet propagates the Secret, some pods serve the old pair and some the new:
    # the same caBundle must verify both.
    serve_and_curl(R, binary, os.path.join(out, "tls.crt"), os.path.join(out, "tls.key"), b64,
                   work, "promote, new pair")
    serve_and_curl(R, binary, old_leaf, old_key, b64, work, "promote, old pair")

    # Step 3: drop the old CA.
    p = make(out, "--rotate", "finish")
    if not R.check("--rotate finish exits 0", p.returncode == 0, p.stderr):
        return
    R.check("finish: the bundle is the new CA only",
            pem_certs(read(bundle)) == [new_ca_text], len(pem_certs(read(bundle))))
    R.check("finish: the bundle verifies the new serving certificate",
            verifies(bundle, os.path.join(out, "tls.crt")))
    R.check("finish: the bundle no longer verifies the old serving certificate",
            not verifies(bundle, old_leaf))
    R.check("finish: previous/ is removed",
            not os.path.exists(os.path.join(out, "previous")))
    check_set(R, out, "finish")
    check_overlay(R, kubectl, out, "finish")
    serve_and_curl(R, binary, os.path.join(out, "tls.crt"), os.path.join(out, "tls.key"), b64,
                   work, "finish, new pair")
    p = make(out, "--rotate", "finish")
    R.check("--rotate finish twice is refused (exit 2)", p.returncode == 2, p.returncode)


if __name__ == "__main__":
    main()

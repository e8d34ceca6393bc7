#!/usr/bin/python3
"""
test_manifests.py — manifests/ renders offline with `kubectl kustomize` and the rendered objects
are what SPEC §8 and issue 6 ask for:

  * the webhook configurations: exactly the rules of §8 (pods CREATE, pods/ephemeralcontainers
    UPDATE, the workload kinds CREATE+UPDATE on the validating one; pods CREATE and
    pods/ephemeralcontainers UPDATE on the mutating one; never a plain pods UPDATE on the
    failing-closed one), failure policies, sideEffects None, both admissionReviewVersions,
    timeoutSeconds <= 10, matchPolicy Equivalent, the namespaceSelector excluding kube-system and
    the webhook's own namespace by kubernetes.io/metadata.name, clientConfig pointing at the
    Service, and a caBundle placeholder the API server would refuse;
  * the Deployment: replicas >= 2, anti-affinity or topology spread, the pod's securityContext
    (non-root 65532, RuntimeDefault) and the container's (read-only root filesystem, no privilege
    escalation, every capability dropped), probes on /healthz and /readyz over HTTPS on the
    serving port, the ConfigMap and Secret mounted as directories (no subPath) at the paths the
    args name, every flag known to `serve --help`, a grace period longer than the shutdown delay
    plus the request deadline, resources with requests <= limits, a comment citing measurements;
  * Namespace (PSA restricted), ServiceAccount without a token, Service 443 -> the serving port,
    PodDisruptionBudget minAvailable 1, the policy ConfigMap (checked with `check-config`);
  * overlays/cert-manager renders: a self-signed CA issuer chain, a Certificate for the Service's
    DNS names writing the Deployment's Secret, the inject-ca-from annotation on both webhook
    configurations and no static caBundle;
  * components/mutate-templates adds the workload kinds to the mutating webhook only.

The last line is `N passed, M failed`; exit 1 on any failure, 77 (skipped) without kubectl.
"""

import argparse
import base64
import binascii
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

WORKLOADS = {
    ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("batch", "jobs"), ("batch", "cronjobs"),
    ("", "replicationcontrollers"), ("", "podtemplates"),
}
POD_RULES = {("", "pods", "CREATE"), ("", "pods/ephemeralcontainers", "UPDATE")}
WORKLOAD_RULES = {(g, r, op) for (g, r) in WORKLOADS for op in ("CREATE", "UPDATE")}
VALIDATING_RULES = POD_RULES | WORKLOAD_RULES
MUTATING_RULES = POD_RULES
NAME_LABEL = "kubernetes.io/metadata.name"


def rule_triples(webhook):
    """Expand rules into (group, resource, operation) triples; wildcards stay as '*'."""
    out = set()
    for rule in webhook.get("rules") or []:
        for g in rule.get("apiGroups") or []:
            for r in rule.get("resources") or []:
                for op in rule.get("operations") or []:
                    out.add((g, r, op))
    return out


def parse_args_list(args):
    """['serve', '--config', 'X', '--flag', ...] -> ('serve', {flag: value or True})"""
    cmd = args[0] if args and not args[0].startswith("-") else None
    rest = args[1:] if cmd else args
    flags = {}
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k] = v
        elif a.startswith("--") and i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            flags[a[2:]] = rest[i + 1]
            i += 1
        elif a.startswith("--"):
            flags[a[2:]] = True
        i += 1
    return cmd, flags


def named_port(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def mount_for(path, mounts):
    """The volumeMount whose mountPath is the directory holding `path`."""
    d = os.path.dirname(path)
    for m in mounts:
        if m.get("mountPath", "").rstrip("/") == d:
            return m
    return None


def check_webhooks(R, objs, ns, service, where):
    vwc = dl.one(objs, "ValidatingWebhookConfiguration")
    mwc = dl.one(objs, "MutatingWebhookConfiguration")
    R.check("%s: one ValidatingWebhookConfiguration and one MutatingWebhookConfiguration" % where,
            vwc is not None and mwc is not None)
    if vwc is None or mwc is None:
        return None, None
    for cfg, kind in ((vwc, "validating"), (mwc, "mutating")):
        hooks = cfg.get("webhooks") or []
        R.check("%s %s: exactly one webhook" % (where, kind), len(hooks) == 1, len(hooks))
        if not hooks:
            continue
        w = hooks[0]
        R.check("%s %s: webhook name is fully qualified" % (where, kind),
                re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+){2,}", w.get("name", "")) is not None,
                w.get("name"))
        R.check("%s %s: sideEffects None" % (where, kind), w.get("sideEffects") == "None",
                w.get("sideEffects"))
        R.check("%s %s: admissionReviewVersions [v1, v1beta1]" % (where, kind),
                w.get("admissionReviewVersions") == ["v1", "v1beta1"],
                w.get("admissionReviewVersions"))
        t = w.get("timeoutSeconds")
        R.check("%s %s: 1 <= timeoutSeconds <= 10" % (where, kind),
                isinstance(t, int) and 1 <= t <= 10, t)
        R.check("%s %s: matchPolicy Equivalent" % (where, kind),
                w.get("matchPolicy") == "Equivalent", w.get("matchPolicy"))
        R.check("%s %s: no objectSelector (labels on objects are user-controlled)" % (where, kind),
                not w.get("objectSelector"), w.get("objectSelector"))
        sel = w.get("namespaceSelector") or {}
        exprs = [e for e in sel.get("matchExpressions") or [] if e.get("key") == NAME_LABEL]
        excluded = set()
        for e in exprs:
            if e.get("operator") == "NotIn":
                excluded |= set(e.get("values") or [])
        R.check("%s %s: namespaceSelector excludes kube-system and %s by %s NotIn"
                % (where, kind, ns, NAME_LABEL),
                {"kube-system", ns} <= excluded and not sel.get("matchLabels")
                and all(e.get("operator") == "NotIn" for e in sel.get("matchExpressions") or []),
                sel)
        cc = w.get("clientConfig") or {}
        svc = cc.get("service") or {}
        want_path = "/validate" if kind == "validating" else "/mutate"
        R.check("%s %s: clientConfig.service %s/%s:443 path %s, no url"
                % (where, kind, ns, service, want_path),
                svc.get("name") == service and svc.get("namespace") == ns
                and svc.get("port", 443) == 443 and svc.get("path") == want_path
                and "url" not in cc, cc)
        for rule in w.get("rules") or []:
            R.check("%s %s: rule %s names apiVersions and a namespaced scope"
                    % (where, kind, rule.get("resources")),
                    rule.get("apiVersions") and rule.get("scope", "*") in ("Namespaced", "*"),
                    rule)
    v = (vwc.get("webhooks") or [{}])[0]
    m = (mwc.get("webhooks") or [{}])[0]
    R.check("%s validating: failurePolicy Fail" % where, v.get("failurePolicy") == "Fail",
            v.get("failurePolicy"))
    R.check("%s mutating: failurePolicy Ignore" % where, m.get("failurePolicy") == "Ignore",
            m.get("failurePolicy"))
    R.check("%s mutating: reinvocationPolicy IfNeeded" % where,
            m.get("reinvocationPolicy") == "IfNeeded", m.get("reinvocationPolicy"))
    return v, m


def check_base(R, objs, binary, workdir):
    by = dl.index(objs)
    kinds = sorted(o.get("kind") for o in objs)
    want = {"Namespace", "ServiceAccount", "Deployment", "Service", "PodDisruptionBudget",
            "ConfigMap", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
    R.check("base: renders every kind of SPEC §8", want <= set(kinds), kinds)
    R.check("base: no Secret (the certificates come from certs/ or cert-manager)",
            "Secret" not in kinds, kinds)

    nsobj = dl.one(objs, "Namespace")
    ns = nsobj["metadata"]["name"] if nsobj else None
    labels = (nsobj or {}).get("metadata", {}).get("labels") or {}
    R.check("Namespace: Pod Security Admission enforce=restricted",
            labels.get("pod-security.kubernetes.io/enforce") == "restricted", labels)
    cluster_scoped = {"Namespace", "ValidatingWebhookConfiguration",
                      "MutatingWebhookConfiguration"}
    stray = [(o["kind"], o["metadata"].get("namespace")) for o in objs
             if o["kind"] not in cluster_scoped and o["metadata"].get("namespace") != ns]
    R.check("every namespaced object is in namespace %s" % ns, not stray, stray)

    dep = dl.one(objs, "Deployment")
    if not R.check("one Deployment", dep is not None):
        return
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    podlabels = spec["template"]["metadata"].get("labels") or {}
    R.check("Deployment: replicas >= 2", isinstance(spec.get("replicas"), int)
            and spec["replicas"] >= 2, spec.get("replicas"))
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    R.check("Deployment: selector matches the pod labels",
            sel and all(podlabels.get(k) == v for k, v in sel.items()), sel)
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    R.check("Deployment: rollout never goes below the replica count (maxUnavailable 0)",
            ru.get("maxUnavailable") in (0, "0%"), ru)
    aa = ((pod.get("affinity") or {}).get("podAntiAffinity") or {})
    terms = [t.get("podAffinityTerm", t) for t in
             (aa.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
             + (aa.get("requiredDuringSchedulingIgnoredDuringExecution") or [])]
    spread = pod.get("topologySpreadConstraints") or []
    R.check("Deployment: replicas spread (anti-affinity on hostname or topology spread)",
            any(t.get("topologyKey") == "kubernetes.io/hostname" for t in terms) or spread,
            aa)

    sa = dl.one(objs, "ServiceAccount")
    R.check("ServiceAccount: automountServiceAccountToken false",
            sa is not None and sa.get("automountServiceAccountToken") is False, sa)
    R.check("pod: runs as the ServiceAccount, no token mounted",
            sa is not None and pod.get("serviceAccountName") == sa["metadata"]["name"]
            and pod.get("automountServiceAccountToken") is False,
            (pod.get("serviceAccountName"), pod.get("automountServiceAccountToken")))
    R.check("pod: no host namespaces",
            not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), pod)
    psc = pod.get("securityContext") or {}
    R.check("pod securityContext: runAsNonRoot, runAsUser/runAsGroup 65532",
            psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 65532
            and psc.get("runAsGroup") == 65532, psc)
    R.check("pod securityContext: seccompProfile RuntimeDefault",
            (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", psc)
    pc = pod.get("priorityClassName")
    if pc is not None:
        quota = dl.one(objs, "ResourceQuota")
        scopes = [v for e in (((quota or {}).get("spec") or {}).get("scopeSelector") or {})
                  .get("matchExpressions", []) for v in e.get("values") or []]
        R.check("priorityClassName %s comes with a ResourceQuota covering it" % pc,
                pc == "system-cluster-critical" and pc in scopes, (pc, scopes))

    containers = pod.get("containers") or []
    if not R.check("pod: one container", len(containers) == 1, len(containers)):
        return
    c = containers[0]
    csc = c.get("securityContext") or {}
    caps = csc.get("capabilities") or {}
    R.check("container: allowPrivilegeEscalation false",
            csc.get("allowPrivilegeEscalation") is False, csc)
    R.check("container: readOnlyRootFilesystem", csc.get("readOnlyRootFilesystem") is True, csc)
    R.check("container: capabilities drop ALL, add none",
            caps.get("drop") == ["ALL"] and not caps.get("add"), caps)
    R.check("container: not privileged, not overriding the pod's non-root settings",
            not csc.get("privileged") and csc.get("runAsNonRoot") is not False
            and csc.get("runAsUser", 65532) != 0
            and (csc.get("seccompProfile") or {}).get("type") in (None, "RuntimeDefault"), csc)

    argv = (c.get("command") or []) + (c.get("args") or [])
    cmd, flags = parse_args_list(argv)
    R.check("container: runs `serve`", cmd == "serve", argv)
    help_text = dl.run([binary, "serve", "--help"]).stdout
    known = set(re.findall(r"^\s+--([a-z0-9-]+)", help_text, re.M))
    unknown = sorted(set(flags) - known)
    R.check("container: every flag is one `serve --help` lists", not unknown and known, unknown)
    listen = str(flags.get("listen", ":8443"))
    port = int(listen.rsplit(":", 1)[1]) if ":" in listen else None
    cport = named_port(c, "https")
    R.check("container: --listen on every address, port = containerPort 'https'",
            listen.startswith(":") and port == cport, (listen, cport))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    delay = int(flags.get("shutdown-delay", 5))
    rto = int(flags.get("request-timeout", 10))
    R.check("pod: terminationGracePeriodSeconds (%s) > --shutdown-delay (%d) + "
            "--request-timeout (%d)" % (grace, delay, rto), grace > delay + rto, grace)

    mounts = c.get("volumeMounts") or []
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    R.check("container: no subPath mounts (they are never updated)",
            not any("subPath" in m or "subPathExpr" in m for m in mounts), mounts)
    R.check("container: every mount read-only", all(m.get("readOnly") for m in mounts), mounts)

    cfg_path = flags.get("config")
    m = mount_for(cfg_path, mounts) if isinstance(cfg_path, str) else None
    vol = vols.get(m["name"]) if m else None
    cm_name = ((vol or {}).get("configMap") or {}).get("name")
    cm = by.get(("ConfigMap", cm_name))
    key = os.path.basename(cfg_path or "")
    R.check("--config %s is a key of the ConfigMap mounted as its directory" % cfg_path,
            cm is not None and key in (cm.get("data") or {}) and not vol["configMap"].get("items"),
            (m, vol))
    R.check("policy ConfigMap has a stable name (no hash suffix: the server reloads in place)",
            cm_name == "seccomp-webhook-policy", cm_name)
    if cm is not None and key in (cm.get("data") or {}):
        path = os.path.join(workdir, key)
        with open(path, "w") as f:
            f.write(cm["data"][key])
        p = dl.run([binary, "check-config", path])
        R.check("the policy in the ConfigMap passes check-config", p.returncode == 0,
                (p.returncode, p.stdout + p.stderr))

    secret_name = None
    tls_dirs = set()
    for flag, want_key in (("tls-cert", "tls.crt"), ("tls-key", "tls.key")):
        path = flags.get(flag)
        m = mount_for(path, mounts) if isinstance(path, str) else None
        vol = vols.get(m["name"]) if m else None
        sec = (vol or {}).get("secret") or {}
        R.check("--%s %s is %s of a Secret mounted as its directory" % (flag, path, want_key),
                sec.get("secretName") and os.path.basename(path or "") == want_key
                and not sec.get("items"), (m, vol))
        secret_name = sec.get("secretName") or secret_name
        tls_dirs.add(os.path.dirname(path or ""))
    R.check("certificate and key in the same mounted Secret", len(tls_dirs) == 1, tls_dirs)
    R.check("the Secret is the one certs/make-certs.sh writes (seccomp-webhook-tls)",
            secret_name == "seccomp-webhook-tls", secret_name)

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        hg = (c.get(probe) or {}).get("httpGet") or {}
        R.check("container: %s GET %s over HTTPS on the serving port" % (probe, path),
                hg.get("path") == path and hg.get("scheme") == "HTTPS"
                and named_port(c, hg.get("port")) == cport, hg)

    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}

    def mib(q):
        units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
        mm = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", str(q))
        return int(mm.group(1)) * units[mm.group(2)] if mm else None

    R.check("container: cpu and memory requests and limits, request <= limit",
            all(k in req and k in lim for k in ("cpu", "memory"))
            and mib(req["memory"]) is not None and mib(lim["memory"]) is not None
            and mib(req["memory"]) <= mib(lim["memory"]), res)
    with open(os.path.join(dl.MANIFESTS, "base", "deployment.yaml")) as f:
        src = f.read()
    R.check("deployment.yaml: the resources comment cites measured RSS figures",
            re.search(r"#.*idle.*RSS\s+[\d.]+", src) and re.search(r"#.*peak RSS\s+[\d.]+", src)
            and "benchmark" in src, "")

    svc = dl.one(objs, "Service")
    if R.check("one Service", svc is not None):
        ports = svc["spec"].get("ports") or []
        ok = (len(ports) == 1 and ports[0].get("port") == 443
              and named_port(c, ports[0].get("targetPort")) == cport)
        R.check("Service: 443 -> the serving port", ok, ports)
        ssel = svc["spec"].get("selector") or {}
        R.check("Service: selects the webhook's pods",
                ssel and all(podlabels.get(k) == v for k, v in ssel.items()), ssel)

    pdb = dl.one(objs, "PodDisruptionBudget")
    if R.check("one PodDisruptionBudget", pdb is not None):
        psel = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
        R.check("PodDisruptionBudget: minAvailable 1, selecting the webhook's pods",
                pdb["spec"].get("minAvailable") == 1
                and psel and all(podlabels.get(k) == v for k, v in psel.items()), pdb["spec"])

    # The README's two-step install applies everything but the webhook configurations first
    # (kubectl apply -l 'app.kubernetes.io/component!=webhook-configuration').
    labelled = sorted(o["kind"] for o in objs if (o["metadata"].get("labels") or {})
                      .get("app.kubernetes.io/component") == "webhook-configuration")
    R.check("exactly the two webhook configurations carry "
            "app.kubernetes.io/component=webhook-configuration",
            labelled == ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
            labelled)
    v, m = check_webhooks(R, objs, ns, svc["metadata"]["name"] if svc else None, "base")
    if v is None:
        return
    vr, mr = rule_triples(v), rule_triples(m)
    R.check("validating: rules are exactly pods CREATE, pods/ephemeralcontainers UPDATE and "
            "the workload kinds CREATE+UPDATE", vr == VALIDATING_RULES,
            {"missing": sorted(VALIDATING_RULES - vr), "extra": sorted(vr - VALIDATING_RULES)})
    R.check("validating: no plain pods UPDATE (an outage must not block finalizer removal)",
            not any(r in ("pods", "*", "pods/*", "*/*") and op in ("UPDATE", "*")
                    for (g, r, op) in vr if g in ("", "*")), sorted(vr))
    R.check("mutating: rules are exactly pods CREATE and pods/ephemeralcontainers UPDATE",
            mr == MUTATING_RULES, sorted(mr))
    for w, kind in ((v, "validating"), (m, "mutating")):
        ca = (w.get("clientConfig") or {}).get("caBundle", "")
        try:
            decoded = base64.b64decode(ca, validate=True)
        except (binascii.Error, ValueError):
            decoded = None
        R.check("base %s: caBundle is a placeholder the API server refuses (not base64)" % kind,
                ca and decoded is None, ca)


def check_cert_manager(R, kubectl, base_objs):
    objs, err = dl.kustomize(kubectl, os.path.join(dl.MANIFESTS, "overlays", "cert-manager"))
    if not R.check("overlays/cert-manager renders", objs is not None, err):
        return
    by = dl.index(objs)
    nsobj = dl.one(objs, "Namespace")
    ns = nsobj["metadata"]["name"]
    svc = dl.one(objs, "Service")
    dep = dl.one(objs, "Deployment")
    secret = next(v["secret"]["secretName"] for v in dep["spec"]["template"]["spec"]["volumes"]
                  if "secret" in v)
    base_kinds = sorted((o["kind"], o["metadata"]["name"]) for o in base_objs)
    R.check("cert-manager: every base object is there",
            set(base_kinds) <= set(by), sorted(set(base_kinds) - set(by)))
    R.check("cert-manager: the Deployment is the base's",
            dep == dl.one(base_objs, "Deployment"), "")
    issuers = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Issuer"}
    certs = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Certificate"}
    serving = [c for c in certs.values() if c["spec"].get("secretName") == secret]
    if not R.check("cert-manager: a Certificate writes the Deployment's Secret %s" % secret,
                   len(serving) == 1, sorted(certs)):
        return
    sc = serving[0]
    host = "%s.%s.svc" % (svc["metadata"]["name"], ns)
    R.check("cert-manager: the serving Certificate names %s and %s.cluster.local" % (host, host),
            {host, host + ".cluster.local"} <= set(sc["spec"].get("dnsNames") or []),
            sc["spec"].get("dnsNames"))
    R.check("cert-manager: the serving Certificate is not a CA and is for server auth",
            not sc["spec"].get("isCA") and "server auth" in (sc["spec"].get("usages") or []),
            sc["spec"])
    # The issuer chain: serving <- CA issuer (ca.secretName) <- CA Certificate (isCA) <-
    # self-signed issuer.
    ca_issuer = issuers.get(sc["spec"]["issuerRef"]["name"])
    ca_secret = ((ca_issuer or {}).get("spec") or {}).get("ca", {}).get("secretName")
    ca_cert = next((c for c in certs.values() if c["spec"].get("secretName") == ca_secret), None)
    root = issuers.get(((ca_cert or {}).get("spec") or {}).get("issuerRef", {}).get("name"))
    R.check("cert-manager: serving <- CA Issuer <- CA Certificate (isCA) <- selfSigned Issuer",
            ca_issuer is not None and ca_cert is not None and ca_cert["spec"].get("isCA") is True
            and root is not None and "selfSigned" in root["spec"]
            and all(i["kind"] == "Issuer" and i.get("metadata", {}).get("namespace") == ns
                    for i in (ca_issuer, root))
            and sc["spec"]["issuerRef"].get("kind", "Issuer") == "Issuer",
            (sc["spec"]["issuerRef"], ca_secret))
    want = "%s/%s" % (ns, sc["metadata"]["name"])
    check_webhooks(R, objs, ns, svc["metadata"]["name"], "cert-manager")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        cfg = dl.one(objs, kind)
        ann = (cfg["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from")
        R.check("cert-manager %s: inject-ca-from %s" % (kind, want), ann == want, ann)
        R.check("cert-manager %s: no static caBundle" % kind,
                all("caBundle" not in (w.get("clientConfig") or {}) for w in cfg["webhooks"]),
                "")
        base_cfg = dl.one(base_objs, kind)
        same = [dict(w, clientConfig={k: v for k, v in w["clientConfig"].items()
                                      if k != "caBundle"}) for w in base_cfg["webhooks"]]
        R.check("cert-manager %s: webhooks otherwise the base's" % kind,
                cfg["webhooks"] == same, "")


def check_mutate_templates(R, kubectl, base_objs, workdir):
    d = os.path.join(workdir, "mutate-templates")
    os.makedirs(d)
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        f.write("resources:\n  - %s\ncomponents:\n  - %s\n" % (
            os.path.relpath(dl.MANIFESTS, d),
            os.path.relpath(os.path.join(dl.MANIFESTS, "components", "mutate-templates"), d)))
    objs, err = dl.kustomize(kubectl, d)
    if not R.check("components/mutate-templates renders on top of manifests/",
                   objs is not None, err):
        return
    m = dl.one(objs, "MutatingWebhookConfiguration")["webhooks"][0]
    R.check("mutate-templates: the mutating webhook sees pods and the workload kinds",
            rule_triples(m) == POD_RULES | WORKLOAD_RULES, sorted(rule_triples(m)))
    R.check("mutate-templates: the validating webhook is unchanged",
            dl.one(objs, "ValidatingWebhookConfiguration")
            == dl.one(base_objs, "ValidatingWebhookConfiguration"), "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="build/seccomp-webhook")
    ap.add_argument("--kubectl", help="kubectl (default /usr/bin/kubectl, then PATH)")
    ap.add_argument("--manifests", default=dl.MANIFESTS, help="the manifests/ directory")
    a = ap.parse_args()
    dl.MANIFESTS = os.path.abspath(a.manifests)
    kubectl = dl.find_kubectl(a.kubectl)
    if kubectl is None:
        print("SKIP: no kubectl (needed for `kubectl kustomize`)")
        sys.exit(dl.SKIP)
    R = dl.Results()
    workdir = dl.tempdir("sw-manifests-")
    try:
        objs, err = dl.kustomize(kubectl, dl.MANIFESTS)
        if R.check("kubectl kustomize manifests/ renders (offline)", objs is not None, err):
            check_base(R, objs, a.binary, workdir)
            check_cert_manager(R, kubectl, objs)
            check_mutate_templates(R, kubectl, objs, workdir)
    finally:
        dl.run(["rm", "-rf", workdir])
    dl.exit_with(R)


if __name__ == "__main__":
    main()

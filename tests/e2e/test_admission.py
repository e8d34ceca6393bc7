#!/usr/bin/python3
"""
End-to-end test of seccomp-webhook: the real binary, over real TLS, driven with curl.

    /usr/bin/python3 tests/e2e/test_admission.py --binary build/seccomp-webhook
    /usr/bin/python3 tests/e2e/test_admission.py --self-check      # the harness's own checks

It makes a CA and a serving certificate with openssl, starts `BINARY serve` on a free port with
tests/e2e/policy.yaml, waits for GET /healthz, runs every case below, sends SIGTERM and expects
exit status 0 within 10 s. One line per case (PASS/FAIL name), then `N passed, M failed`; the
exit status is non-zero on any failure, and the server's stderr is printed then.

Each admission case goes through what the API server does (harness.run_admission_case):
/mutate → apply the patch with python3-jsonpatch → /mutate again on the patched object (it must
answer without a patch) → /validate on the patched object. `validate_unpatched` also sends the
object as written straight to /validate (the mutating webhook failed open or was bypassed).

Expectations (harness.py):
  Mutated(*changes, ops=, warnings=)   the patch applies; the result is the object plus exactly
                                       these changes (pod_profile, container_profile,
                                       annotation_removed); `ops` lists (op, pointer) it holds
  Unchanged(warnings=)                 allowed, no patch and no patchType
  Allowed(warnings=, warn_fragments=, warn_format=, audit=)
  Denied(*fragments, code=403)         every fragment in status.message (403 messages must also
                                       name the pod: name or generateName)
  warnings: ANY, NONE, SOME, at_least(n)
--self-check runs the harness's own checks (selfcheck.py: each assertion helper accepts a right
answer and rejects a wrong one), then, with --binary, the suite.
"""

import argparse
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when ctest runs this
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (  # noqa: E402
    BREAKGLASS, DEPLOYER, HERE, NONE, OPTIONS, POD_ANNOTATION, POLICY_FILE, RUNTIME_DEFAULT,
    SOME, UNCONFINED, V1, V1BETA1, Allowed, Client, Denied, HarnessError, Mutated, Server,
    Unchanged, admission_review, annotation_removed, at_least, check_envelope,
    check_review_document, container_annotation, container_profile, go_json, load_manifest,
    localhost, make_certs, pod_profile, pointer, run_admission_case, shorten,
    strict_json_loads)

TIME_BUDGET = 220.0  # seconds; ctest kills the suite at 300


# ------------------------------------------------------------------------------------------------
# Case model
# ------------------------------------------------------------------------------------------------

class Case:
    """One admission case: a manifest (file under manifests/, or a function that builds the
    object), the request's namespace and user, optional edits of the object (`edit`) and of the
    AdmissionReview request (`request`: operation, oldObject, kind...), and the expectations."""

    def __init__(self, name, manifest, ns="default", mutate=None, validate=None,
                 validate_unpatched=None, user=DEPLOYER, api=V1, dry_run=False, edit=None,
                 request=None):
        self.name, self.manifest, self.ns = name, manifest, ns
        self.mutate, self.validate, self.validate_unpatched = mutate, validate, validate_unpatched
        self.user, self.api, self.dry_run = user, api, dry_run
        self.edit, self.request = edit, request

    def build_object(self):
        obj = load_manifest(self.manifest) if isinstance(self.manifest, str) else self.manifest()
        if self.edit:
            self.edit(obj)
        return obj

    def build_review(self, obj):
        review = admission_review(obj, self.ns, username=self.user, api_version=self.api,
                                  dry_run=self.dry_run)
        if self.request:
            self.request(review["request"])
        return review


# ---- edits of a manifest (variants of one file) ------------------------------------------------

def localhost_path(path):
    """localhost-pod-level.yaml with another localhostProfile (None: the key left out)."""
    def edit(pod):
        sp = pod["spec"]["securityContext"]["seccompProfile"]
        if path is None:
            del sp["localhostProfile"]
        else:
            sp["localhostProfile"] = path
    return edit


def drop_init_container_profile(pod):
    """ingress-localhost-per-container.yaml with the init container's profile taken out."""
    del pod["spec"]["initContainers"][0]["securityContext"]


def containers_as_object(pod):
    """`containers` as a map name → container: a shape the engine cannot read."""
    pod["spec"]["containers"] = {c["name"]: c for c in pod["spec"]["containers"]}


def large_last_applied(pod):
    """A ~3 MiB kubectl.kubernetes.io/last-applied-configuration (a pod with a big inline
    environment): bodies this large are legitimate (limit 7 MiB)."""
    env = [{"name": "FEATURE_FLAG_%05d" % i, "value": "enabled-for-cohort-%05d" % i}
           for i in range(60000)]
    applied = copy.deepcopy(pod)
    applied["spec"]["containers"][0]["env"] = env
    text = json.dumps(applied, separators=(",", ":"))
    pod["metadata"].setdefault("annotations", {})[
        "kubectl.kubernetes.io/last-applied-configuration"] = text + "\n"


def kubectl_debug(privileged):
    """`kubectl debug -it POD --image=busybox --target=app` (privileged: `--profile=sysadmin`):
    the pod with one more ephemeral container."""
    def edit(pod):
        debugger = {
            "name": "debugger-x7k2p", "image": "busybox:1.36.1", "command": ["sh"],
            "stdin": True, "tty": True, "targetContainerName": "app",
            "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
        }
        if privileged:
            debugger["securityContext"] = {"privileged": True}
        pod["spec"]["ephemeralContainers"] = [debugger]
    return edit


def kubectl_debug_with_annotation(value):
    """kubectl_debug(privileged=False) into a pod whose alpha annotation for the debugger's name
    is `value`: added by a plain pod UPDATE after CREATE (seccomp annotations stay mutable), and
    read before the pod-level field by kubelets up to 1.24."""
    add_debugger = kubectl_debug(privileged=False)

    def edit(pod):
        add_debugger(pod)
        pod["metadata"].setdefault("annotations", {})[
            container_annotation("debugger-x7k2p")] = value
    return edit


def config_map():
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "web-frontend-nginx", "labels": {"app": "web-frontend"}},
            "data": {"default.conf": "server { listen 8080; location / { root /srv; } }\n"}}


# ---- edits of the AdmissionReview request ------------------------------------------------------

def _generated_name(pod):
    md = pod["metadata"]
    if not md.get("name"):
        md["name"] = md["generateName"] + "q7t4x"
    md.setdefault("uid", str(uuid.uuid4()))
    md.setdefault("resourceVersion", "48213977")
    return md["name"]


def finalizer_removal(req):
    """The Job controller's UPDATE that removes its tracking finalizer from the pod."""
    new = req["object"]
    req["name"] = _generated_name(new)
    req["oldObject"] = copy.deepcopy(new)
    del new["metadata"]["finalizers"]
    req["operation"] = "UPDATE"
    req["options"] = OPTIONS["UPDATE"]


def label_change(req):
    """`kubectl label pod POD canary=true` on a pod created before the webhook (no seccomp):
    a plain UPDATE, which must never be patched (the pod spec is immutable; LESSONS #1, #2)."""
    new = req["object"]
    req["oldObject"] = copy.deepcopy(new)
    new["metadata"]["labels"]["canary"] = "true"
    new["metadata"]["resourceVersion"] = "48213978"
    req["operation"] = "UPDATE"
    req["options"] = OPTIONS["UPDATE"]


def deletion(req):
    """DELETE: object null, oldObject the pod."""
    pod = req["object"]
    req["name"] = _generated_name(pod)
    req["oldObject"], req["object"] = pod, None
    req["operation"] = "DELETE"
    req["options"] = OPTIONS["DELETE"]


def exec_connect(req):
    """`kubectl exec -it POD -- sh`: CONNECT on pods/exec with a PodExecOptions object."""
    kind = {"group": "", "version": "v1", "kind": "PodExecOptions"}
    req.update(kind=kind, requestKind=kind, subResource="exec", requestSubResource="exec",
               operation="CONNECT", options=None, oldObject=None,
               object={"kind": "PodExecOptions", "apiVersion": "v1", "stdin": True,
                       "stdout": True, "stderr": True, "tty": True, "container": "app",
                       "command": ["sh"]})


def ephemeral_update(req):
    """UPDATE of pods/ephemeralcontainers: oldObject is the pod without the new container."""
    old = copy.deepcopy(req["object"])
    del old["spec"]["ephemeralContainers"]
    req.update(subResource="ephemeralcontainers", requestSubResource="ephemeralcontainers",
               operation="UPDATE", oldObject=old, options=OPTIONS["UPDATE"])


def configmap_create(req):
    kind = {"group": "", "version": "v1", "kind": "ConfigMap"}
    res = {"group": "", "version": "v1", "resource": "configmaps"}
    req.update(kind=kind, requestKind=kind, resource=res, requestResource=res)
    req["object"]["metadata"]["namespace"] = req["namespace"]


# ------------------------------------------------------------------------------------------------
# The admission cases
# ------------------------------------------------------------------------------------------------

PA = POD_ANNOTATION
RD = RUNTIME_DEFAULT

CASES = [
    # ---- default injection (SPEC §7.3 step 2) --------------------------------------------------
    Case("bare Deployment pod: pod-level RuntimeDefault added (add /spec/securityContext)",
         "web-frontend-bare.yaml",
         mutate=Mutated(pod_profile(RD), ops=[("add", "/spec/securityContext")]),
         validate=Allowed(),
         validate_unpatched=Denied('container "nginx"')),
    Case("securityContext: null becomes an object holding the default",
         "redis-securitycontext-null.yaml", ns="cache",
         mutate=Mutated(pod_profile(RD)), validate=Allowed(),
         validate_unpatched=Denied('container "redis"')),
    Case("securityContext: {} gets only seccompProfile; container securityContext untouched",
         "postgres-securitycontext-empty.yaml", ns="shop",
         mutate=Mutated(pod_profile(RD), ops=[("add", "/spec/securityContext/seccompProfile")]),
         validate=Allowed()),
    Case("runAsNonRoot/runAsUser/fsGroup kept, only seccompProfile added",
         "orders-api-runasnonroot.yaml", ns="shop",
         mutate=Mutated(pod_profile(RD), ops=[("add", "/spec/securityContext/seccompProfile")]),
         validate=Allowed(),
         validate_unpatched=Denied('container "orders-api"', 'container "migrate"')),
    Case("only the init container lacks a profile: pod-level RuntimeDefault added",
         "ingress-localhost-per-container.yaml", ns="team-a", edit=drop_init_container_profile,
         mutate=Mutated(pod_profile(RD)), validate=Allowed(),
         validate_unpatched=Denied('container "render-config"')),
    Case("fully confined pod (pod-level RuntimeDefault): no patch",
         "payments-restricted.yaml", ns="payments",
         mutate=Unchanged(), validate=Allowed()),
    Case("every container has its own profile, none at pod level: no patch",
         "ingress-localhost-per-container.yaml", ns="team-a",
         mutate=Unchanged(), validate=Allowed()),
    Case("same per-container Localhost pod outside team-a: both Localhost profiles denied",
         "ingress-localhost-per-container.yaml", ns="default",
         mutate=Unchanged(),
         validate=Denied("profiles/team-a/nginx.json", 'container "nginx"',
                         "spec.containers[0].securityContext.seccompProfile",
                         "shared/audit.json", 'container "render-config"',
                         "spec.initContainers[0].securityContext.seccompProfile")),

    # ---- annotation migration (SPEC §7.3 step 1) -----------------------------------------------
    Case("pod annotation runtime/default → pod field, annotation removed, others kept",
         "grafana-legacy-runtime-default.yaml", ns="monitoring",
         mutate=Mutated(pod_profile(RD), annotation_removed(PA), warnings=at_least(1)),
         validate=Allowed()),
    Case("pod annotation docker/default (deprecated alias) → RuntimeDefault",
         "jenkins-agent-docker-default.yaml", ns="ci",
         mutate=Mutated(pod_profile(RD), annotation_removed(PA), warnings=at_least(1)),
         validate=Allowed(),
         # the annotation alone is no proof of confinement (LESSONS #8)
         validate_unpatched=Denied('container "jnlp"')),
    Case("container annotation localhost/… → that container's field (team-a: allowed)",
         "nginx-localhost-annotation.yaml", ns="team-a",
         mutate=Mutated(container_profile("containers", 0, localhost("profiles/team-a/nginx.json")),
                        annotation_removed(container_annotation("nginx")), pod_profile(RD),
                        warnings=at_least(1)),
         validate=Allowed()),
    Case("same container annotation in default: migrated, then the Localhost path is denied",
         "nginx-localhost-annotation.yaml", ns="default",
         mutate=Mutated(container_profile("containers", 0, localhost("profiles/team-a/nginx.json")),
                        annotation_removed(container_annotation("nginx")), pod_profile(RD),
                        warnings=at_least(1)),
         validate=Denied("profiles/team-a/nginx.json", 'container "nginx"',
                         "spec.containers[0].securityContext.seccompProfile")),
    Case("same container annotation in team-b: team-a's profile is not on team-b's list",
         "nginx-localhost-annotation.yaml", ns="team-b",
         mutate=Mutated(container_profile("containers", 0, localhost("profiles/team-a/nginx.json")),
                        annotation_removed(container_annotation("nginx")), pod_profile(RD)),
         validate=Denied("profiles/team-a/nginx.json", 'container "nginx"')),
    Case("pod annotation unconfined → Unconfined field, then denied at spec.securityContext",
         "elasticsearch-unconfined-annotation.yaml", ns="logging",
         mutate=Mutated(pod_profile(UNCONFINED), annotation_removed(PA), warnings=at_least(1)),
         validate=Denied("spec.securityContext.seccompProfile.type", "Unconfined",
                         "spec.initContainers[0].securityContext.privileged",
                         'container "sysctl"'),
         validate_unpatched=Denied(PA, "unconfined")),
    Case("annotation naming a container that does not exist is removed",
         "worker-stale-istio-annotation.yaml", ns="billing",
         mutate=Mutated(annotation_removed(container_annotation("istio-proxy")), pod_profile(RD),
                        warnings=at_least(1)),
         validate=Allowed()),
    Case("pod field and disagreeing pod annotation: field wins, annotation removed",
         "metrics-field-and-annotation.yaml", ns="monitoring",
         mutate=Mutated(annotation_removed(PA), warnings=at_least(1)),
         validate=Allowed(),
         validate_unpatched=Denied(PA, "unconfined")),
    Case("container field and disagreeing container annotation: field wins",
         "billing-container-conflict.yaml", ns="team-a",
         mutate=Mutated(annotation_removed(container_annotation("billing")), pod_profile(RD),
                        warnings=at_least(1)),
         validate=Allowed(),
         validate_unpatched=Denied('container "billing"', 'container "cloud-sql-proxy"')),
    Case("invalid pod annotation runtime/defualt stays; default set on each container instead",
         "typo-pod-annotation.yaml", ns="analytics",
         mutate=Mutated(container_profile("containers", 0, RD),
                        container_profile("initContainers", 0, RD)),
         validate=Denied("runtime/defualt", PA)),
    Case("invalid container annotation localhost/../x stays; pod-level default added",
         "invalid-container-annotation.yaml", ns="media",
         mutate=Mutated(pod_profile(RD)),
         validate=Denied("../x", 'container "app"')),
    Case("left-over pod and container annotations: default only where no annotation remains",
         "mixed-leftover-annotations.yaml", ns="search",
         mutate=Mutated(container_profile("containers", 0, RD)),
         validate=Denied("runtime/defualt", "../x", 'container "sidecar"')),
    Case("pod runtime/default + container unconfined both migrate; that container denied",
         "legacy-debug-unconfined-annotation.yaml", ns="finance",
         mutate=Mutated(pod_profile(RD), container_profile("containers", 1, UNCONFINED),
                        annotation_removed(PA), annotation_removed(container_annotation("strace")),
                        warnings=at_least(2)),
         validate=Denied("spec.containers[1].securityContext.seccompProfile.type",
                         'container "strace"', "Unconfined")),
    Case("container annotation for an init container → initContainers[0] field",
         "init-container-annotation.yaml", ns="shop",
         mutate=Mutated(container_profile("initContainers", 0, RD),
                        annotation_removed(container_annotation("init-db")), pod_profile(RD),
                        warnings=at_least(1)),
         validate=Allowed()),
    Case("annotation key with non-ASCII and '~' (no such container): removed, pointer escaped",
         "unicode-annotation-key.yaml", ns="shop",
         mutate=Mutated(container_profile("containers", 0, RD),
                        annotation_removed(container_annotation("web")),
                        annotation_removed(container_annotation("wëb~canary")),
                        ops=[("remove", pointer("metadata", "annotations",
                                                container_annotation("wëb~canary")))],
                        warnings=at_least(2)),
         validate=Allowed()),

    # ---- validation rules (SPEC §7.2) ----------------------------------------------------------
    Case("privileged sidecar denied, naming the container and `privileged`",
         "vpn-privileged-sidecar.yaml", ns="integrations",
         mutate=Unchanged(),
         validate=Denied("spec.containers[1].securityContext.privileged", 'container "wireguard"')),
    Case("init container with Unconfined denied",
         "init-unconfined.yaml", ns="apps",
         mutate=Unchanged(),
         validate=Denied("spec.initContainers[0].securityContext.seccompProfile.type",
                         'container "fix-permissions"', "Unconfined")),
    Case("container-level Localhost path traversal ../../etc/x.json denied",
         "localhost-traversal.yaml", ns="team-a",
         mutate=Unchanged(),
         validate=Denied("../../etc/x.json", 'container "scanner"',
                         "spec.containers[0].securityContext.seccompProfile")),
    Case("three violations in one pod: all three in one denial message",
         "three-violations.yaml", ns="default",
         mutate=Unchanged(),
         validate=Denied("spec.containers[0].securityContext.seccompProfile.type",
                         'container "app"', "Unconfined",
                         "spec.containers[1].securityContext.privileged",
                         'container "log-shipper"',
                         "spec.initContainers[0].securityContext.seccompProfile",
                         'container "fetch-config"', "/etc/x.json")),
    Case("one container Unconfined, one unset: default injected, Unconfined still denied",
         "one-unconfined-one-unset.yaml", ns="perf",
         mutate=Mutated(pod_profile(RD)),
         validate=Denied("spec.containers[0].securityContext.seccompProfile.type",
                         'container "app"', "Unconfined")),
    Case("explicit pod-level Unconfined denied although every container overrides it",
         "pod-unconfined-containers-confined.yaml", ns="security",
         mutate=Unchanged(),
         validate=Denied("spec.securityContext.seccompProfile.type", "Unconfined")),
]

# §6 path rules and allow-list matching on a pod-level Localhost profile
# (namespace, localhostProfile or None for the key left out, allowed?, why)
LOCALHOST_MATRIX = [
    ("team-a", "profiles/team-a/nginx.json", True, "matches profiles/{namespace}/*.json"),
    ("team-a", "shared/audit.json", True, "listed exactly"),
    ("team-b", "profiles/team-b/nginx.json", True, "{namespace} is the request's namespace"),
    ("team-b", "shared/audit.json", True, "listed exactly"),
    ("team-a", "profiles/team-b/nginx.json", False, "another namespace's directory"),
    ("team-a", "profiles/team-a/sub/x.json", False, "* does not cross /"),
    ("default", "profiles/team-a/nginx.json", False, "no Localhost profile allowed by default"),
    ("team-a", "", False, "empty path (CVE-2023-2431)"),
    ("team-a", None, False, "Localhost without localhostProfile"),
    ("team-a", "/etc/x.json", False, "absolute path"),
    ("team-a", "profiles/team-a/../team-a/nginx.json", False, "'..' even when it lands inside"),
    ("team-a", "..", False, "'..' alone"),
    ("team-a", "profiles/team-a/./nginx.json", False, "'.' segment"),
    ("team-a", "profiles/team-a//nginx.json", False, "empty segment"),
    ("team-a", "profiles/team-a/nginx\t.json", False, "control character (escaped in message)"),
]
for _ns, _path, _ok, _why in LOCALHOST_MATRIX:
    _frags = ["spec.securityContext.seccompProfile"]
    if _path and _path.isprintable():
        _frags.append(_path)
    CASES.append(Case(
        "Localhost %s in %s: %s (%s)" % (json.dumps(_path), _ns, "allowed" if _ok else "denied",
                                          _why),
        "localhost-pod-level.yaml", ns=_ns, edit=localhost_path(_path),
        mutate=Unchanged(),
        validate=Allowed() if _ok else Denied(*_frags)))

CASES += [
    # ---- namespace modes (SPEC §5, §7.2) -------------------------------------------------------
    Case("warn mode: three violations → allowed with one short warning each",
         "three-violations.yaml", ns="team-warn",
         mutate=Unchanged(),
         validate=Allowed(warnings=at_least(3), warn_format=True,
                          warn_fragments=('container "app"', 'container "log-shipper"',
                                          'container "fetch-config"'))),
    Case("warn mode: the default is still injected (mode governs validation only)",
         "node-exporter-daemonset-pod.yaml", ns="team-warn",
         mutate=Mutated(pod_profile(RD)),
         validate=Allowed(warnings=NONE),
         validate_unpatched=Allowed(warnings=SOME, warn_format=True,
                                    warn_fragments=('container "node-exporter"',))),
    Case("warn mode: a long non-ASCII Localhost path → warning cut to ≤ 120 characters",
         "localhost-pod-level.yaml", ns="team-warn",
         edit=localhost_path("profiles/team-warn/" + "é" * 150 + ".json"),
         mutate=Unchanged(),
         validate=Allowed(warnings=SOME, warn_format=True)),
    Case("audit mode: three violations → allowed, recorded in auditAnnotations",
         "three-violations.yaml", ns="team-audit",
         mutate=Unchanged(), validate=Allowed(audit=True)),
    Case("audit mode: bare pod straight to /validate → allowed, recorded",
         "web-frontend-bare.yaml", ns="team-audit",
         validate=Allowed(audit=True)),

    # ---- Windows, mirror pods, exemptions ------------------------------------------------------
    Case("Windows pod: no migration nor injection, annotation stays, a warning",
         "windows-iis.yaml", ns="web",
         mutate=Unchanged(warnings=SOME), validate=Allowed()),
    Case("Windows pod without any seccomp: nothing injected, allowed",
         "windows-bare.yaml", ns="web",
         mutate=Unchanged(), validate=Allowed()),
    Case("mirror pod: never patched; privileged, no profile → allowed with warnings",
         "static-haproxy-mirror.yaml", ns="ingress",
         mutate=Unchanged(),
         validate=Allowed(warnings=SOME, warn_fragments=('container "haproxy"',))),
    Case("exempt namespace kube-system: untouched, allowed, no warnings",
         "kube-proxy-privileged.yaml", ns="kube-system",
         mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Case("exempt namespace exempt-ns: untouched, allowed, no warnings",
         "kube-proxy-privileged.yaml", ns="exempt-ns",
         mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Case("exempt username ops:breakglass in default: untouched, allowed, no warnings",
         "kube-proxy-privileged.yaml", ns="default", user=BREAKGLASS,
         mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Case("same kube-proxy pod, not exempt: migrated to Unconfined, then denied",
         "kube-proxy-privileged.yaml", ns="default",
         mutate=Mutated(pod_profile(UNCONFINED), annotation_removed(PA), warnings=at_least(1)),
         validate=Denied("spec.securityContext.seccompProfile.type",
                         "spec.containers[0].securityContext.privileged",
                         'container "kube-proxy"')),

    # ---- operations and kinds ------------------------------------------------------------------
    Case("Job pod asking for Unconfined: CREATE denied",
         "backup-job-pod.yaml", ns="ops",
         mutate=Unchanged(),
         validate=Denied("spec.containers[0].securityContext.seccompProfile.type",
                         'container "backup"', "Unconfined")),
    Case("UPDATE of that pod removing the Job tracking finalizer: allowed, no patch",
         "backup-job-pod.yaml", ns="ops", request=finalizer_removal,
         mutate=Unchanged(), validate=Allowed()),
    Case("UPDATE (label change) of a pod that predates the webhook, no seccomp: no patch",
         "debug-target.yaml", ns="shop", request=label_change,
         mutate=Unchanged(), validate=Allowed()),
    Case("DELETE of that pod (object null): allowed, no patch",
         "backup-job-pod.yaml", ns="ops", request=deletion,
         mutate=Unchanged(), validate=Allowed()),
    Case("CONNECT pods/exec: allowed, no patch",
         "debug-target.yaml", ns="shop", request=exec_connect,
         mutate=Unchanged(), validate=Allowed()),
    Case("kubectl debug (pods/ephemeralcontainers UPDATE): default on the new container only",
         "debug-target.yaml", ns="shop", edit=kubectl_debug(privileged=False),
         request=ephemeral_update,
         mutate=Mutated(container_profile("ephemeralContainers", 0, RD),
                        ops=[("add", "/spec/ephemeralContainers/0/securityContext")]),
         validate=Allowed()),
    Case("kubectl debug --profile=sysadmin (privileged ephemeral container): denied",
         "debug-target.yaml", ns="shop", edit=kubectl_debug(privileged=True),
         request=ephemeral_update,
         mutate=Mutated(container_profile("ephemeralContainers", 0, RD)),
         validate=Denied("spec.ephemeralContainers[0].securityContext.privileged",
                         'container "debugger-x7k2p"')),
    Case("kubectl debug into a RuntimeDefault pod annotated unconfined for the debugger: denied",
         "payments-restricted.yaml", ns="payments",
         edit=kubectl_debug_with_annotation("unconfined"), request=ephemeral_update,
         mutate=Unchanged(),
         validate=Denied(container_annotation("debugger-x7k2p"), 'container "debugger-x7k2p"',
                         "Unconfined")),
    Case("unknown kind (ConfigMap CREATE): allowed, no patch",
         config_map, ns="default", request=configmap_create,
         mutate=Unchanged(), validate=Allowed()),
    Case("AdmissionReview v1beta1: answered in v1beta1 by both endpoints",
         "web-frontend-bare.yaml", api=V1BETA1,
         mutate=Mutated(pod_profile(RD)), validate=Allowed(),
         validate_unpatched=Denied('container "nginx"')),
    Case("dryRun request: the same patch as any other",
         "web-frontend-bare.yaml", dry_run=True,
         mutate=Mutated(pod_profile(RD)), validate=Allowed()),
    Case("object the engine cannot read (containers is an object): /mutate warns, /validate 400",
         "web-frontend-bare.yaml", edit=containers_as_object,
         mutate=Unchanged(warnings=SOME), validate=Denied(code=400)),
    Case("3 MiB pod (large last-applied-configuration): answered normally",
         "payments-restricted.yaml", ns="payments", edit=large_last_applied,
         mutate=Unchanged(), validate=Allowed()),
]


# ------------------------------------------------------------------------------------------------
# Protocol cases (SPEC §4, §9): status code and body of one HTTP exchange
# ------------------------------------------------------------------------------------------------

def bare_review(ns="default"):
    return admission_review(load_manifest("web-frontend-bare.yaml"), ns)


def body_of(review):
    return go_json(review)


def replaced(review, old, new, count=1):
    """The encoded review with `old` (bytes) replaced by `new`: a body no encoder would write."""
    raw = go_json(review)
    if raw.count(old) < count:
        raise HarnessError("protocol case: %r not in the body" % old)
    return raw.replace(old, new, count)


def duplicate_type_key():
    r = admission_review(load_manifest("payments-restricted.yaml"), "payments")
    return replaced(r, b'"seccompProfile":{"type":"RuntimeDefault"}',
                    b'"seccompProfile":{"type":"RuntimeDefault","type":"Unconfined"}')


def duplicate_uid_key():
    r = bare_review()
    uid = r["request"]["uid"].encode()
    return replaced(r, b'"uid":"' + uid + b'"', b'"uid":"' + uid + b'","uid":"' + uid + b'"')


def nul_in_localhost_profile():
    r = admission_review(load_manifest("localhost-pod-level.yaml"), "team-a")
    return replaced(r, b'"profiles/team-a/nginx.json"', b'"profiles/team-a/nginx.json\\u0000/../x"')


def bad_utf8(bad):
    return lambda: replaced(bare_review(), b'"web-frontend"', b'"web-' + bad + b'-frontend"')


def without_uid():
    r = bare_review()
    del r["request"]["uid"]
    return go_json(r)


def request_null():
    r = bare_review()
    r["request"] = None
    return go_json(r)


def unknown_version():
    r = bare_review()
    r["apiVersion"] = "admission.k8s.io/v2"
    return go_json(r)


def oversized(total=8 * 1024 * 1024):
    """A well-formed AdmissionReview of `total` bytes (8 MiB > the 7 MiB default limit): only
    its size is wrong."""
    r = bare_review()
    r["request"]["object"]["metadata"]["annotations"]["example.com/blob"] = ""
    base = len(go_json(r))
    r["request"]["object"]["metadata"]["annotations"]["example.com/blob"] = "x" * (total - base)
    raw = go_json(r)
    assert len(raw) == total
    return raw


class Proto:
    """One protocol exchange. status: the HTTP status expected. error_json: the body must be a
    JSON object with a non-empty "error" string. endpoint: for a 200 answer to an AdmissionReview
    body, "mutate" or "validate" (its envelope is checked by that endpoint's rules). retry_expect: for early 413 answers, retry once with
    `Expect: 100-continue` if the first attempt got no HTTP answer at all (the server may close
    the connection while curl is still sending)."""

    def __init__(self, name, method, path, status, body=None, content_type="application/json",
                 chunked=False, error_json=None, endpoint=None, retry_expect=False):
        self.name, self.method, self.path, self.status = name, method, path, status
        self.body, self.content_type, self.chunked = body, content_type, chunked
        self.error_json = (status >= 400) if error_json is None else error_json
        self.endpoint = endpoint
        self.retry_expect = retry_expect

    def run(self, client):
        body = self.body() if callable(self.body) else self.body
        review = None
        if isinstance(body, dict):
            review, body = body, go_json(body)
        reply = client.request(self.method, self.path, body, content_type=self.content_type,
                               chunked=self.chunked)
        if self.retry_expect and reply.status == 0:
            reply = client.request(self.method, self.path, body, content_type=self.content_type,
                                   chunked=self.chunked, expect_continue=True)
        fails = []
        if reply.status != self.status:
            fails.append("expected HTTP %d, got %s" % (self.status, reply.describe()))
            return fails
        if self.error_json:
            try:
                doc = reply.json()
            except (ValueError, UnicodeDecodeError) as e:
                fails.append("body is not JSON (%s): %s" % (e, reply.describe()))
                return fails
            if not isinstance(doc, dict) or not isinstance(doc.get("error"), str) \
                    or not doc["error"].strip():
                fails.append('body has no non-empty "error" string: %s' % reply.describe())
            if not reply.header("content-type").lower().startswith("application/json"):
                fails.append("error answer Content-Type %r, expected application/json"
                             % reply.header("content-type"))
        if review is not None and self.status == 200:
            resp = check_envelope(reply, review, self.endpoint, fails)
            if resp is not None and resp.get("allowed") is not True and self.endpoint == "mutate":
                fails.append("expected allowed: true")
        return fails


def large_valid_review():
    r = admission_review(load_manifest("payments-restricted.yaml"), "payments")
    large_last_applied(r["request"]["object"])
    return r


PROTOCOL = [
    Proto("GET /healthz → 200", "GET", "/healthz", 200),
    Proto("GET /readyz → 200", "GET", "/readyz", 200),
    Proto("GET /mutate → 405", "GET", "/mutate", 405),
    Proto("PUT /validate → 405", "PUT", "/validate?timeout=10s", 405, body=bare_review),
    Proto("POST /nope → 404", "POST", "/nope", 404, body=bare_review),
    Proto("POST /mutate with Content-Type text/plain → 415", "POST", "/mutate?timeout=10s", 415,
          body=bare_review, content_type="text/plain"),
    Proto("POST /validate without Content-Type → 415", "POST", "/validate?timeout=10s", 415,
          body=bare_review, content_type=None),
    Proto("Content-Type application/json; charset=utf-8 is JSON → 200", "POST",
          "/mutate?timeout=10s", 200, body=bare_review,
          content_type="application/json; charset=utf-8", endpoint="mutate"),
    Proto("query string ignored: POST /validate with none → 200", "POST", "/validate", 200,
          body=bare_review, endpoint="validate"),
    Proto("query string ignored: POST /mutate?timeout=30s&x=%2Fvalidate → 200", "POST",
          "/mutate?timeout=30s&x=%2Fvalidate", 200, body=bare_review, endpoint="mutate"),
    Proto("8 MiB body with Content-Length → 413", "POST", "/validate?timeout=10s", 413,
          body=oversized, retry_expect=True),
    Proto("8 MiB body in a chunked upload → 413", "POST", "/validate?timeout=10s", 413,
          body=oversized, chunked=True, retry_expect=True),
    Proto("3 MiB AdmissionReview in a chunked upload (within the limit) → 200", "POST",
          "/validate?timeout=10s", 200, body=large_valid_review, chunked=True,
          endpoint="validate"),
    Proto("malformed JSON (truncated) → 400", "POST", "/mutate?timeout=10s", 400,
          body=lambda: body_of(bare_review())[:-7]),
    Proto("trailing data after the AdmissionReview → 400", "POST", "/validate?timeout=10s", 400,
          body=lambda: body_of(bare_review()) + b' {"x":1}'),
    Proto("empty body → 400", "POST", "/validate?timeout=10s", 400, body=b""),
    Proto('{"kind":"Pod"} (not an AdmissionReview) → 400', "POST", "/validate?timeout=10s", 400,
          body=b'{"kind":"Pod"}'),
    Proto("[] (not an AdmissionReview) → 400", "POST", "/mutate?timeout=10s", 400, body=b"[]"),
    Proto("request.uid missing → 400", "POST", "/mutate?timeout=10s", 400, body=without_uid),
    Proto("request null → 400", "POST", "/validate?timeout=10s", 400, body=request_null),
    Proto("apiVersion admission.k8s.io/v2 → 400", "POST", "/validate?timeout=10s", 400,
          body=unknown_version),
    Proto("duplicate key in seccompProfile (RuntimeDefault, then Unconfined) → 400 (/validate)",
          "POST", "/validate?timeout=10s", 400, body=duplicate_type_key),
    Proto("duplicate key in seccompProfile → 400 (/mutate)", "POST", "/mutate?timeout=10s", 400,
          body=duplicate_type_key),
    Proto("duplicate key in the envelope (request.uid twice) → 400", "POST",
          "/validate?timeout=10s", 400, body=duplicate_uid_key),
    Proto('\\u0000 in a string ("a.json\\u0000/../x") → 400', "POST", "/validate?timeout=10s",
          400, body=nul_in_localhost_profile),
    Proto("invalid UTF-8 byte 0xff in a label → 400", "POST", "/validate?timeout=10s", 400,
          body=bad_utf8(b"\xff")),
    Proto("overlong UTF-8 (0xc0 0xaf) in a label → 400", "POST", "/mutate?timeout=10s", 400,
          body=bad_utf8(b"\xc0\xaf")),
    Proto("UTF-8-encoded surrogate (0xed 0xa0 0x80) in a label → 400", "POST",
          "/validate?timeout=10s", 400, body=bad_utf8(b"\xed\xa0\x80")),
]


# ------------------------------------------------------------------------------------------------
# `review` command (SPEC §3): the engine offline
# ------------------------------------------------------------------------------------------------

def run_review_cli(binary, workdir, review, extra=(), stdin=False, raw=None):
    """Run `BINARY review FILE --config policy.yaml [extra]`; returns (exit, stdout, stderr)."""
    data = raw if raw is not None else go_json(review)
    path = os.path.join(workdir, "review-%s.json" % uuid.uuid4().hex[:8])
    with open(path, "wb") as f:
        f.write(data)
    cmd = [binary, "review", "-" if stdin else path, "--config", POLICY_FILE] + list(extra)
    p = subprocess.run(cmd, input=data if stdin else None, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=15)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def review_both(manifest, ns, mutate, validate, want_exit, stdin=False, api=V1):
    """`review` with both steps: a JSON array [mutate answer, validate answer of the patched
    object]; exit 0 when allowed, 1 when the validate step denies."""
    def check(binary, workdir):
        obj = load_manifest(manifest)
        review = admission_review(obj, ns, api_version=api)
        rc, out, err = run_review_cli(binary, workdir, review, stdin=stdin)
        fails = []
        if rc != want_exit:
            fails.append("exit %d, expected %d (stderr: %s)" % (rc, want_exit, shorten(err, 300)))
        try:
            docs = strict_json_loads(out)
        except (ValueError, UnicodeDecodeError) as e:
            return fails + ["stdout is not JSON (%s): %s" % (e, shorten(out.decode(
                "utf-8", "replace"), 300))]
        if not isinstance(docs, list) or len(docs) != 2:
            return fails + ["stdout is not a JSON array of two AdmissionReviews: %s" % shorten(
                json.dumps(docs), 300)]
        sent = review["request"]["object"]
        f = []
        m = check_review_document(docs[0], review, "mutate", f)
        patched = mutate.check(m, sent, f) if m is not None else None
        fails += ["[0] (mutate): " + x for x in f]
        f = []
        v = check_review_document(docs[1], review, "validate", f)
        if v is not None:
            validate.check(v, patched if patched is not None else sent, f)
        fails += ["[1] (validate): " + x for x in f]
        return fails
    return check


def review_single(manifest, ns, endpoint, expect, want_exit):
    """`review --endpoint E`: a single AdmissionReview object."""
    def check(binary, workdir):
        review = admission_review(load_manifest(manifest), ns)
        rc, out, err = run_review_cli(binary, workdir, review, extra=["--endpoint", endpoint])
        fails = []
        if rc != want_exit:
            fails.append("exit %d, expected %d (stderr: %s)" % (rc, want_exit, shorten(err, 300)))
        try:
            doc = strict_json_loads(out)
        except (ValueError, UnicodeDecodeError) as e:
            return fails + ["stdout is not JSON (%s): %s" % (e, shorten(out.decode(
                "utf-8", "replace"), 300))]
        if not isinstance(doc, dict):
            return fails + ["stdout is not a single AdmissionReview object: %s" % shorten(
                json.dumps(doc), 300)]
        f = []
        resp = check_review_document(doc, review, endpoint, f)
        if resp is not None:
            expect.check(resp, review["request"]["object"], f)
        return fails + f
    return check


def review_malformed(binary, workdir):
    """A file that is not an AdmissionReview: an input error, exit 2 with a reason."""
    rc, out, err = run_review_cli(binary, workdir, None, raw=b"[]\n")
    fails = []
    if rc != 2:
        fails.append("exit %d, expected 2" % rc)
    if not err.strip():
        fails.append("no reason on stderr")
    return fails


REVIEW_CASES = [
    ("review FILE: bare pod → [mutate with patch, validate allowed], exit 0",
     review_both("web-frontend-bare.yaml", "default", Mutated(pod_profile(RD)), Allowed(), 0)),
    ("review FILE: annotation unconfined → validate step denies the patched object, exit 1",
     review_both("elasticsearch-unconfined-annotation.yaml", "logging",
                 Mutated(pod_profile(UNCONFINED), annotation_removed(PA)),
                 Denied("spec.securityContext.seccompProfile.type", "Unconfined"), 1)),
    ("review - (stdin), v1beta1: both answers in v1beta1, exit 0",
     review_both("grafana-legacy-runtime-default.yaml", "monitoring",
                 Mutated(pod_profile(RD), annotation_removed(PA)), Allowed(), 0, stdin=True,
                 api=V1BETA1)),
    ("review --endpoint validate: one AdmissionReview, allowed, exit 0",
     review_single("payments-restricted.yaml", "payments", "validate", Allowed(), 0)),
    ("review --endpoint validate: bare pod denied, exit 1",
     review_single("web-frontend-bare.yaml", "default", "validate",
                   Denied('container "nginx"'), 1)),
    ("review --endpoint mutate: one AdmissionReview with the patch, exit 0",
     review_single("web-frontend-bare.yaml", "default", "mutate", Mutated(pod_profile(RD)), 0)),
    ("review FILE that is not an AdmissionReview: exit 2", review_malformed),
]


# ------------------------------------------------------------------------------------------------
# Lifecycle: graceful stop (SPEC §4)
# ------------------------------------------------------------------------------------------------

def drain_check(binary, certs, workdir, servers):
    """A second server with --shutdown-delay 3: after SIGTERM /readyz answers 503 at once,
    reviews are still answered (with Connection: close), and the process exits 0."""
    server = Server(binary, certs, workdir, shutdown_delay=3, tag="drain-server")
    servers.append(server)
    fails = []
    try:
        server.start()
        client = Client(server.port, certs["ca"], workdir)
        err = server.wait_healthy(client)
        if err:
            return [err]
        server.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        ready = None
        while time.monotonic() - t0 < 1.5:
            ready = client.request("GET", "/readyz", timeout=2)
            if ready.status == 503:
                break
            time.sleep(0.05)
        if ready is None or ready.status != 503:
            fails.append("/readyz after SIGTERM: expected 503, got %s" % (
                ready.describe() if ready else "nothing"))
        review = bare_review()
        reply = client.request("POST", "/validate?timeout=10s", go_json(review))
        f = []
        resp = check_envelope(reply, review, "validate", f)
        if resp is not None:
            Denied('container "nginx"').check(resp, review["request"]["object"], f)
        fails += ["review while draining: " + x for x in f]
        if reply.status == 200 and "close" not in reply.header("connection").lower():
            fails.append("review while draining: no `Connection: close` (headers: %s)" % (
                reply.headers,))
        try:
            rc = server.proc.wait(10)
            if rc != 0:
                fails.append("exit status %d after SIGTERM, expected 0" % rc)
        except subprocess.TimeoutExpired:
            fails.append("did not exit within 10 s of SIGTERM (--shutdown-delay 3)")
    finally:
        server.kill()
        server.close_logs()
    return fails


# ------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------



def run_suite(binary, keep=False, only=None):
    """Certificates, server, every case, SIGTERM, drain. Returns True when all passed."""
    res = harness.Results(TIME_BUDGET)
    workdir = tempfile.mkdtemp(prefix="sw-e2e-")
    servers = []

    def selected(name):
        return only is None or only.lower() in name.lower()

    def run_case(name, fn, *args):
        if not selected(name):
            return
        if res.out_of_time():
            res.record(name, ["not run: the %d s time budget is spent" % TIME_BUDGET])
            return
        res.record(name, harness.guarded(fn, *args))

    try:
        certs = make_certs(workdir)
        server = Server(binary, certs, workdir)
        servers.append(server)
        try:
            server.start()
        except OSError as e:
            res.record("server starts", ["cannot run %s: %s" % (binary, e)])
            server = None
        healthy = False
        if server is not None:
            client = Client(server.port, certs["ca"], workdir)
            err = server.wait_healthy(client)
            res.record("server answers GET /healthz 200 within 10 s", [err] if err else [])
            healthy = err is None

        if healthy:
            for case in CASES:
                run_case(case.name, run_admission_case, client, case)
            for proto in PROTOCOL:
                run_case(proto.name, proto.run, client)
        else:
            print("(HTTP cases not run: the server never became healthy)")

        for name, fn in REVIEW_CASES:
            run_case(name, fn, binary, workdir)

        if server is not None:
            rc, secs = server.terminate(10)
            if rc is None:
                fails = ["still running 10 s after SIGTERM (killed)"]
            elif rc != 0:
                fails = ["exit status %d after SIGTERM, expected 0" % rc]
            else:
                fails = []
            res.record("SIGTERM → exits 0 within 10 s (took %.1f s)" % secs, fails)

        if healthy:
            run_case("drain: after SIGTERM /readyz 503, reviews answered with Connection: "
                     "close, exit 0", drain_check, binary, certs, workdir, servers)
    except HarnessError as e:
        res.record("test setup", [str(e)])
    finally:
        for s in servers:
            s.kill()
            s.close_logs()
        if res.failed:
            for s in servers:
                lines = s.stderr_text().splitlines()
                print("\n----- %s (%d lines%s) -----" % (
                    s.stderr_path, len(lines), ", last 300 shown" if len(lines) > 300 else ""))
                print("\n".join(lines[-300:]))
                print("----- end of %s -----" % os.path.basename(s.stderr_path))
        if keep:
            print("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (res.passed, res.failed))
    return res.failed == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", help="path to the seccomp-webhook executable")
    ap.add_argument("--self-check", action="store_true",
                    help="check the harness itself (then run the suite when --binary is given)")
    ap.add_argument("-k", dest="only", help="run only cases whose name contains this text")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print("admission  %-40s %-12s %s" % (c.manifest if isinstance(c.manifest, str)
                                                else c.manifest.__name__, c.ns, c.name))
        for p in PROTOCOL:
            print("protocol   %s" % p.name)
        for name, _ in REVIEW_CASES:
            print("review     %s" % name)
        return 0
    if args.self_check:
        import selfcheck
        ok = selfcheck.run(sys.modules[__name__])
        if not args.binary:
            return 0 if ok else 1
        print("\n== suite against %s ==" % args.binary)
        return 0 if run_suite(os.path.abspath(args.binary), args.keep, args.only) and ok else 1
    if not args.binary:
        ap.error("--binary is required (or --self-check)")
    return 0 if run_suite(os.path.abspath(args.binary), args.keep, args.only) else 1


if __name__ == "__main__":
    sys.exit(main())

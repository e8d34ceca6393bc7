#!/usr/bin/python3
"""
End-to-end test of workloads, updates and subresources (SPEC §7, issue 3): the real binary,
over verified TLS, driven with curl, one table row per case.

    /usr/bin/python3 tests/e2e/test_workloads.py --binary build/seccomp-webhook
    /usr/bin/python3 tests/e2e/test_workloads.py --list          # the table
    /usr/bin/python3 tests/e2e/test_workloads.py --binary ... -k ephemeral

It makes a CA and a serving certificate with openssl, starts `BINARY serve` on a free port with
tests/e2e/policy-workloads.yaml, waits for GET /healthz, runs every row, sends SIGTERM and
expects exit status 0. One line per row (PASS/FAIL name), then `N passed, M failed`; the exit
status is non-zero on any failure, and the server's stderr is printed then.

A row is an AdmissionReview built from a realistic manifest under tests/e2e/workloads/: the
request's kind (group/version/kind) and resource follow from the manifest's apiVersion and kind
(apps/v1 deployments, batch/v1 cronjobs, v1 podtemplates...), plus the operation (UPDATE rows:
the manifest as stored is `oldObject`, the row's `update` edit makes `object`), the subresource,
namespace, user, AdmissionReview version and dryRun. Each row goes through what the API server
does (harness.run_admission_case): /mutate → apply the patch with python3-jsonpatch → /mutate
again on the patched object (no patch: idempotence) → /validate on the patched object;
`validate_unpatched` sends the object as written to /validate (the mutating webhook bypassed).
dryRun rows also send the same request with dryRun false to both endpoints and require the
same answers.

Expectations: those of harness.py (Mutated, Unchanged, Allowed, Denied) plus, here:
  Violations(paths=, fragments=, absent=, count=, warnings=, warn_fragments=)
      /validate denies (403); every path in `paths` begins a violation line of the message, so
      field paths start at the object's root; the first line names kind, namespace and name;
      `count` violation lines exactly; no fragment of `absent` anywhere in the message.
  Allowed(..., absent=) is harness.Allowed with warnings that must not contain `absent`.
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when ctest runs this
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import yaml  # noqa: E402

import harness  # noqa: E402
from harness import (  # noqa: E402
    ANY, BREAKGLASS, CONTAINER_ANNOTATION, DEPLOYER, HERE, NONE, POD_ANNOTATION,
    RUNTIME_DEFAULT, UNCONFINED, V1, V1BETA1, Client, Count, Denied, HarnessError,
    Mutated, Remove, Server, Set, Unchanged, decode_patch, pointer, post_review,
    run_admission_case, shorten)

WORKLOAD_DIR = os.path.join(HERE, "workloads")
WORKLOAD_POLICY = os.path.join(HERE, "policy-workloads.yaml")
TIME_BUDGET = 220.0  # seconds; ctest kills the suite at 300

PA = POD_ANNOTATION
RD = RUNTIME_DEFAULT


def exactly(n):
    return Count(n, n)


# ------------------------------------------------------------------------------------------------
# Kinds: the request's kind and resource, and where the pod template is (SPEC §7.1)
# ------------------------------------------------------------------------------------------------

# (apiVersion, kind) → (resource, template path as a tuple of keys, as a field-path prefix)
KINDS = {
    ("v1", "Pod"): ("pods", (), ""),
    ("apps/v1", "Deployment"): ("deployments", ("spec", "template"), "spec.template."),
    ("apps/v1", "ReplicaSet"): ("replicasets", ("spec", "template"), "spec.template."),
    ("apps/v1", "StatefulSet"): ("statefulsets", ("spec", "template"), "spec.template."),
    ("apps/v1", "DaemonSet"): ("daemonsets", ("spec", "template"), "spec.template."),
    ("batch/v1", "Job"): ("jobs", ("spec", "template"), "spec.template."),
    ("v1", "ReplicationController"): ("replicationcontrollers", ("spec", "template"),
                                      "spec.template."),
    ("batch/v1", "CronJob"): ("cronjobs", ("spec", "jobTemplate", "spec", "template"),
                              "spec.jobTemplate.spec.template."),
    ("v1", "PodTemplate"): ("podtemplates", ("template",), "template."),
}


def gvk_gvr(obj):
    """request.kind and request.resource for an object, from its apiVersion and kind."""
    api, kind = obj["apiVersion"], obj["kind"]
    if (api, kind) not in KINDS:
        raise HarnessError("no kind entry for %s %s" % (api, kind))
    group, _, version = api.rpartition("/")
    resource = KINDS[(api, kind)][0]
    return ({"group": group, "version": version, "kind": kind},
            {"group": group, "version": version, "resource": resource})


def load_workload(name):
    with open(os.path.join(WORKLOAD_DIR, name), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if len(docs) != 1:
        raise HarnessError("%s: expected one YAML document, found %d" % (name, len(docs)))
    return docs[0]


def template_of(manifest):
    """(template key tuple, field-path prefix, JSON Pointer) of a manifest's pod template."""
    obj = load_workload(manifest)
    _, keys, prefix = KINDS[(obj["apiVersion"], obj["kind"])]
    return keys, prefix, pointer(*keys)


def stored(obj, ns):
    """The object as the API server stores it (what an UPDATE's oldObject looks like)."""
    md = obj.setdefault("metadata", {})
    md["namespace"] = ns
    md.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, md.get("name", "x") + ns)))
    md.setdefault("resourceVersion", "51234567")
    md.setdefault("creationTimestamp", "2024-03-01T10:00:00Z")
    if obj["kind"] != "Pod":
        md.setdefault("generation", 4)
    return obj


# ------------------------------------------------------------------------------------------------
# Row model
# ------------------------------------------------------------------------------------------------

class Row:
    """One case. manifest: a file under workloads/. edit(obj): a variant of the manifest.
    update(obj): for UPDATE, the change the client makes — the (edited) manifest as stored is
    oldObject, a copy with this change is object. request(req): further edits of the
    AdmissionReview request (other kinds for subresources, DELETE...)."""

    def __init__(self, name, manifest, ns="default", op="CREATE", update=None, subresource=None,
                 edit=None, request=None, mutate=None, validate=None, validate_unpatched=None,
                 user=DEPLOYER, api=V1, dry_run=False):
        self.name, self.manifest, self.ns, self.op = name, manifest, ns, op
        self.update, self.subresource, self.edit, self.request = update, subresource, edit, request
        self.mutate, self.validate, self.validate_unpatched = mutate, validate, validate_unpatched
        self.user, self.api, self.dry_run = user, api, dry_run
        if update is not None and op == "CREATE":
            self.op = "UPDATE"

    def _base(self):
        obj = load_workload(self.manifest)
        if self.edit:
            self.edit(obj)
        return obj

    def build_object(self):
        obj = self._base()
        if self.op == "CREATE":
            obj.setdefault("metadata", {})["namespace"] = self.ns
            return obj
        obj = stored(obj, self.ns)
        if self.update:
            self.update(obj)
        return obj

    def build_review(self, obj):
        kind, resource = gvk_gvr(obj)
        old = stored(self._base(), self.ns) if self.op in ("UPDATE", "DELETE") else None
        if self.op == "DELETE":
            obj = None
        review = harness.admission_review(
            obj, self.ns, operation=self.op, username=self.user, api_version=self.api,
            old_object=old, dry_run=self.dry_run, kind=kind, resource=resource,
            sub_resource=self.subresource,
            name=(old or obj or {}).get("metadata", {}).get("name"))
        if self.request:
            self.request(review["request"])
        return review


# ---- expectations beyond harness.py -----------------------------------------------------------

class Violations(Denied):
    """/validate denies with 403. paths: each begins a line of the message (field paths from
    the object's root); count: the number of violation lines; absent: fragments the message
    must not hold; warnings/warn_fragments: as for Allowed (the old violations of an UPDATE come
    back as warnings next to the denial)."""

    def __init__(self, *fragments, paths=(), count=None, absent=(), warnings=ANY,
                 warn_fragments=()):
        super().__init__(*fragments)
        self.paths, self.count, self.absent = paths, count, absent
        self.warnings, self.warn_fragments = warnings, warn_fragments

    def check(self, resp, obj, fails):
        super().check(resp, obj, fails)
        msg = (resp.get("status") or {}).get("message")
        if not isinstance(msg, str):
            return
        lines = msg.split("\n")
        md = (obj or {}).get("metadata") or {}
        head = lines[0]
        for part in (obj.get("kind", ""), md.get("namespace", ""), md.get("name", "")):
            if part and part not in head:
                fails.append("first line of the message does not name %r: %r" % (part, head))
        for p in self.paths:
            if not any(line.startswith(p) for line in lines[1:]):
                fails.append("no violation line starts with %r: %s" % (p, shorten(msg, 1500)))
        if self.count is not None and len(lines) - 1 != self.count:
            fails.append("expected %d violation line(s), got %d: %s" % (
                self.count, len(lines) - 1, shorten(msg, 1500)))
        for frag in self.absent:
            if frag in msg:
                fails.append("status.message names %r, which it must not: %s" % (
                    frag, shorten(msg, 1500)))
        harness._check_warnings(resp, self.warnings, self.warn_fragments, False, fails)


class Allowed(harness.Allowed):
    """harness.Allowed, and no warning may contain a fragment of `absent`."""

    def __init__(self, warnings=ANY, warn_fragments=(), warn_format=False, audit=False,
                 absent=()):
        super().__init__(warnings, warn_fragments, warn_format, audit)
        self.absent = absent

    def check(self, resp, obj, fails):
        super().check(resp, obj, fails)
        for w in resp.get("warnings") or []:
            for frag in self.absent:
                if frag in w:
                    fails.append("warning %r holds %r, which it must not" % (w, frag))


def template_profile(manifest, profile):
    keys, _, _ = template_of(manifest)
    return Set(keys + ("spec", "securityContext", "seccompProfile"), profile)


def template_annotation_removed(manifest, key):
    keys, _, _ = template_of(manifest)
    return Remove(keys + ("metadata", "annotations", key))


# ---- updates (what the client changes) ---------------------------------------------------------

def replicas(n):
    def update(obj):
        obj["spec"]["replicas"] = n
    update.__name__ = "replicas_%d" % n
    return update


def relabel(obj):
    """`kubectl label deployment X team=payments` — the object's labels, not the template's."""
    obj["metadata"]["labels"]["team"] = "payments"


def rollout_restart(obj):
    """`kubectl rollout restart`: an annotation in the pod template (the template changes)."""
    tmpl = obj
    for k in KINDS[(obj["apiVersion"], obj["kind"])][1]:
        tmpl = tmpl[k]
    tmpl.setdefault("metadata", {}).setdefault("annotations", {})[
        "kubectl.kubernetes.io/restartedAt"] = "2024-05-14T09:30:00+02:00"


def image_bump(obj):
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = \
        "registry.example.com/platform/api-gateway:2.9.0"


def suspend(obj):
    """`kubectl patch cronjob db-backup -p '{"spec":{"suspend":true}}'`."""
    obj["spec"]["suspend"] = True


def add_tcpdump_sidecar(obj):
    """A new Unconfined sidecar inserted before the others: the old violation (profiler) moves
    from containers[1] to containers[2] and must still be recognised by name."""
    obj["spec"]["template"]["spec"]["containers"].insert(0, {
        "name": "tcpdump",
        "image": "registry.example.com/net/tcpdump:4.99.4",
        "args": ["-i", "any", "-w", "/captures/checkout.pcap"],
        "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}},
        "securityContext": {"capabilities": {"add": ["NET_RAW", "NET_ADMIN"]},
                            "seccompProfile": {"type": "Unconfined"}},
    })


def make_checkout_privileged(obj):
    """A new rule broken by an existing container (same name, new rule: a new violation)."""
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True


def confine_profiler(obj):
    obj["spec"]["template"]["spec"]["containers"][1]["securityContext"]["seccompProfile"] = \
        {"type": "RuntimeDefault"}


def profiler_to_native_sidecar(obj):
    """The Unconfined profiler moved from containers to initContainers as a native sidecar
    (restartPolicy: Always, Kubernetes 1.29): another container list, so a new violation."""
    spec = obj["spec"]["template"]["spec"]
    profiler = spec["containers"].pop(1)
    profiler["restartPolicy"] = "Always"
    spec["initContainers"] = [profiler]


def rename_profiler(obj):
    """The Unconfined container renamed: another name, so a new violation."""
    obj["spec"]["template"]["spec"]["containers"][1]["name"] = "pyroscope-agent"


def long_container_name(obj):
    """legacy-billing's container with a 63-character name (the DNS label maximum)."""
    obj["spec"]["template"]["spec"]["containers"][0]["name"] = (
        "billing-settlement-reconciliation-worker-for-eu-and-apac-region")


def remove_finalizer(obj):
    """The Job controller's UPDATE that drops its tracking finalizer (metadata only)."""
    del obj["metadata"]["finalizers"]
    obj["metadata"]["resourceVersion"] = "99120456"


def pod_relabel(obj):
    """A controller relabels a running pod (e.g. the ReplicaSet controller orphaning it)."""
    obj["metadata"]["labels"]["pod-template-hash"] = "orphaned"
    obj["metadata"]["resourceVersion"] = "77102939"


def pod_status(obj):
    """The kubelet's UPDATE of pods/status."""
    obj["status"] = {"phase": "Failed", "reason": "Evicted",
                     "message": "The node was low on resource: memory."}


def debugger(name, profile=None, restricted=False):
    """`kubectl debug -it POD --image=nicolaka/netshoot --target=...`: the pod with one more
    ephemeral container (object), the pod as stored (oldObject). profile: its seccompProfile
    (None: no securityContext at all, as kubectl's default `legacy` profile)."""
    def update(pod):
        c = {"name": name, "image": "nicolaka/netshoot:v0.12", "command": ["bash"],
             "stdin": True, "tty": True,
             "targetContainerName": pod["spec"]["containers"][0]["name"],
             "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
        if restricted:   # kubectl debug --profile=restricted
            c["securityContext"] = {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}
        if profile is not None:
            c.setdefault("securityContext", {})["seccompProfile"] = copy.deepcopy(profile)
        pod["spec"].setdefault("ephemeralContainers", []).append(c)
    update.__name__ = "debugger_" + name
    return update


# ---- edits (variants of a manifest) ------------------------------------------------------------

def runtime_class(name):
    def edit(obj):
        spec = obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]
        spec["runtimeClassName"] = name
    edit.__name__ = "runtime_class_" + name
    return edit


def template_annotation_unconfined(obj):
    """db-migrate's template annotation says `unconfined` instead of docker/default."""
    obj["spec"]["template"]["metadata"]["annotations"][PA] = "unconfined"


def template_annotation_typo(obj):
    """storefront's template annotation misspelt: runtime/defualt (not a valid value)."""
    obj["spec"]["template"]["metadata"]["annotations"][PA] = "runtime/defualt"


def pod_unconfined_at_pod_level(obj):
    """A Pod admitted with Unconfined at pod level (exempt then, or older than the policy)."""
    obj["spec"].setdefault("securityContext", {})["seccompProfile"] = {"type": "Unconfined"}


def pod_level_unconfined(obj):
    """search-indexer with Unconfined at pod level instead of on its container."""
    spec = obj["spec"]["template"]["spec"]
    spec["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
    del spec["containers"][0]["securityContext"]


def orphaned(obj):
    """The same ReplicaSet without its controller ownerReference (a standalone one)."""
    del obj["metadata"]["ownerReferences"]


def export_unconfined(obj):
    """warehouse-export with its container annotation saying `unconfined`."""
    ann = obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"]
    ann[CONTAINER_ANNOTATION + "export"] = "unconfined"


# ---- requests with another kind than the object's (subresources, DELETE) ----------------------

def scale_subresource(req):
    """`kubectl scale deployment checkout --replicas=8`: UPDATE of deployments/scale, whose
    object is an autoscaling/v1 Scale."""
    kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    md = {"name": req["name"], "namespace": req["namespace"], "resourceVersion": "51234567"}
    req.update(kind=kind, requestKind=kind, subResource="scale", requestSubResource="scale",
               object={"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": md,
                       "spec": {"replicas": 8},
                       "status": {"replicas": 4, "selector": "app.kubernetes.io/name=checkout"}},
               oldObject={"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": md,
                          "spec": {"replicas": 4},
                          "status": {"replicas": 4,
                                     "selector": "app.kubernetes.io/name=checkout"}})


def eviction_subresource(req):
    """The eviction API (kubectl drain): CREATE of pods/eviction with a policy/v1 Eviction."""
    kind = {"group": "policy", "version": "v1", "kind": "Eviction"}
    req.update(kind=kind, requestKind=kind, subResource="eviction",
               requestSubResource="eviction", oldObject=None,
               object={"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": req["name"], "namespace": req["namespace"]},
                       "deleteOptions": {"gracePeriodSeconds": 30}})


def binding_subresource(req):
    """The scheduler's CREATE of pods/binding with a v1 Binding."""
    kind = {"group": "", "version": "v1", "kind": "Binding"}
    req.update(kind=kind, requestKind=kind, subResource="binding",
               requestSubResource="binding", oldObject=None,
               object={"apiVersion": "v1", "kind": "Binding",
                       "metadata": {"name": req["name"], "namespace": req["namespace"]},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": "node-7"}})


# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------

# kind → (manifest with the pod annotation in its template, its value,
#         manifest with an Unconfined container, violating container path, container name)
PER_KIND = [
    ("Deployment", "deployment-storefront-legacy.yaml", "runtime/default",
     "deployment-checkout-unconfined.yaml", "spec.template.spec.containers[1]", "profiler"),
    ("ReplicaSet", "replicaset-inventory-legacy.yaml", "docker/default",
     "replicaset-search-unconfined.yaml", "spec.template.spec.containers[0]", "indexer"),
    ("StatefulSet", "statefulset-kafka-legacy.yaml", "runtime/default",
     "statefulset-cassandra-unconfined.yaml", "spec.template.spec.initContainers[0]",
     "sysctl-tuning"),
    ("DaemonSet", "daemonset-fluent-bit-legacy.yaml", "runtime/default",
     "daemonset-node-agent-unconfined.yaml", "spec.template.spec.containers[0]", "agent"),
    ("Job", "job-db-migrate-legacy.yaml", "docker/default",
     "job-perf-bench-unconfined.yaml", "spec.template.spec.containers[0]", "bench"),
    ("ReplicationController", "replicationcontroller-memcached-legacy.yaml", "runtime/default",
     "replicationcontroller-legacy-unconfined.yaml", "spec.template.spec.containers[0]",
     "billing"),
    ("CronJob", "cronjob-reports-legacy.yaml", "runtime/default",
     "cronjob-db-backup-unconfined.yaml", "spec.jobTemplate.spec.template.spec.containers[0]",
     "backup"),
    ("PodTemplate", "podtemplate-ci-runner-legacy.yaml", "runtime/default",
     "podtemplate-toolbox-unconfined.yaml", "template.spec.containers[0]", "toolbox"),
]


def migrated_template(manifest, value):
    """Mutated: the template's pod annotation became the template's pod-level field."""
    obj = load_workload(manifest)
    keys, _, ptr = template_of(manifest)
    tmpl = obj
    for k in keys:
        tmpl = tmpl[k]
    has_sc = isinstance(tmpl["spec"].get("securityContext"), dict)
    add_at = ptr + ("/spec/securityContext/seccompProfile" if has_sc else "/spec/securityContext")
    return Mutated(template_profile(manifest, RD), template_annotation_removed(manifest, PA),
                   ops=[("add", add_at),
                        ("remove", ptr + pointer("metadata", "annotations", PA))],
                   warnings=exactly(1),
                   warn_fragments=("moved alpha seccomp annotation \"%s\"" % value,))


ROWS = []

for _kind, _legacy, _value, _unconf, _cpath, _cname in PER_KIND:
    _, _prefix, _ = template_of(_legacy)
    ROWS += [
        Row("%s: template pod annotation %s, mutateTemplates namespace → migrated into the "
            "template" % (_kind, _value), _legacy, ns="platform",
            mutate=migrated_template(_legacy, _value),
            validate=Allowed(warnings=NONE),
            # the annotation alone is no profile (LESSONS #8): bypassing /mutate is denied
            validate_unpatched=Violations(
                "no seccomp profile",
                paths=[_prefix + "spec.containers[0].securityContext.seccompProfile"])),
        Row("%s: template pod annotation %s, default namespace (mutateTemplates off) → not "
            "patched, allowed" % (_kind, _value), _legacy, ns="default",
            mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    ]
for _kind, _legacy, _value, _unconf, _cpath, _cname in PER_KIND:
    ROWS.append(Row(
        "%s with an Unconfined container: CREATE denied at %s" % (_kind, _cpath), _unconf,
        ns="shop", mutate=Unchanged(warnings=NONE),
        validate=Violations('container "%s"' % _cname, "Unconfined",
                            paths=[_cpath + ".securityContext.seccompProfile.type"], count=1)))

_CJ = "cronjob-container-annotation.yaml"
_CJT = ("spec", "jobTemplate", "spec", "template")
_CJP = pointer(*_CJT)
_EXPORT_ANN = CONTAINER_ANNOTATION + "export"
_CHECKOUT = "deployment-checkout-unconfined.yaml"
_GATEWAY = "deployment-api-gateway-bare.yaml"
_STOREFRONT = "deployment-storefront-legacy.yaml"
_CART = "pod-cart-debug-target.yaml"
_TRANSCODER = "pod-legacy-violating-running.yaml"
_NEW_PODS = "new pods of this Deployment will be denied"
_PROFILER_OLD = 'container "profiler": unconfined (Unconfined); ' + _NEW_PODS

ROWS += [
    # ---- CronJob with a container-level annotation ---------------------------------------------
    Row("CronJob: container annotation (container securityContext null) in mutateTemplates "
        "namespace → that container's field, pod-level default for the other",
        _CJ, ns="platform",
        mutate=Mutated(Set(_CJT + ("spec", "containers", 0, "securityContext", "seccompProfile"),
                           RD),
                       Remove(_CJT + ("metadata", "annotations", _EXPORT_ANN)),
                       Set(_CJT + ("spec", "securityContext", "seccompProfile"), RD),
                       ops=[("add", _CJP + "/spec/containers/0/securityContext"),
                            ("remove", _CJP + pointer("metadata", "annotations", _EXPORT_ANN)),
                            ("add", _CJP + "/spec/securityContext")],
                       warn_fragments=('container "export": moved alpha seccomp annotation',)),
        validate=Allowed(warnings=NONE),
        validate_unpatched=Violations(
            'container "export"', 'container "uploader"', count=2,
            paths=["spec.jobTemplate.spec.template.spec.containers[0].securityContext."
                   "seccompProfile",
                   "spec.jobTemplate.spec.template.spec.containers[1].securityContext."
                   "seccompProfile"])),
    Row("CronJob: container annotation in default namespace → not patched, allowed",
        _CJ, ns="default", mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("CronJob: container annotation `unconfined` → denied at the template's annotation",
        _CJ, ns="default", edit=export_unconfined,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "export"', "Unconfined", count=1, paths=[
            "spec.jobTemplate.spec.template.metadata.annotations[%s]" % _EXPORT_ANN])),

    # ---- UPDATE ratcheting (SPEC §7.2) ---------------------------------------------------------
    Row("Pod UPDATE removing the Job tracking finalizer of a pre-existing Unconfined pod: "
        "allowed, no patch", "pod-etl-worker-unconfined.yaml", ns="data",
        update=remove_finalizer,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("Pod UPDATE (a controller relabels a pod without seccomp) in mutateTemplates "
        "namespace: no patch", _CART, ns="platform", update=pod_relabel,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("Deployment UPDATE scaling 4 → 8 with an old Unconfined sidecar: allowed, warning that "
        "new pods will be denied", _CHECKOUT, ns="shop", update=replicas(8),
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(_PROFILER_OLD,))),
    Row("deployments/scale UPDATE (autoscaling/v1 Scale) of that Deployment: allowed untouched",
        _CHECKOUT, ns="shop", update=replicas(8), request=scale_subresource,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("Deployment UPDATE relabelling it (kubectl label): allowed, warning",
        _CHECKOUT, ns="shop", update=relabel,
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(_PROFILER_OLD,))),
    Row("Deployment UPDATE by kubectl rollout restart (template annotation): allowed, warning",
        _CHECKOUT, ns="shop", update=rollout_restart,
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(_PROFILER_OLD,))),
    Row("CronJob UPDATE suspending an Unconfined CronJob: allowed, warning for new pods",
        "cronjob-db-backup-unconfined.yaml", ns="shop", update=suspend,
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            'container "backup": unconfined (Unconfined); new pods of this CronJob will be denied',))),
    Row("Deployment UPDATE inserting an Unconfined sidecar before the old one: denied naming "
        "only the new one; the old one as a warning", _CHECKOUT, ns="shop",
        update=add_tcpdump_sidecar,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "tcpdump"', "Unconfined", count=1,
                            paths=["spec.template.spec.containers[0].securityContext."
                                   "seccompProfile.type"],
                            absent=('container "profiler"',),
                            warnings=exactly(1), warn_fragments=(_PROFILER_OLD,))),
    Row("Deployment UPDATE making an existing container privileged: denied (new rule)",
        _CHECKOUT, ns="shop", update=make_checkout_privileged,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "checkout"', count=1,
                            paths=["spec.template.spec.containers[0].securityContext."
                                   "privileged"],
                            absent=('container "profiler"',),
                            warn_fragments=(_PROFILER_OLD,))),
    Row("Deployment UPDATE moving the Unconfined sidecar to initContainers (native sidecar): "
        "another list, so denied as new; no warning", _CHECKOUT, ns="shop",
        update=profiler_to_native_sidecar,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "profiler"', count=1, warnings=NONE,
                            paths=["spec.template.spec.initContainers[0].securityContext."
                                   "seccompProfile.type"])),
    Row("Deployment UPDATE renaming the Unconfined container: another name, so denied as new",
        _CHECKOUT, ns="shop", update=rename_profiler,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "pyroscope-agent"', count=1, warnings=NONE,
                            absent=('container "profiler"',),
                            paths=["spec.template.spec.containers[1].securityContext."
                                   "seccompProfile.type"])),
    Row("ReplicationController UPDATE scaling, 63-character container name: ratchet warning "
        "cut to at most 120 characters", "replicationcontroller-legacy-unconfined.yaml",
        ns="shop", edit=long_container_name, update=replicas(3),
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            'container "billing-',))),
    Row("warn namespace: Deployment UPDATE scaling with the old Unconfined sidecar: allowed, "
        "a warning naming it", _CHECKOUT, ns="legacy", update=replicas(8),
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            'container "profiler": unconfined (Unconfined); new pods of this Deployment '
            'violate the policy',))),
    Row("Deployment with a misspelt template annotation runtime/defualt: CREATE denied at the "
        "annotation", _STOREFRONT, ns="shop", edit=template_annotation_typo,
        mutate=Unchanged(warnings=NONE),
        validate=Violations("runtime/defualt", count=1, paths=[
            "spec.template.metadata.annotations[%s]" % PA])),
    Row("that Deployment scaled: the old annotation violation is ratcheted to a warning",
        _STOREFRONT, ns="shop", edit=template_annotation_typo, update=replicas(6),
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            "pod: annotation-invalid (runtime/defualt); " + _NEW_PODS,))),
    Row("ReplicaSet with pod-level Unconfined scaled: allowed, a pod-level warning",
        "replicaset-search-unconfined.yaml", ns="shop", edit=pod_level_unconfined,
        update=replicas(4), mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            "pod: unconfined (Unconfined); new pods of this ReplicaSet will be denied",))),
    Row("Deployment UPDATE confining the Unconfined sidecar: allowed, no warning",
        _CHECKOUT, ns="shop", update=confine_profiler,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("DELETE of the Unconfined Deployment: allowed untouched", _CHECKOUT, ns="shop",
        op="DELETE", mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),

    # ---- mutateTemplates on UPDATE: only when the template changed (SPEC §7.3) ----------------
    Row("mutateTemplates: Deployment UPDATE with a new image → template gets RuntimeDefault",
        _GATEWAY, ns="platform", update=image_bump,
        mutate=Mutated(template_profile(_GATEWAY, RD),
                       ops=[("add", "/spec/template/spec/securityContext")]),
        validate=Allowed(warnings=NONE),
        # bypassed: the template had no profile before either — ratcheted to a warning
        validate_unpatched=Allowed(warnings=exactly(1), warn_fragments=(
            'container "gateway": no-profile (none); ' + _NEW_PODS,))),
    Row("mutateTemplates: kubectl rollout restart of a legacy Deployment → annotation migrated",
        _STOREFRONT, ns="platform", update=rollout_restart,
        mutate=Mutated(template_profile(_STOREFRONT, RD),
                       template_annotation_removed(_STOREFRONT, PA),
                       ops=[("add", "/spec/template/spec/securityContext/seccompProfile")]),
        validate=Allowed(warnings=NONE)),
    Row("mutateTemplates: Deployment UPDATE scaling 3 → 6 → no patch (no rollout)",
        _GATEWAY, ns="platform", update=replicas(6),
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_fragments=(
            'container "gateway": no-profile (none); ' + _NEW_PODS,))),
    Row("mutateTemplates: Deployment UPDATE of its labels → no patch",
        _GATEWAY, ns="platform", update=relabel,
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warn_fragments=(_NEW_PODS,))),
    Row("mutateTemplates: legacy Deployment scaled, template untouched → annotation not migrated",
        _STOREFRONT, ns="platform", update=replicas(5),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warn_fragments=(_NEW_PODS,))),

    # ---- pods/ephemeralcontainers (kubectl debug) ----------------------------------------------
    Row("kubectl debug adding an Unconfined debug container: denied, naming it",
        _CART, ns="shop", subresource="ephemeralcontainers",
        update=debugger("debugger-r2v8n", UNCONFINED),
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "debugger-r2v8n"', "Unconfined", count=1,
                            paths=["spec.ephemeralContainers[1].securityContext."
                                   "seccompProfile.type"],
                            absent=('container "cart"', 'container "debugger-9xk2d"'))),
    Row("kubectl debug adding a profile-less debug container: RuntimeDefault on "
        "ephemeralContainers[1] only, then allowed", _CART, ns="shop",
        subresource="ephemeralcontainers", update=debugger("debugger-r2v8n"),
        mutate=Mutated(Set(("spec", "ephemeralContainers", 1, "securityContext",
                            "seccompProfile"), RD),
                       ops=[("add", "/spec/ephemeralContainers/1/securityContext")]),
        validate=Allowed(warnings=NONE),
        validate_unpatched=Violations('container "debugger-r2v8n"', count=1,
                                      paths=["spec.ephemeralContainers[1].securityContext."
                                             "seccompProfile"])),
    Row("kubectl debug --profile=restricted (securityContext without seccompProfile): "
        "seccompProfile added into it", _CART, ns="shop",
        subresource="ephemeralcontainers", update=debugger("debugger-h5m1c", restricted=True),
        mutate=Mutated(Set(("spec", "ephemeralContainers", 1, "securityContext",
                            "seccompProfile"), RD),
                       ops=[("add", "/spec/ephemeralContainers/1/securityContext/"
                                    "seccompProfile")]),
        validate=Allowed(warnings=NONE)),
    Row("kubectl debug (profile-less) on a pod with pod-level Unconfined: the debug container "
        "would inherit it → not patched (it has a profile) and denied, naming it",
        _CART, ns="shop", edit=pod_unconfined_at_pod_level,
        subresource="ephemeralcontainers", update=debugger("debugger-r2v8n"),
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "debugger-r2v8n"', "Unconfined", count=1,
                            paths=["spec.securityContext.seccompProfile.type"],
                            absent=('container "cart"',))),
    Row("kubectl debug on a pod whose containers violate (Unconfined, privileged): only the "
        "new container judged → allowed", _TRANSCODER, ns="media",
        subresource="ephemeralcontainers", update=debugger("debugger-q8w3e", RD),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("kubectl debug (profile-less) on that violating pod: only the new container patched",
        _TRANSCODER, ns="media", subresource="ephemeralcontainers",
        update=debugger("debugger-q8w3e"),
        mutate=Mutated(Set(("spec", "ephemeralContainers", 0, "securityContext",
                            "seccompProfile"), RD),
                       ops=[("add", "/spec/ephemeralContainers/0/securityContext")]),
        validate=Allowed(warnings=NONE)),
    Row("kubectl debug with an Unconfined container in exempt namespace kube-system: allowed "
        "untouched", _CART, ns="kube-system", subresource="ephemeralcontainers",
        update=debugger("debugger-r2v8n", UNCONFINED),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("kubectl debug with an Unconfined container by exempt user ops:breakglass: allowed "
        "untouched", _CART, ns="shop", user=BREAKGLASS, subresource="ephemeralcontainers",
        update=debugger("debugger-r2v8n", UNCONFINED),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),

    Row("kubectl debug with an Unconfined container on a pod of exempt runtimeClass "
        "kata-untrusted: allowed untouched", "pod-kata-sandbox.yaml", ns="ci",
        subresource="ephemeralcontainers", update=debugger("debugger-k3j9x", UNCONFINED),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("kubectl debug (profile-less) on a Windows pod: no profile injected, allowed",
        "pod-windows-bare.yaml", ns="shop", subresource="ephemeralcontainers",
        update=debugger("debugger-w1n2s"),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),

    # ---- other pod subresources: allowed untouched ----------------------------------------------
    Row("pods/status UPDATE of a pre-existing Unconfined pod: allowed untouched",
        "pod-etl-worker-unconfined.yaml", ns="data", subresource="status", update=pod_status,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("pods/eviction CREATE (kubectl drain) of that pod: allowed untouched",
        "pod-etl-worker-unconfined.yaml", ns="data", request=eviction_subresource,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("pods/binding CREATE (scheduler) of that pod: allowed untouched",
        "pod-etl-worker-unconfined.yaml", ns="data", request=binding_subresource,
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),

    # ---- Windows (SPEC §7.2, §7.3; LESSONS #24) -----------------------------------------------
    Row("Windows pod without any seccomp: nothing injected, allowed",
        "pod-windows-bare.yaml", ns="shop",
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),
    Row("Windows pod with the pod annotation: not migrated, annotation stays with a warning",
        "pod-windows-annotated.yaml", ns="monitoring",
        mutate=Unchanged(warnings=exactly(1), warn_fragments=("Windows",)),
        validate=Allowed(warnings=NONE)),
    Row("Windows DaemonSet template with the annotation in mutateTemplates namespace: no patch",
        "daemonset-windows-exporter.yaml", ns="platform",
        mutate=Unchanged(warnings=exactly(1), warn_fragments=("Windows",)),
        validate=Allowed(warnings=NONE)),

    # ---- mirror pods ---------------------------------------------------------------------------
    Row("mirror pod (Unconfined, privileged init, no profile): never patched nor denied, "
        "violations as warnings", "pod-static-envoy-mirror.yaml", ns="edge",
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(4), warn_format=True, warn_fragments=(
            'container "envoy": unconfined (Unconfined)',
            'container "iptables-setup": privileged (true)',
            'container "iptables-setup": no-profile',
            'container "hot-restarter": no-profile'))),

    # ---- controller-owned workload objects -----------------------------------------------------
    Row("controller-owned ReplicaSet with an Unconfined container in mutateTemplates "
        "namespace: never patched, allowed with warnings", "replicaset-storefront-owned.yaml",
        ns="platform", mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(2), warn_format=True, warn_fragments=(
            'container "profiler": unconfined (Unconfined)',
            'container "storefront": no-profile'))),
    Row("the same ReplicaSet without its controller ownerReference: patched and denied",
        "replicaset-storefront-owned.yaml", ns="platform", edit=orphaned,
        mutate=Mutated(Set(("spec", "template", "spec", "securityContext", "seccompProfile"),
                           RD)),
        validate=Violations('container "profiler"', "Unconfined", count=1,
                            paths=["spec.template.spec.containers[1].securityContext."
                                   "seccompProfile.type"])),
    Row("Job made by a CronJob (controller-owned) with Unconfined in enforce namespace: "
        "allowed with a warning", "job-owned-by-cronjob.yaml", ns="shop",
        mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_format=True,
                         warn_fragments=('container "backup": unconfined (Unconfined)',))),

    # ---- exemptions.runtimeClasses -------------------------------------------------------------
    Row("pod with exempt runtimeClassName kata-untrusted and Unconfined: allowed untouched",
        "pod-kata-sandbox.yaml", ns="ci", mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=NONE)),
    Row("the same pod with runtimeClassName gvisor (not exempt): denied",
        "pod-kata-sandbox.yaml", ns="ci", edit=runtime_class("gvisor"),
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "build"', "Unconfined", count=1,
                            paths=["spec.containers[0].securityContext.seccompProfile.type"])),
    Row("Deployment template with runtimeClassName kata-untrusted in mutateTemplates "
        "namespace: untouched", _GATEWAY, ns="platform", edit=runtime_class("kata-untrusted"),
        mutate=Unchanged(warnings=NONE), validate=Allowed(warnings=NONE)),

    # ---- a template annotation `unconfined` (LESSONS #16, #17) ---------------------------------
    Row("mutateTemplates: Job template annotation `unconfined` → migrated to the Unconfined "
        "field, then denied there", "job-db-migrate-legacy.yaml", ns="platform",
        edit=template_annotation_unconfined,
        mutate=Mutated(template_profile("job-db-migrate-legacy.yaml", UNCONFINED),
                       template_annotation_removed("job-db-migrate-legacy.yaml", PA),
                       warnings=exactly(1)),
        validate=Violations('Unconfined', count=1, paths=[
            "spec.template.spec.securityContext.seccompProfile.type"]),
        validate_unpatched=Violations('Unconfined', paths=[
            "spec.template.metadata.annotations[%s]" % PA])),

    # ---- warn and audit namespaces ---------------------------------------------------------------
    Row("warn namespace: Deployment with an Unconfined sidecar → allowed with a warning",
        _CHECKOUT, ns="legacy", mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=exactly(1), warn_format=True,
                         warn_fragments=('container "profiler": unconfined (Unconfined)',))),

    Row("audit namespace: Unconfined CronJob → allowed, recorded in auditAnnotations",
        "cronjob-db-backup-unconfined.yaml", ns="compliance", mutate=Unchanged(warnings=NONE),
        validate=Allowed(warnings=NONE, audit=True)),

    # ---- dryRun: the same answers (LESSONS #21) ------------------------------------------------
    Row("dryRun: Deployment CREATE in mutateTemplates namespace → the same patch as without",
        _STOREFRONT, ns="platform", dry_run=True,
        mutate=migrated_template(_STOREFRONT, "runtime/default"),
        validate=Allowed(warnings=NONE)),
    Row("dryRun: Unconfined CronJob CREATE → the same denial as without",
        "cronjob-db-backup-unconfined.yaml", ns="shop", dry_run=True,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "backup"', count=1, paths=[
            "spec.jobTemplate.spec.template.spec.containers[0].securityContext."
            "seccompProfile.type"])),
    Row("dryRun: kubectl debug (profile-less) → the same patch as without",
        _CART, ns="shop", dry_run=True, subresource="ephemeralcontainers",
        update=debugger("debugger-r2v8n"),
        mutate=Mutated(Set(("spec", "ephemeralContainers", 1, "securityContext",
                            "seccompProfile"), RD)),
        validate=Allowed(warnings=NONE)),

    # ---- AdmissionReview v1beta1 on both endpoints ---------------------------------------------
    Row("v1beta1: StatefulSet with template annotation in mutateTemplates namespace → patch "
        "and allow, both answers in v1beta1", "statefulset-kafka-legacy.yaml", ns="platform",
        api=V1BETA1, mutate=migrated_template("statefulset-kafka-legacy.yaml",
                                              "runtime/default"),
        validate=Allowed(warnings=NONE)),
    Row("v1beta1: DaemonSet with an Unconfined container → no patch, denied, both in v1beta1",
        "daemonset-node-agent-unconfined.yaml", ns="shop", api=V1BETA1,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "agent"', count=1, paths=[
            "spec.template.spec.containers[0].securityContext.seccompProfile.type"])),
    Row("v1beta1: kubectl debug (profile-less) → patch and allow, both in v1beta1",
        _CART, ns="shop", api=V1BETA1, subresource="ephemeralcontainers",
        update=debugger("debugger-r2v8n"),
        mutate=Mutated(Set(("spec", "ephemeralContainers", 1, "securityContext",
                            "seccompProfile"), RD)),
        validate=Allowed(warnings=NONE)),
    Row("v1beta1: Deployment UPDATE adding an Unconfined sidecar → denied in v1beta1",
        _CHECKOUT, ns="shop", api=V1BETA1, update=add_tcpdump_sidecar,
        mutate=Unchanged(warnings=NONE),
        validate=Violations('container "tcpdump"', count=1, absent=('container "profiler"',))),
]


# ------------------------------------------------------------------------------------------------
# Running a row
# ------------------------------------------------------------------------------------------------

def _comparable(resp):
    """An answer without what legitimately differs between two requests (the uid); the patch
    decoded, so that equal patches compare equal."""
    r = copy.deepcopy(resp)
    r.pop("uid", None)
    if "patch" in r:
        try:
            r["patch"] = decode_patch(r)
        except ValueError:
            pass
    return r


def review_log_lines(server, uid, want, timeout=2.0):
    """The server's JSON log lines of event `review` for request `uid` (polled until `want`
    lines are there or `timeout` passes)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for line in server.stderr_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("event") == "review" and rec.get("uid") == uid:
                found.append(rec)
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def same_without_dry_run(client, row, server=None):
    """The row's request with dryRun true and with dryRun false get the same answers from
    both endpoints (SPEC §7.3: dryRun requests are treated like any other), and the log tells
    them apart (LESSONS #21: "log or count it separately")."""
    fails = []
    obj = row.build_object()
    dry = row.build_review(obj)
    dry["request"]["dryRun"] = True
    wet = copy.deepcopy(dry)
    wet["request"]["dryRun"] = False
    wet["request"]["uid"] = str(uuid.uuid4())
    for endpoint in ("mutate", "validate"):
        f = []
        a = post_review(client, endpoint, dry, f)
        b = post_review(client, endpoint, wet, f)
        fails += ["%s: %s" % (endpoint, x) for x in f]
        if a is not None and b is not None and _comparable(a) != _comparable(b):
            fails.append("%s: dryRun true and false answered differently:\n  dryRun: %s\n"
                         "  normal: %s" % (endpoint, shorten(json.dumps(_comparable(a)), 600),
                                           shorten(json.dumps(_comparable(b)), 600)))
    if server is not None:
        for review, want in ((dry, True), (wet, False)):
            uid = review["request"]["uid"]
            recs = review_log_lines(server, uid, 2)
            if len(recs) != 2:
                fails.append("expected 2 review log lines (mutate, validate) for uid %s, found "
                             "%d" % (uid, len(recs)))
            for rec in recs:
                if rec.get("dryRun") is not want:
                    fails.append("review log line for uid %s has dryRun %r, expected %r: %s" % (
                        uid, rec.get("dryRun"), want, shorten(json.dumps(rec), 300)))
    return fails


def run_row(client, row, server=None):
    fails = run_admission_case(client, row)
    if row.dry_run:
        fails += ["dryRun comparison: " + x for x in same_without_dry_run(client, row, server)]
    return fails


# ------------------------------------------------------------------------------------------------
# Server and runner
# ------------------------------------------------------------------------------------------------

class WorkloadServer(Server):
    """harness.Server, serving tests/e2e/policy-workloads.yaml."""

    def start(self):
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--tls-cert", self.certs["cert"], "--tls-key", self.certs["key"],
               "--config", WORKLOAD_POLICY, "--no-self-sandbox",
               "--shutdown-delay", str(self.shutdown_delay)]
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)




def check_table():
    """Every manifest under workloads/ is used by a row, and every row's manifest exists."""
    fails = []
    used = {r.manifest for r in ROWS}
    present = {f for f in os.listdir(WORKLOAD_DIR) if f.endswith(".yaml")}
    for m in sorted(used - present):
        fails.append("row manifest %s does not exist" % m)
    for m in sorted(present - used):
        fails.append("manifest %s is used by no row" % m)
    names = [r.name for r in ROWS]
    for n in sorted({n for n in names if names.count(n) > 1}):
        fails.append("two rows are named %r" % n)
    return fails


def run_suite(binary, keep=False, only=None):
    res = harness.Results(TIME_BUDGET)
    workdir = tempfile.mkdtemp(prefix="sw-e2e-workloads-")
    server = None
    try:
        res.record("table: every manifest used, every row's manifest present", check_table())
        certs = harness.make_certs(workdir)
        server = WorkloadServer(binary, certs, workdir)
        try:
            server.start()
        except OSError as e:
            res.record("server starts", ["cannot run %s: %s" % (binary, e)])
            server = None
        if server is not None:
            client = Client(server.port, certs["ca"], workdir)
            err = server.wait_healthy(client)
            res.record("server answers GET /healthz 200 within 10 s", [err] if err else [])
            if err is None:
                for row in ROWS:
                    if only and only.lower() not in row.name.lower():
                        continue
                    if res.out_of_time():
                        res.record(row.name, ["not run: the %d s budget is spent" % TIME_BUDGET])
                        continue
                    res.record(row.name, harness.guarded(run_row, client, row, server))
            rc, secs = server.terminate(10)
            res.record("SIGTERM → exits 0 within 10 s (took %.1f s)" % secs,
                       [] if rc == 0 else ["exit status %r after SIGTERM" % rc])
    except HarnessError as e:
        res.record("test setup", [str(e)])
    finally:
        if server is not None:
            server.kill()
            server.close_logs()
            if res.failed:
                lines = server.stderr_text().splitlines()
                print("\n----- server stderr (%d lines%s) -----" % (
                    len(lines), ", last 300 shown" if len(lines) > 300 else ""))
                print("\n".join(lines[-300:]))
                print("----- end of server stderr -----")
        if keep:
            print("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (res.passed, res.failed))
    return res.failed == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", help="path to the seccomp-webhook executable")
    ap.add_argument("-k", dest="only", help="run only rows whose name contains this text")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--list", action="store_true", help="list the rows and exit")
    args = ap.parse_args()
    if args.list:
        for r in ROWS:
            print("%-6s %-12s %-46s %s" % (r.op, r.ns, r.manifest, r.name))
        print("%d rows" % len(ROWS))
        return 0
    if not args.binary:
        ap.error("--binary is required")
    return 0 if run_suite(os.path.abspath(args.binary), args.keep, args.only) else 1


if __name__ == "__main__":
    sys.exit(main())

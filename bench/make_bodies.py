#!/usr/bin/python3
"""Write the benchmark's AdmissionReview bodies into DIR: a small pod, a 40-container pod, and a
CronJob with alpha annotations. Usage: make_bodies.py DIR"""
import json
import os
import sys


def review(kind, group, resource, obj, uid):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": resource},
            "requestKind": {"group": group, "version": "v1", "kind": kind},
            "requestResource": {"group": group, "version": "v1", "resource": resource},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                         "uid": "b2b6c3e2-1c1e-4c5e-9b7e-8a1e2c3d4f50",
                         "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def container(i):
    return {
        "name": "app-%d" % i if i else "app",
        "image": "registry.example.com/shop/service-%d:1.%d.0" % (i, i),
        "ports": [{"containerPort": 8080 + i, "name": "http-%d" % i, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080 + i},
                           "periodSeconds": 5},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }


def pod(n):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "checkout-7d9f8c6b5-", "namespace": "shop",
                     "labels": {"app": "checkout", "pod-template-hash": "7d9f8c6b5"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "checkout-7d9f8c6b5", "uid": "7e1c",
                                          "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"containers": [container(i) for i in range(n)],
                 "volumes": [{"name": "tmp", "emptyDir": {}}],
                 "serviceAccountName": "checkout", "terminationGracePeriodSeconds": 30},
    }


def cronjob():
    tmpl = pod(2)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly-report", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "concurrencyPolicy": "Forbid",
                 "jobTemplate": {"spec": {"backoffLimit": 2, "template": {
                     "metadata": {"annotations": {
                         "seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
                         "container.seccomp.security.alpha.kubernetes.io/app-1": "docker/default"}},
                     "spec": dict(tmpl["spec"], restartPolicy="OnFailure")}}}},
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    bodies = {
        "pod-small.json": review("Pod", "", "pods", pod(1), "0f3c0d55-small"),
        "pod-40-containers.json": review("Pod", "", "pods", pod(40), "0f3c0d55-large"),
        "cronjob-annotations.json": review("CronJob", "batch", "cronjobs", cronjob(),
                                           "0f3c0d55-cronjob"),
    }
    for name, body in bodies.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(body, f, separators=(",", ":"))


if __name__ == "__main__":
    main()

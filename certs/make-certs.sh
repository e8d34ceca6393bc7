#!/usr/bin/env bash
# make-certs.sh — a private CA and the serving certificate of the in-cluster Service, for
# seccomp-webhook (see certs/README.md). Uses only the `openssl` command.
#
#   certs/make-certs.sh [options]                  first set: a new CA and a serving pair
#   certs/make-certs.sh --renew                    new serving pair from the same CA
#   certs/make-certs.sh --rotate start|promote|finish
#                                                  replace the CA with an overlap (three steps)
#
# Writes into the output directory (default certs/out/, ignored by git; it holds private keys):
#   ca.crt ca.key        the CA that signed the serving certificate in use
#   tls.crt tls.key      the serving pair (leaf certificate; unencrypted PKCS#8 key)
#   ca-bundle.crt        the CA certificate(s) the API server must trust (old + new while rotating)
#   caBundle.b64         ca-bundle.crt in base64, one line: the webhooks' clientConfig.caBundle
#   secret.yaml          the kubernetes.io/tls Secret (tls.crt, tls.key) the Deployment mounts
#   cabundle-patch.yaml  a kustomize patch setting caBundle on both webhook configurations
#   kustomization.yaml   an overlay: manifests/ + secret.yaml + cabundle-patch.yaml, so that
#                        `kubectl apply -k certs/out` deploys everything with these certificates
#   next/, previous/     the incoming / outgoing CA and pair during a rotation
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: certs/make-certs.sh [options]

Make a private CA and a serving certificate for the webhook's Service, and the Kubernetes
objects that carry them (TLS Secret, caBundle patch, kustomize overlay).

Options:
  --service NAME        Service name (default seccomp-webhook)
  --namespace NS        namespace of the Service (default seccomp-webhook)
  --cluster-domain D    cluster DNS domain (default cluster.local)
  --secret-name NAME    name of the TLS Secret (default seccomp-webhook-tls)
  --out DIR             output directory (default certs/out next to this script)
  --manifests DIR       the kustomize base the overlay builds on (default manifests/)
  --key-type ec|rsa     EC P-256 (default) or RSA 3072
  --ca-days N           CA validity in days (default 1825, five years)
  --days N              serving certificate validity in days (default 365)
  --force               overwrite an existing CA in --out (first set only)
  --renew               new serving pair signed by the existing CA (caBundle unchanged)
  --rotate PHASE        replace the CA without an outage, in three applied steps:
                          start    new CA + pair in next/; caBundle = old + new CA;
                                   the Secret still holds the old pair
                          promote  the Secret gets the new pair (old moved to previous/);
                                   caBundle still old + new
                          finish   caBundle = the new CA only; previous/ removed
                        Run `kubectl apply -k OUT` after each phase and wait as README says.
  -h, --help            this help
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
# The names manifests/ uses; other --service/--namespace values are patched in by the overlay.
BASE_SERVICE=seccomp-webhook
BASE_NAMESPACE=seccomp-webhook
service=seccomp-webhook
namespace=seccomp-webhook
domain=cluster.local
secret=seccomp-webhook-tls
out=$here/out
manifests=$here/../manifests
keytype=ec
ca_days=1825
days=365
force=0
mode=init
phase=

die() { echo "make-certs.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case $1 in
    --service) service=${2:?}; shift 2 ;;
    --namespace) namespace=${2:?}; shift 2 ;;
    --cluster-domain) domain=${2:?}; shift 2 ;;
    --secret-name) secret=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --manifests) manifests=${2:?}; shift 2 ;;
    --key-type) keytype=${2:?}; shift 2 ;;
    --ca-days) ca_days=${2:?}; shift 2 ;;
    --days) days=${2:?}; shift 2 ;;
    --force) force=1; shift ;;
    --renew) mode=renew; shift ;;
    --rotate) mode=rotate; phase=${2:-}; shift 2 || die "--rotate needs start, promote or finish" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

case $keytype in ec|rsa) ;; *) die "--key-type must be ec or rsa, not '$keytype'" ;; esac
[[ $ca_days =~ ^[1-9][0-9]*$ ]] || die "--ca-days must be a positive number"
[[ $days =~ ^[1-9][0-9]*$ ]] || die "--days must be a positive number"
# DNS-1035 label (Service) and DNS-1123 label (namespace): both fit this pattern.
label='^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$'
[[ $service =~ $label ]] || die "--service '$service' is not a valid Service name"
[[ $namespace =~ $label ]] || die "--namespace '$namespace' is not a valid namespace name"
command -v openssl >/dev/null || die "the openssl command is needed (apt-get install openssl)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- key and certificate helpers ------------------------------------------------------------

# Run openssl quietly; on failure show what it said.
ossl() { openssl "$@" 2>"$tmp/openssl.err" || { cat "$tmp/openssl.err" >&2; die "openssl $1 failed"; }; }

new_key() { # FILE
  if [ "$keytype" = ec ]; then
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  else
    ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1"
  fi
  chmod 600 "$1"
}

serial() { openssl rand -hex 16; }

new_ca() { # DIR: ca.key ca.crt
  local dir=$1 stamp
  stamp=$(date -u +%Y%m%d%H%M%S)
  new_key "$dir/ca.key"
  cat >"$tmp/ca.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = seccomp-webhook CA $stamp
[ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  ossl req -new -x509 -config "$tmp/ca.cnf" -key "$dir/ca.key" -sha256 \
    -days "$ca_days" -set_serial "0x$(serial)" -out "$dir/ca.crt"
  chmod 644 "$dir/ca.crt"
}

new_pair() { # DIR CADIR: DIR/tls.key DIR/tls.crt signed by CADIR/ca.{crt,key}
  local dir=$1 cadir=$2 ku=digitalSignature
  [ "$keytype" = rsa ] && ku="digitalSignature, keyEncipherment"
  new_key "$dir/tls.key"
  cat >"$tmp/leaf.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $service.$namespace.svc
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:$service.$namespace.svc, DNS:$service.$namespace.svc.$domain, DNS:$service.$namespace, DNS:$service
EOF
  ossl req -new -config "$tmp/leaf.cnf" -key "$dir/tls.key" -out "$tmp/leaf.csr"
  ossl x509 -req -in "$tmp/leaf.csr" -CA "$cadir/ca.crt" -CAkey "$cadir/ca.key" \
    -set_serial "0x$(serial)" -sha256 -days "$days" \
    -extfile "$tmp/leaf.cnf" -extensions ext -out "$dir/tls.crt"
  chmod 644 "$dir/tls.crt"
  openssl verify -CAfile "$cadir/ca.crt" "$dir/tls.crt" >/dev/null ||
    die "the new serving certificate does not verify against its CA"
}

# --- Kubernetes objects ---------------------------------------------------------------------

b64() { base64 -w0 <"$1"; }

write_objects() { # bundle file (PEM of every trusted CA)
  cp "$1" "$out/ca-bundle.crt.new" && mv "$out/ca-bundle.crt.new" "$out/ca-bundle.crt"
  chmod 644 "$out/ca-bundle.crt"
  local bundle
  bundle=$(b64 "$out/ca-bundle.crt")
  printf '%s\n' "$bundle" >"$out/caBundle.b64"
  chmod 644 "$out/caBundle.b64"

  cat >"$out/secret.yaml" <<EOF
# Written by certs/make-certs.sh: the serving pair of Service $service.$namespace.
# It holds a private key: do not commit it to git unencrypted.
apiVersion: v1
kind: Secret
metadata:
  name: $secret
  namespace: $namespace
  labels:
    app.kubernetes.io/name: seccomp-webhook
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
EOF

  # JSON 6902 patches, one per configuration: each holds exactly one webhook (index 0).
  cat >"$out/cabundle-patch.yaml" <<EOF
# Written by certs/make-certs.sh: the CA bundle the API server uses to verify the webhook.
- op: replace
  path: /webhooks/0/clientConfig/caBundle
  value: $bundle
EOF

  # The overlay. manifests/ names Service seccomp-webhook in namespace seccomp-webhook; other
  # names (--service, --namespace) are patched in, with the namespaceSelector's own-namespace
  # exclusion.
  local base webhook_ops="" extra="" patches="" kind
  base=$(realpath --relative-to="$out" "$manifests")
  if [ "$namespace" != "$BASE_NAMESPACE" ]; then
    webhook_ops+="
      - op: replace
        path: /webhooks/0/clientConfig/service/namespace
        value: $namespace
      - op: replace
        path: /webhooks/0/namespaceSelector/matchExpressions/0/values
        value: [kube-system, $namespace]"
    extra+="namespace: $namespace
"
  fi
  if [ "$service" != "$BASE_SERVICE" ]; then
    webhook_ops+="
      - op: replace
        path: /webhooks/0/clientConfig/service/name
        value: $service"
  fi
  for kind in ValidatingWebhookConfiguration MutatingWebhookConfiguration; do
    patches+="  - path: cabundle-patch.yaml
    target:
      group: admissionregistration.k8s.io
      kind: $kind
      name: seccomp-webhook
"
    if [ -n "$webhook_ops" ]; then
      patches+="  - target:
      group: admissionregistration.k8s.io
      kind: $kind
      name: seccomp-webhook
    patch: |-$webhook_ops
"
    fi
  done
  if [ "$service" != "$BASE_SERVICE" ]; then
    patches+="  - target:
      kind: Service
      name: $BASE_SERVICE
    patch: |-
      - op: replace
        path: /metadata/name
        value: $service
"
  fi
  cat >"$out/kustomization.yaml" <<EOF
# Written by certs/make-certs.sh: the manifests with this directory's certificates.
#   kubectl apply -k $out
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
${extra}resources:
  - $base
  - secret.yaml
patches:
$patches
EOF
  chmod 644 "$out/cabundle-patch.yaml" "$out/kustomization.yaml"
}

fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

report() {
  echo "wrote $out:" >&2
  echo "  serving certificate $(fingerprint "$out/tls.crt")" >&2
  echo "    $(openssl x509 -in "$out/tls.crt" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//')" >&2
  echo "    expires $(openssl x509 -in "$out/tls.crt" -noout -enddate | cut -d= -f2)" >&2
  echo "  caBundle: $(grep -c 'BEGIN CERTIFICATE' "$out/ca-bundle.crt") CA certificate(s)" >&2
  if [ "${1:-}" = --first ]; then
    # The validating webhook fails closed: registered before a replica is ready, it would
    # refuse pod creations. So on a first install the webhook configurations go last.
    echo "next, on a first install (the webhook configurations last):" >&2
    echo "  kubectl kustomize $out | kubectl apply -f - -l 'app.kubernetes.io/component!=webhook-configuration'" >&2
    echo "  kubectl -n seccomp-webhook rollout status deployment/seccomp-webhook" >&2
    echo "  kubectl apply -k $out" >&2
    echo "(over an existing install, the last line alone)" >&2
    return
  fi
  echo "next: kubectl apply -k $out   $*" >&2
}

require() { for f in "$@"; do [ -s "$out/$f" ] || die "$out/$f is missing: run without --renew/--rotate first"; done; }

case $mode in
init)
  if [ -e "$out/ca.key" ] && [ $force -eq 0 ]; then
    die "$out already holds a CA: use --renew, --rotate, or --force to start over"
  fi
  rm -rf "$out/next" "$out/previous"
  new_ca "$out"
  new_pair "$out" "$out"
  write_objects "$out/ca.crt"
  report --first
  ;;
renew)
  require ca.crt ca.key
  [ -d "$out/next" ] && die "a CA rotation is in progress (next/ exists): finish it first"
  new_pair "$tmp" "$out"
  mv "$tmp/tls.key" "$out/tls.key"
  mv "$tmp/tls.crt" "$out/tls.crt"
  # The bundle stays what the API server trusts now (during an unfinished rotation, both CAs).
  write_objects "$out/ca-bundle.crt"
  report "(the caBundle is unchanged; the pods pick up the new Secret)"
  ;;
rotate)
  require ca.crt ca.key tls.crt tls.key
  case $phase in
  start)
    [ -d "$out/next" ] && die "rotation already started (next/ exists): run --rotate promote"
    [ -d "$out/previous" ] && die "a previous rotation is unfinished (previous/ exists): run --rotate finish"
    mkdir -p "$out/next"
    new_ca "$out/next"
    new_pair "$out/next" "$out/next"
    cat "$out/ca.crt" "$out/next/ca.crt" >"$tmp/bundle"
    write_objects "$tmp/bundle"
    report "(step 1 of 3: the webhooks trust the old and the new CA; the Secret is unchanged)"
    ;;
  promote)
    [ -d "$out/next" ] || die "no rotation in progress (next/ is missing): run --rotate start"
    rm -rf "$out/previous"
    mkdir -p "$out/previous"
    mv "$out/ca.crt" "$out/ca.key" "$out/tls.crt" "$out/tls.key" "$out/previous/"
    mv "$out/next/ca.crt" "$out/next/ca.key" "$out/next/tls.crt" "$out/next/tls.key" "$out/"
    rmdir "$out/next"
    write_objects "$out/ca-bundle.crt"
    report "(step 2 of 3: the Secret holds the new pair; wait until every pod serves it)"
    ;;
  finish)
    [ -d "$out/next" ] && die "the new pair is not promoted yet: run --rotate promote first"
    [ -d "$out/previous" ] || die "no rotation to finish (previous/ is missing)"
    rm -rf "$out/previous"
    write_objects "$out/ca.crt"
    report "(step 3 of 3: the webhooks trust the new CA only)"
    ;;
  *) die "--rotate needs start, promote or finish" ;;
  esac
  ;;
esac

#!/usr/bin/env bash
# What the repository's examples (jobs/services) need on the dev stack, so that
# `hashiship deploy --env qa <name>` runs them after `hashiship dev up`:
#   - images, made here (no Docker Hub): hashiship/redis, hashiship/mariadb from
#     scripts/images/*.sh (Debian packages), and the examples' own services from
#     examples/apps/* on the Python base, pushed to the QA registry (127.0.0.1:5001);
#   - artifacts: billing's jar (javac) and the storefront's static files, stored in
#     Consul KV under artifacts/ and served raw on loopback
#     (http://127.0.0.1:8500/v1/kv/artifacts/…?raw); their checksums must be the ones
#     in the specs;
#   - Vault: the secrets the specs reference (random values, written only when
#     missing), a PKI mount with the `storefront` role, and each service's policy and
#     workload-identity role (`hashiship secrets policy --env qa --apply`);
#   - Consul KV: the configuration keys the specs read (written only when missing);
#   - Nomad: the storefront namespace, node meta storage=mysql and the dynamic host
#     volume mysql-data (mysql.yaml's constraint and volume).
# Idempotent (a second run changes nothing and takes seconds), loopback only, never
# prints a secret. Usage: bash scripts/examples-setup.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
# The dev stack's addresses, token and PATH (nomad, consul, vault); nothing printed.
eval "$(node dist/cli.js dev env)"
for v in NOMAD_ADDR CONSUL_HTTP_ADDR VAULT_ADDR DOCKER_HOST; do
  case "${!v}" in
    http://127.0.0.1:* | unix://*) ;;
    *) echo "examples-setup: $v=${!v} is not the dev stack on loopback; start it with: hashiship dev up" >&2; exit 1 ;;
  esac
done
registry=127.0.0.1:5001
work="$(mktemp -d "${TMPDIR:-/tmp}/hashiship-examples.XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { echo "examples-setup: $*"; }

# --- images and artifacts (made side by side: each step waits on the machine) ---------
# push REPO:TAG CONTEXT: build, tag in the QA registry, push.
push() {
  docker build --quiet --tag "$registry/$1" "$2" >/dev/null
  docker push --quiet "$registry/$1" >/dev/null
  step "image $registry/$1"
}
# all CMD…: each argument a command, run at once; fails when one fails.
all() {
  local pids=() c
  for c in "$@"; do
    bash -c "$c" &
    pids+=($!)
  done
  for c in "${pids[@]}"; do wait "$c"; done
}
export registry work
export -f push step
# The billing jar: reproducible bytes (fixed dates), cached by the hash of its source.
cache="${HASHISHIP_CACHE:-$HOME/.cache/hashiship}/examples"
jar="$cache/billing-4.2.1-$(sha256sum examples/apps/billing/src/Billing.java | cut -c1-12).jar"
mkdir -p "$cache"
make_jar="[ -f '$jar' ] || { javac --release 17 -d '$work/classes' examples/apps/billing/src/Billing.java &&
  jar --create --file '$jar.tmp' --date 2000-01-01T00:00:00Z --main-class Billing -C '$work/classes' . && mv '$jar.tmp' '$jar'; }"
# shellcheck disable=SC2016 # expanded by the bash that runs each command ($work is exported)
all 'bash scripts/images/python.sh >"$work/python"' 'bash scripts/images/redis.sh >"$work/redis"' \
  'bash scripts/images/mariadb.sh >"$work/mariadb"' "$make_jar"
docker build --quiet --tag hashiship/python:3.11 "$(tail -1 "$work/python")" >/dev/null
all "push hashiship/redis:7.0 '$(tail -1 "$work/redis")'" "push hashiship/mariadb:10.11 '$(tail -1 "$work/mariadb")'" \
  'push storefront/web:2.14.0 examples/apps/storefront-web' 'push storefront/log-shipper:1.0.0 examples/apps/log-shipper' \
  'push catalog/reindex:1.4.0 examples/apps/catalog-reindex' 'push finance/sales-report:3.1.0 examples/apps/sales-report'

# artifact KEY FILE SPEC: store FILE in Consul KV under KEY when SPEC names its sha256.
artifact() {
  local key="$1" file="$2" spec="$3" sum
  sum="$(sha256sum "$file" | cut -d' ' -f1)"
  if ! grep -q "sha256:$sum" "$spec"; then
    echo "examples-setup: $spec does not name sha256:$sum, the checksum of $key as built here; update the spec" >&2
    exit 1
  fi
  curl --silent --show-error --fail --request PUT --data-binary "@$file" "$CONSUL_HTTP_ADDR/v1/kv/$key" >/dev/null
  step "artifact $CONSUL_HTTP_ADDR/v1/kv/$key?raw (sha256:${sum:0:12}…)"
}
artifact artifacts/billing/billing-4.2.1.jar "$jar" jobs/services/billing.yaml
tar -C examples/apps/storefront-web/static --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | gzip -9n >"$work/static.tar.gz"
artifact artifacts/storefront/static-2.14.0.tar.gz "$work/static.tar.gz" jobs/services/web.yaml

# --- Vault ----------------------------------------------------------------------
# secret PATH KEY: a random value under KEY of the KV v2 secret secret/PATH, unless
# it has one. The value goes through stdin, never the command line or the output.
secret() {
  local path="$1" key="$2"
  if vault kv get -mount=secret -field="$key" "$path" >/dev/null 2>&1; then return; fi
  local verb='put'
  if vault kv get -mount=secret "$path" >/dev/null 2>&1; then verb='patch'; fi
  head -c 24 /dev/urandom | base64 | tr -d '\n' | vault kv "$verb" -mount=secret "$path" "$key=-" >/dev/null
  step "secret secret/$path: $key written"
}
secret storefront/db password
secret storefront/session signing-key
secret billing/stripe api-key
secret billing/tls keystore
secret mysql/root password
secret catalog/search token
secret finance/smtp password
# The listing is read whole before it is searched: with pipefail, `grep -q` leaving a pipe early can make the
# writer fail (SIGPIPE) and the test look false, which on a loaded machine enabled pki/ twice.
mounts=$(vault secrets list -format=json)
if ! grep -q '"pki/"' <<<"$mounts"; then
  vault secrets enable -max-lease-ttl=87600h pki >/dev/null
  step 'vault: pki mounted'
fi
if ! vault list pki/issuers >/dev/null 2>&1; then
  vault write -field=certificate pki/root/generate/internal common_name='hashiship dev stack CA' ttl=87600h >/dev/null
  step 'vault: pki root CA generated'
fi
vault write pki/roles/storefront allowed_domains=service.consul allow_subdomains=true max_ttl=72h >/dev/null
node dist/cli.js secrets policy --env qa --apply >/dev/null
step 'vault: policies and roles of the qa services written (hashiship secrets policy --env qa --apply)'

# --- Consul KV configuration ------------------------------------------------------
# kv KEY VALUE: VALUE under KEY unless the key exists (an operator's value stays).
kv() {
  if consul kv get "$1" >/dev/null 2>&1; then return; fi
  consul kv put "$1" "$2" >/dev/null
  step "consul kv $1 written"
}
kv storefront/web/feature-flags 'new-checkout,recommendations'
kv storefront/web/banner 'Welcome to the QA storefront'
kv catalog/search/url "$CONSUL_HTTP_ADDR/v1/kv/catalog/search/index"
kv finance/reports/recipients 'finance-qa@example.com'

# --- Nomad --------------------------------------------------------------------------
nomad node meta apply storage=mysql >/dev/null
# The volume lives in the namespace of its job: create it when missing (deploy would too).
if ! curl --silent --fail "$NOMAD_ADDR/v1/namespace/storefront" >/dev/null; then
  curl --silent --show-error --fail --request POST --data '{"Name":"storefront","Description":"hashiship examples"}' "$NOMAD_ADDR/v1/namespace/storefront" >/dev/null
fi
volumes=$(curl --silent --fail "$NOMAD_ADDR/v1/volumes?type=host&namespace=storefront")
if ! grep -q '"Name":"mysql-data"' <<<"$volumes"; then
  cat >"$work/mysql-data.hcl" <<'HCL'
namespace = "storefront"
name      = "mysql-data"
type      = "host"
plugin_id = "mkdir"

capability {
  access_mode     = "single-node-writer"
  attachment_mode = "file-system"
}
HCL
  nomad volume create -detach "$work/mysql-data.hcl" >/dev/null
  step 'nomad: dynamic host volume mysql-data created (namespace storefront)'
fi
for _ in $(seq 1 100); do
  volumes=$(curl --silent --fail "$NOMAD_ADDR/v1/volumes?type=host&namespace=storefront" || true)
  grep -q '"Name":"mysql-data".*"State":"ready"\|"State":"ready".*"Name":"mysql-data"' <<<"$volumes" && break
  sleep 0.2
done
step 'nomad: node meta storage=mysql, namespace storefront, host volume mysql-data ready'
step "done: hashiship deploy --env qa redis mysql web billing reindex reports"

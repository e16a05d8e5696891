/**
 * What runs on a machine's first boot: install pinned packages, fetch secrets from
 * the secret store into files beside the agent configuration, start the agents. The
 * script is the same for every cluster of a role; its parameters come from
 * `/etc/hashiship/boot.env`. Secrets never pass through Terraform or user data:
 * only their names do.
 */
import { attr, envFile } from './doc.js';
import { paths, ports } from './layout.js';
import type { AgentRole } from './options.js';
import { ref, type Seg } from './template.js';

/** HashiCorp's Debian archive signing key (apt.releases.hashicorp.com/gpg). */
export const hashicorpKeyFingerprint = '798AEC654E5C15428C8E42EEAA16FCBCA621E701';

/** How a fetched secret is checked before use. */
export type SecretKind = 'gossip' | 'token' | 'pem';

/** One file written from a secret. */
export interface SecretWrite {
  readonly path: string;
  readonly mode: string;
  /** Group allowed to read it (the service's user), when that group exists. */
  readonly group: string;
  /** printf format; `%s` is the secret. */
  readonly format: string;
}

/** A secret the boot script fetches as `<prefix>/<name>`. */
export interface SecretSpec {
  readonly name: string;
  /** Fetched always, or only with TLS or ACLs on. */
  readonly when: 'always' | 'tls' | 'acl';
  readonly kind: SecretKind;
  readonly writes: readonly SecretWrite[];
}

const pem = (path: string, mode: string, group: string): SecretWrite => ({ path, mode, group, format: '%s\\n' });

/** The secrets a role needs, with where each one is written. */
export function secretsFor(role: AgentRole): readonly SecretSpec[] {
  const c = paths.consul;
  const n = paths.nomad;
  const out: SecretSpec[] = [
    {
      name: 'consul/gossip-key',
      when: 'always',
      kind: 'gossip',
      writes: [{ path: `${c.config}/gossip.hcl`, mode: '0640', group: 'consul', format: 'encrypt = "%s"\\n' }],
    },
    {
      name: 'consul/agent-token',
      when: 'acl',
      kind: 'token',
      writes: [
        {
          path: `${c.config}/acl-tokens.hcl`,
          mode: '0640',
          group: 'consul',
          format: 'acl {\\n  tokens {\\n    agent = "%s"\\n  }\\n}\\n',
        },
      ],
    },
  ];
  const caTargets = [pem(`${c.tls}/ca.pem`, '0644', 'consul')];
  if (role === 'server' || role === 'client') caTargets.push(pem(`${n.tls}/ca.pem`, '0644', ''));
  if (role === 'vault') caTargets.push(pem(`${paths.vault.tls}/ca.pem`, '0644', 'vault'));
  out.push({ name: 'tls/ca.pem', when: 'tls', kind: 'pem', writes: caTargets });
  if (role === 'server') {
    out.push(
      { name: 'tls/consul-server.pem', when: 'tls', kind: 'pem', writes: [pem(`${c.tls}/server.pem`, '0644', 'consul')] },
      { name: 'tls/consul-server-key.pem', when: 'tls', kind: 'pem', writes: [pem(`${c.tls}/server-key.pem`, '0640', 'consul')] },
    );
  }
  if (role === 'server' || role === 'client') {
    if (role === 'server') {
      out.push({
        name: 'nomad/gossip-key',
        when: 'always',
        kind: 'gossip',
        writes: [{ path: `${n.config}/gossip.hcl`, mode: '0600', group: '', format: 'server {\\n  encrypt = "%s"\\n}\\n' }],
      });
    }
    out.push(
      {
        name: 'nomad/consul-token',
        when: 'acl',
        kind: 'token',
        writes: [{ path: `${n.config}/consul-token.hcl`, mode: '0600', group: '', format: 'consul {\\n  token = "%s"\\n}\\n' }],
      },
      { name: `tls/nomad-${role}.pem`, when: 'tls', kind: 'pem', writes: [pem(`${n.tls}/${role}.pem`, '0644', '')] },
      { name: `tls/nomad-${role}-key.pem`, when: 'tls', kind: 'pem', writes: [pem(`${n.tls}/${role}-key.pem`, '0600', '')] },
    );
  }
  if (role === 'client') {
    out.push({
      name: 'fabio/consul-token',
      when: 'acl',
      kind: 'token',
      writes: [{ path: `${paths.fabio.config}/secrets.env`, mode: '0600', group: '', format: 'FABIO_REGISTRY_CONSUL_TOKEN=%s\\n' }],
    });
  }
  if (role === 'vault') {
    const v = paths.vault;
    out.push(
      {
        name: 'vault/consul-token',
        when: 'acl',
        kind: 'token',
        writes: [{ path: `${v.config}/secrets.env`, mode: '0640', group: 'vault', format: 'CONSUL_HTTP_TOKEN=%s\\n' }],
      },
      { name: 'tls/vault.pem', when: 'tls', kind: 'pem', writes: [pem(`${v.tls}/vault.pem`, '0644', 'vault')] },
      { name: 'tls/vault-key.pem', when: 'tls', kind: 'pem', writes: [pem(`${v.tls}/vault-key.pem`, '0640', 'vault')] },
    );
  }
  return out;
}

/** The systemd services a role runs, in start order. */
export function servicesFor(role: AgentRole): readonly ('consul' | 'nomad' | 'vault' | 'fabio')[] {
  if (role === 'server') return ['consul', 'nomad'];
  if (role === 'client') return ['consul', 'nomad', 'fabio'];
  return ['consul', 'vault'];
}

/** `/etc/hashiship/boot.env`: the boot script's parameters (no secrets: names only). */
export function bootEnv(role: AgentRole): Seg[] {
  return envFile(`hashiship boot parameters (${role} role). Generated by hashiship agent-config; no secrets, only where to find them.`, [
    attr('ROLE', role),
    attr('TLS', ref('tls')),
    attr('ACL', ref('acl')),
    attr('JAVA', ref('java')),
    attr('SECRET_SOURCE', ref('secret_source')),
    attr('SECRET_PREFIX', ref('secret_prefix')),
    attr('AWS_REGION', ref('aws_region')),
    attr('CONSUL_PACKAGE', ref('consul_package')),
    attr('NOMAD_PACKAGE', ref('nomad_package')),
    attr('VAULT_PACKAGE', ref('vault_package')),
    attr('FABIO_URL', ref('fabio_url')),
    attr('FABIO_SHA256', ref('fabio_sha256')),
  ]);
}

function secretSteps(role: AgentRole): string {
  const lines: string[] = [];
  for (const s of secretsFor(role)) {
    const body = [`v=$(secret ${s.name} ${s.kind})`, ...s.writes.map((w) => `put ${w.path} ${w.mode} '${w.group}' '${w.format}' "$v"`)];
    if (s.when === 'always') lines.push(...body.map((l) => `  ${l}`));
    else {
      lines.push(`  if [ "$${s.when.toUpperCase()}" = true ]; then`, ...body.map((l) => `    ${l}`), '  fi');
    }
  }
  return lines.join('\n');
}

function packagesFor(role: AgentRole): string {
  const pkgs = ['consul="$CONSUL_PACKAGE"'];
  if (role !== 'vault') pkgs.push('nomad="$NOMAD_PACKAGE"');
  if (role === 'vault') pkgs.push('vault="$VAULT_PACKAGE"');
  if (role === 'client') pkgs.push('docker.io', 'containernetworking-plugins');
  return pkgs.join(' ');
}

function dataDirs(role: AgentRole): string {
  const lines = [`  install -d -o consul -g consul -m 0750 ${paths.consul.data}`];
  if (role !== 'vault') lines.push(`  install -d -m 0700 ${paths.nomad.data}`);
  if (role === 'vault') lines.push(`  install -d -o vault -g vault -m 0700 ${paths.vault.data}`);
  return lines.join('\n');
}

/** `/usr/local/sbin/hashiship-boot` for a role (static: parameters come from boot.env). */
export function bootScript(role: AgentRole): string {
  const services = servicesFor(role)
    .map((s) => `${s}.service`)
    .join(' ');
  return `#!/bin/bash
# hashiship first-boot script, ${role} role. Generated by hashiship agent-config.
# Usage: hashiship-boot [all|install|secrets|start]   (cloud-init runs "all" once)
# Parameters: ${paths.hashiship.env}. HASHISHIP_ROOT, when set, relocates every file
# the secrets step reads or writes (tests run it that way); secrets never appear in
# this script, in user data or in logs.
set -euo pipefail

ROOT="\${HASHISHIP_ROOT:-}"
# shellcheck source=/dev/null
. "$ROOT${paths.hashiship.env}"

HASHICORP_KEY=${hashicorpKeyFingerprint}

log() { printf 'hashiship-boot: %s\\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# fetch NAME: print the secret <prefix>/NAME from the secret store.
fetch() {
  case "$SECRET_SOURCE" in
    ssm) aws ssm get-parameter --region "$AWS_REGION" --with-decryption --name "$SECRET_PREFIX/$1" --query Parameter.Value --output text ;;
    file) cat -- "$ROOT$SECRET_PREFIX/$1" ;;
    *) die "SECRET_SOURCE must be ssm or file, not $SECRET_SOURCE" ;;
  esac
}

# secret NAME KIND: fetch a secret and check its shape (never printing it).
secret() {
  local value
  value=$(fetch "$1") || die "could not fetch secret $1 ($SECRET_SOURCE $SECRET_PREFIX)"
  case "$2" in
    gossip) [[ "$value" =~ ^[A-Za-z0-9+/]{22,}={0,2}$ ]] || die "secret $1 is not a base64 gossip key" ;;
    token) [[ "$value" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || die "secret $1 is not an ACL token (UUID)" ;;
    pem) [[ "$value" == "-----BEGIN "* ]] || die "secret $1 is not PEM" ;;
  esac
  printf '%s' "$value"
}

# put PATH MODE GROUP FORMAT VALUE: write a file atomically, readable by root and GROUP.
put() {
  local dest="$ROOT$1" tmp
  install -d -m 0755 "$(dirname "$dest")"
  tmp=$(mktemp "$dest.XXXXXX")
  # shellcheck disable=SC2059 # the format is ours; the secret is only ever a %s argument
  printf "$4" "$5" >"$tmp"
  chmod "$2" "$tmp"
  if [ -n "$3" ] && getent group "$3" >/dev/null; then chgrp "$3" "$tmp"; fi
  mv -f "$tmp" "$dest"
}

step_install() {
  export DEBIAN_FRONTEND=noninteractive
  local keyring=/usr/share/keyrings/hashicorp-archive-keyring.gpg codename fpr
  apt-get update -qq
  apt-get install -y -qq curl gnupg ca-certificates
  if [ "$SECRET_SOURCE" = ssm ]; then apt-get install -y -qq awscli; fi
  curl -fsSL https://apt.releases.hashicorp.com/gpg | gpg --dearmor --yes -o "$keyring"
  fpr=$(gpg --show-keys --with-colons "$keyring" | awk -F: '$1 == "fpr" { print $10; exit }')
  [ "$fpr" = "$HASHICORP_KEY" ] || die "HashiCorp archive key is $fpr, expected $HASHICORP_KEY"
  codename=$(awk -F= '$1 == "VERSION_CODENAME" { print $2 }' /etc/os-release)
  echo "deb [signed-by=$keyring] https://apt.releases.hashicorp.com $codename main" >/etc/apt/sources.list.d/hashicorp.list
  apt-get update -qq
  # Our configuration files are already in place: keep them over the packages' samples.
  apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${packagesFor(role)}
${
  role === 'client'
    ? `  if [ "$JAVA" = true ]; then apt-get install -y -qq default-jre-headless; fi
  local tmp
  [ -n "$FABIO_SHA256" ] || die "FABIO_SHA256 is empty: refusing to install an unverified Fabio"
  tmp=$(mktemp)
  curl -fsSL -o "$tmp" "$FABIO_URL"
  echo "$FABIO_SHA256  $tmp" | sha256sum --check --quiet - || die "Fabio from $FABIO_URL does not match FABIO_SHA256"
  install -m 0755 "$tmp" ${paths.fabio.bin}
  rm -f "$tmp"
`
    : ''
}${dataDirs(role)}
}

step_secrets() {
  local v
${secretSteps(role)}
}

step_start() {
  systemctl daemon-reload
  systemctl enable --now ${services}
}

case "\${1:-all}" in
  install) step_install ;;
  secrets) step_secrets ;;
  start) step_start ;;
  all)
    step_install
    step_secrets
    step_start
    ;;
  *) die "usage: hashiship-boot [all|install|secrets|start]" ;;
esac
`;
}

/** The systemd unit of one service. */
export function unit(service: 'consul' | 'nomad' | 'vault' | 'fabio'): string {
  const common = (desc: string, doc: string, after: string) => `[Unit]
Description=${desc} (hashiship)
Documentation=${doc}
Wants=network-online.target
After=network-online.target${after}
`;
  switch (service) {
    case 'consul':
      return `${common('Consul agent', 'https://developer.hashicorp.com/consul/docs', '')}ConditionFileNotEmpty=${paths.consul.config}/consul.hcl

[Service]
Type=notify
User=consul
Group=consul
ExecStart=${paths.consul.bin} agent -config-dir=${paths.consul.config}
ExecReload=/bin/kill --signal HUP $MAINPID
KillMode=process
KillSignal=SIGTERM
Restart=on-failure
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
    case 'nomad':
      return `${common('Nomad agent', 'https://developer.hashicorp.com/nomad/docs', ' consul.service')}Wants=consul.service
ConditionFileNotEmpty=${paths.nomad.config}/nomad.hcl

[Service]
# Clients run tasks as other users and manage cgroups: root, as Nomad's package does.
ExecStart=${paths.nomad.bin} agent -config=${paths.nomad.config}
ExecReload=/bin/kill --signal HUP $MAINPID
KillMode=process
KillSignal=SIGINT
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
LimitNPROC=infinity
TasksMax=infinity
OOMScoreAdjust=-1000

[Install]
WantedBy=multi-user.target
`;
    case 'vault':
      return `${common('Vault server', 'https://developer.hashicorp.com/vault/docs', ' consul.service')}Wants=consul.service
ConditionFileNotEmpty=${paths.vault.config}/vault.hcl

[Service]
Type=notify
User=vault
Group=vault
EnvironmentFile=-${paths.vault.config}/secrets.env
ExecStart=${paths.vault.bin} server -config=${paths.vault.config}/vault.hcl
ExecReload=/bin/kill --signal HUP $MAINPID
CapabilityBoundingSet=CAP_SYSLOG CAP_IPC_LOCK
AmbientCapabilities=CAP_IPC_LOCK
NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=read-only
PrivateTmp=yes
KillMode=process
KillSignal=SIGINT
Restart=on-failure
RestartSec=5
LimitNOFILE=65536
LimitMEMLOCK=infinity

[Install]
WantedBy=multi-user.target
`;
    case 'fabio':
      return `${common('Fabio load balancer', 'https://fabiolb.net', ' consul.service')}Wants=consul.service

[Service]
DynamicUser=yes
EnvironmentFile=-${paths.fabio.config}/secrets.env
ExecStart=${paths.fabio.bin} -cfg ${paths.fabio.config}/fabio.properties
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
# Proxy :${ports.fabioProxy}, metrics :${ports.fabioMetrics}, UI :${ports.fabioUi}: no privileged ports needed.

[Install]
WantedBy=multi-user.target
`;
  }
}

/**
 * The components of the local stack: where each listens (loopback only), how it is
 * started, and how we know it is healthy.
 */
import { join } from 'node:path';
import type { StackComponent } from '../log.js';
import { dockerDaemonConfig, dockerdArgs, dockerHost, dockerPaths } from './docker.js';
import type { Tool } from './versions.js';
import { consul, dockerEngine, fabio, nomad, registry, vault } from './versions.js';

/** Fixed loopback addresses of the dev stack. */
export const stackAddresses = {
  consul: 'http://127.0.0.1:8500',
  nomad: 'http://127.0.0.1:4646',
  vault: 'http://127.0.0.1:8200',
  fabioProxy: 'http://127.0.0.1:9999',
  fabioApi: 'http://127.0.0.1:9998',
  registryQa: 'http://127.0.0.1:5001',
  registryProduction: 'http://127.0.0.1:5002',
} as const;

/** The JWT auth mount and role through which Nomad workloads log in to Vault. */
export const workloadIdentity = {
  mount: 'jwt-nomad',
  role: 'nomad-workloads',
  policy: 'nomad-workloads',
  audience: 'vault.io',
} as const;

export interface Launch {
  readonly cmd: string;
  readonly args: readonly string[];
  /** Files to write before starting: path → contents. */
  readonly files: Readonly<Record<string, string>>;
}

export interface ComponentDef {
  readonly name: StackComponent;
  readonly tool: Tool;
  /** The address shown to people and checked for health (see {@link addressOf}). */
  readonly address: string;
  /**
   * A unix socket, relative to the state folder, that answers instead of `address`
   * (the Docker engine); the address shown is then `unix://<absolute path>`.
   */
  readonly socket?: string;
  /** Path probed with GET; healthy when `healthy(status, body)` says so. */
  readonly healthPath: string;
  readonly healthy: (status: number, body: unknown) => boolean;
  readonly launch: (bin: string, stateDir: string, secrets: { readonly vaultToken: string }) => Launch;
  /** Components that must be healthy before this one starts. */
  readonly after: readonly StackComponent[];
  /**
   * Components this one is started after, whether or not they came up: Nomad waits
   * for the Docker engine so that its docker driver finds it at once, but runs
   * without it.
   */
  readonly wants?: readonly StackComponent[];
  /**
   * Components whose fresh start makes a running instance of this one stale, so
   * `up` restarts it too (ours only): Fabio's blocking queries carry Consul's last
   * index, and a dev Consul started afresh counts from zero again.
   */
  readonly restartsWith?: readonly StackComponent[];
  /**
   * The rest of the stack still runs when this one cannot be installed or started;
   * `up` then fails (exit 2) naming it, after starting everything else.
   */
  readonly optional?: boolean;
}

/** Where a component answers: its URL, or `unix://` and its socket in `stateDir`. */
export function addressOf(def: ComponentDef, stateDir: string): string {
  return def.socket === undefined ? def.address : `unix://${join(stateDir, def.socket)}`;
}

const leaderElected = (status: number, body: unknown) => status === 200 && typeof body === 'string' && body !== '';

function registryComponent(name: 'registry-qa' | 'registry-production', address: string): ComponentDef {
  const hostPort = new URL(address).host;
  return {
    name,
    tool: registry,
    address,
    healthPath: '/v2/',
    healthy: (s) => s === 200,
    after: [],
    launch: (bin, stateDir) => {
      const config = join(stateDir, `${name}.yml`);
      return {
        cmd: bin,
        args: ['serve', config],
        files: {
          [config]: [
            'version: 0.1',
            'log:',
            '  level: warn',
            '  accesslog:',
            '    disabled: true',
            'storage:',
            '  filesystem:',
            `    rootdirectory: ${join(stateDir, `${name}-data`)}`,
            '  delete:',
            '    enabled: true',
            'http:',
            `  addr: ${hostPort}`,
            `  secret: hashiship-dev-${name}`,
            '',
          ].join('\n'),
        },
      };
    },
  };
}

export const components: readonly ComponentDef[] = [
  {
    name: 'consul',
    tool: consul,
    address: stackAddresses.consul,
    healthPath: '/v1/status/leader',
    healthy: leaderElected,
    after: [],
    launch: (bin) => ({
      cmd: bin,
      args: ['agent', '-dev', '-bind=127.0.0.1', '-client=127.0.0.1', '-advertise=127.0.0.1', '-log-level=warn', '-hcl=ports { grpc = 8502 }'],
      files: {},
    }),
  },
  {
    name: 'vault',
    tool: vault,
    address: stackAddresses.vault,
    healthPath: '/v1/sys/health',
    healthy: (s) => s === 200,
    after: [],
    launch: (bin, _stateDir, secrets) => ({
      cmd: bin,
      args: [
        'server',
        '-dev',
        `-dev-root-token-id=${secrets.vaultToken}`,
        `-dev-listen-address=${new URL(stackAddresses.vault).host}`,
        '-dev-no-store-token',
        '-log-level=warn',
      ],
      files: {},
    }),
  },
  registryComponent('registry-qa', stackAddresses.registryQa),
  registryComponent('registry-production', stackAddresses.registryProduction),
  {
    // The stack's own dockerd (docker.ts): socket, data and exec roots under the state
    // folder, never the system's engine. Nomad's docker plugin points at it.
    name: 'docker',
    tool: dockerEngine,
    address: 'unix://docker/docker.sock',
    socket: 'docker/docker.sock',
    healthPath: '/_ping',
    healthy: (s) => s === 200,
    after: [],
    optional: true,
    launch: (bin, stateDir) => ({
      cmd: bin,
      args: dockerdArgs(stateDir),
      files: { [dockerPaths(stateDir).config]: dockerDaemonConfig(stateDir) },
    }),
  },
  {
    name: 'nomad',
    tool: nomad,
    address: stackAddresses.nomad,
    // Healthy once a leader exists and the dev client node is ready to take work.
    healthPath: '/v1/nodes',
    healthy: (s, body) => s === 200 && Array.isArray(body) && body.some((n) => (n as { Status?: string }).Status === 'ready'),
    after: ['consul'],
    wants: ['docker'],
    launch: (bin, stateDir) => {
      const config = join(stateDir, 'nomad.hcl');
      return {
        cmd: bin,
        args: ['agent', '-dev', `-config=${config}`],
        files: {
          [config]: nomadDevConfig(stateDir),
        },
      };
    },
  },
  {
    name: 'fabio',
    tool: fabio,
    address: stackAddresses.fabioApi,
    healthPath: '/health',
    healthy: (s) => s === 200,
    after: ['consul'],
    restartsWith: ['consul'],
    launch: (bin) => ({
      cmd: bin,
      args: [
        `-proxy.addr=${new URL(stackAddresses.fabioProxy).host}`,
        `-ui.addr=${new URL(stackAddresses.fabioApi).host}`,
        `-registry.consul.addr=${new URL(stackAddresses.consul).host}`,
        `-registry.consul.register.addr=${new URL(stackAddresses.fabioApi).host}`,
        '-log.level=WARN',
      ],
      files: {},
    }),
  },
];

/**
 * Nomad dev agent: loopback, raw_exec, the docker driver on the stack's own engine,
 * Consul registration, Vault workload identity.
 */
export function nomadDevConfig(stateDir: string): string {
  const consulHost = new URL(stackAddresses.consul).host;
  return `data_dir  = "${join(stateDir, 'nomad-data')}"
bind_addr = "127.0.0.1"
log_level = "WARN"

advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}

client {
  enabled           = true
  network_interface = "lo"

  # No cloud here: skip the metadata-service probes (they slow start-up, and the AWS
  # one fails outright when AWS_CA_BUNDLE is set in the environment).
  options = {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}

plugin "raw_exec" {
  config {
    enabled = true
  }
}

# The stack's own dockerd (never the system socket). This client is the only one
# using it, so its clean-up of containers it does not know (dangling_containers)
# only removes what an earlier dev Nomad left. Images stay cached between runs.
plugin "docker" {
  config {
    endpoint         = "${dockerHost(stateDir)}"
    allow_privileged = false

    volumes {
      enabled = true
    }

    gc {
      image = false
    }
  }
}

consul {
  address = "${consulHost}"
}

vault {
  enabled               = true
  address               = "${stackAddresses.vault}"
  jwt_auth_backend_path = "${workloadIdentity.mount}"

  default_identity {
    aud = ["${workloadIdentity.audience}"]
    ttl = "1h"
  }
}
`;
}

/**
 * The validation matrix: every role × TLS on/off × ACL on/off × cloud/static join,
 * with representative options for each. The integration tests render all of them
 * and hand them to the real agents; the Terraform equivalence test renders the
 * same inputs through `terraform/modules/userdata`.
 */
import { agentRoles, type AgentOptions, type AgentRole } from './options.js';

export interface Combo {
  readonly role: AgentRole;
  readonly tls: boolean;
  readonly acl: boolean;
  readonly join: 'cloud' | 'static';
}

/** Every role × TLS × ACL × join combination (24). */
export const combos: readonly Combo[] = agentRoles.flatMap((role) =>
  [true, false].flatMap((tls) => [true, false].flatMap((acl) => (['cloud', 'static'] as const).map((join) => ({ role, tls, acl, join })))),
);

/** `server-tls-acl-cloud`, … */
export function comboName(c: Combo): string {
  return `${c.role}-${c.tls ? 'tls' : 'notls'}-${c.acl ? 'acl' : 'noacl'}-${c.join}`;
}

/**
 * Options for a combination. Secrets are files under `/secrets`; clients also get
 * host volumes (and raw_exec with ACLs on), cloud-joined Vault servers the KMS seal.
 */
export function comboOptions(c: Combo): AgentOptions {
  return {
    role: c.role,
    datacenter: 'dc1',
    tls: c.tls,
    acl: c.acl,
    join:
      c.join === 'cloud'
        ? { kind: 'cloud', provider: 'aws', tagKey: 'hashiship-join', tagValue: 'qa-server' }
        : { kind: 'static', addresses: ['10.0.1.10', '10.0.2.10', '10.0.3.10'] },
    ...(c.role === 'vault'
      ? {
          vaultJoin:
            c.join === 'cloud'
              ? { kind: 'cloud', provider: 'aws', tagKey: 'hashiship-join', tagValue: 'qa-vault' }
              : { kind: 'static', addresses: ['10.0.4.10', '10.0.5.10'] },
        }
      : {}),
    ...(c.role === 'client' ? { rawExec: c.acl, hostVolumes: [{ name: 'data', path: '/srv/data' }] } : {}),
    ...(c.role === 'vault' && c.join === 'cloud' ? { vaultSeal: { type: 'awskms', kmsKeyId: 'alias/qa-vault-unseal' } as const } : {}),
    secrets: { source: 'file', prefix: '/secrets' },
    fabio: { sha256: 'ab'.repeat(32) },
  };
}

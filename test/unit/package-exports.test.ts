/**
 * Clients are built one way (issue 11 §5): the package a user imports (`hashiship`,
 * resolved through package.json `exports` to dist/, as a user's import resolves)
 * offers `createClients(config)` and no other constructor of a Nomad, Consul, Vault or
 * registry client. Regression: `createVaultClient`, `createConsulClient`, `nomadApi`,
 * `new NomadClient`, `createVault`, `createConsul`, `RegistryClients`… were public, and
 * tests built clients with them beside createClients.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from '../helpers/dist.js';

const root = new URL('../../', import.meta.url).pathname;

/**
 * Run in a plain `node` (no tsx) from the repository root, so `import('hashiship')` is the
 * package as published. Prints every exported value (top level, and one level into the
 * namespaces such as `registry` or `vaultKv`) that is one of the client constructors of
 * dist/ — under whatever name it is exported — and every exported name shaped like one.
 */
const probe = `
const pkg = await import('hashiship');
const dist = (m) => import(new URL('dist/' + m, ${JSON.stringify(pathToFileURL(root).href)}).href);
const constructors = new Map();
for (const [m, names] of Object.entries({
  'nomad/client.js': ['NomadClient'],
  'nomad/api.js': ['nomadApi'],
  'consul/client.js': ['ConsulClient', 'createConsul'],
  'consul/index.js': ['consulApi'],
  'vault/client.js': ['VaultClient', 'createVault'],
  'vault/index.js': ['vaultApi'],
  'registry/client.js': ['RegistryClient'],
  'registry/registries.js': ['RegistryClients'],
})) {
  const mod = await dist(m);
  for (const n of names) {
    if (typeof mod[n] !== 'function') throw new Error('dist/' + m + ' has no ' + n + ' (update this probe)');
    constructors.set(mod[n], n);
  }
}
const exported = [];
for (const [k, v] of Object.entries(pkg)) {
  exported.push([k, v]);
  if (v !== null && typeof v === 'object' && v[Symbol.toStringTag] === 'Module') for (const [k2, v2] of Object.entries(v)) exported.push([k + '.' + k2, v2]);
}
const shaped = /(^|\\.)(create\\w*(Client|Nomad|Consul|Vault|Registry)\\w*|\\w*Clients?|(nomad|consul|vault|registry)Api)$/;
console.log(JSON.stringify({
  createClients: pkg.createClients === (await dist('clients.js')).createClients,
  constructors: exported.filter(([, v]) => constructors.has(v)).map(([k, v]) => k + ' = ' + constructors.get(v)),
  shaped: exported.filter(([k, v]) => typeof v === 'function' && shaped.test(k)).map(([k]) => k),
}));
`;

describe('package exports: createClients is the one client constructor', function () {
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it("`import … from 'hashiship'` offers createClients and no other Nomad, Consul, Vault or registry client constructor", function () {
    this.timeout(30_000);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const found = JSON.parse(r.stdout) as { createClients: boolean; constructors: string[]; shaped: string[] };
    expect(found.createClients, 'createClients exported from the package entry').to.equal(true);
    expect(found.constructors, 'client constructors reachable from the package entry').to.deep.equal([]);
    expect(found.shaped, 'exports named like a client constructor').to.deep.equal(['createClients']);
  });
});

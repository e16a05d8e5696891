/**
 * The secrets pre-flight inside plan and deploy, on the real stack: a spec whose
 * task references a Vault secret and a Consul key that do not exist is refused
 * with exit 6 listing both paths, before anything is registered (Nomad has no
 * such job afterwards) — instead of an allocation pending forever on its
 * template. `--skip-secrets-check` lets the plan through, which shows the gate is
 * what refused. Names are unique to the run; everything is removed afterwards.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deployEnvironment } from '../../src/deploy/deploy.js';
import { inputsFromSpecs } from '../../src/deploy/inputs.js';
import { createDeployContext } from '../../src/deploy/runtime.js';
import { ExitCode, GateError } from '../../src/errors.js';
import { silent } from '../../src/log.js';
import { secretsGate } from '../../src/vault/preflight.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { cli, specFolder, vaultApi } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const svc = `hs-gate-${run}`;
const envName = `gate${run}`;
const secretPath = `secret/data/${svc}/db`;
const kvKey = `${svc}/config/url`;

describe('secrets pre-flight in plan and deploy (real Vault, Consul, Nomad)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let dir: string;
  let flags: string[];

  before(async () => {
    stack = await useStack();
    ({ dir, flags } = await specFolder(
      'hashiship-gate-',
      {
        name: svc,
        yaml: [
          `name: ${svc}`,
          'groups:',
          '  - name: app',
          '    tasks:',
          '      - name: app',
          '        driver: raw_exec',
          '        command: /bin/sleep',
          '        args: ["3600"]',
          '        secrets:',
          `          - env: DB_PASSWORD`,
          `            path: ${secretPath}`,
          '            key: password',
          '        kv:',
          '          - env: URL',
          `            key: ${kvKey}`,
          '        resources:',
          '          cpu: 20',
          '          memory: 32',
        ],
      },
      { name: envName, yaml: [`name: ${envName}`, 'datacenters: ["*"]', 'services:', `  ${svc}:`, `    vault_role: ${svc}`] },
    ));
  });

  after(async () => {
    if (stack === undefined) return;
    await fetch(`${stack.config.nomad.address}/v1/job/${svc}?purge=true`, { method: 'DELETE' });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const jobStatus = async (): Promise<number> => (await fetch(`${stack.config.nomad.address}/v1/job/${svc}`)).status;

  it('plan and deploy are exit 6 listing the missing secret and key (and the denied read); nothing is registered; --skip-secrets-check lets plan through', async () => {
    for (const verb of ['plan', 'deploy']) {
      const r = await cli([verb, ...flags], stack.env);
      expect(r.code, `${verb}: ${r.stderr}`).to.equal(ExitCode.gate);
      expect(r.stderr).to.contain('pre-flight refused: 3 problem(s) in 2 references');
      // No policy was applied: the secret is missing, and the service could not read it anyway.
      expect(r.stderr).to.match(new RegExp(`Denied: +${svc}  vault  ${secretPath}#password  denied$`, 'm'));
      expect(r.stderr).to.match(new RegExp(`Missing: +${svc}  vault  ${secretPath}#password  missing$`, 'm'));
      expect(r.stderr).to.match(new RegExp(`Missing: +${svc}  consul  ${kvKey}  missing$`, 'm'));
      // Each refusal says what to do next.
      expect(r.stderr).to.include(
        'Suggestion: write the missing Vault secrets (`hashiship secrets put <path> --from-file keys.json`); write the missing Consul keys',
      );
    }
    expect(await jobStatus()).to.equal(404);

    const skipped = await cli(['plan', '--skip-secrets-check', ...flags], stack.env);
    expect(skipped.code, skipped.stderr).to.equal(1); // changes: the job would be created
    expect(skipped.stdout).to.contain(svc);
    expect(await jobStatus()).to.equal(404);
  });

  it('library: deployEnvironment with the gate rejects before registering; the secret present but not granted is "denied"', async () => {
    const vault = vaultApi(stack);
    try {
      expect((await vault('POST', secretPath, { data: { password: 'x' } })).status).to.equal(200);
      await fetch(`${stack.config.consul.address}/v1/kv/${kvKey}`, { method: 'PUT', body: 'http://x' });
      const ctx = createDeployContext(stack.config, silent, stack.clients);
      const set = await inputsFromSpecs(envName, [], { services: join(dir, 'services'), environments: join(dir, 'environments') });
      const err = await deployEnvironment(ctx, set, { secrets: secretsGate(stack.clients) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(GateError);
      // No policy was applied for the service: its token could not read the secret.
      expect((err as GateError).describe()).to.match(new RegExp(`Denied: +${svc}  vault  ${secretPath}#password  denied$`, 'm'));
      expect((err as GateError).describe()).not.to.contain('consul');
      expect(await jobStatus()).to.equal(404);
    } finally {
      await vault('DELETE', `secret/metadata/${svc}/db`);
      await fetch(`${stack.config.consul.address}/v1/kv/${kvKey}`, { method: 'DELETE' });
    }
  });
});

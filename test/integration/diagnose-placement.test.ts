/**
 * Exit 5 tells the truth about what would place the job (issue 11): a task whose
 * driver no node has is not placed "when capacity frees up". Through the CLI, on the
 * real stack: the diagnosis names the missing driver and says that freeing capacity
 * will not help.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/stack/proc.js';
import { useStack } from '../helpers/stack.js';

const repo = resolve('.');

describe('deploy exit 5: a missing driver is named, and no capacity is promised', function () {
  this.timeout(120_000);
  const id = `diagnose-driver-${randomBytes(3).toString('hex')}`;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(600_000);
    env = { ...process.env, ...(await useStack()).env, NO_COLOR: '1' };
    dir = mkdtempSync(join(tmpdir(), 'hashiship-driver-'));
  });

  after(async () => {
    await fetch(`${env['NOMAD_ADDR']}/v1/job/${id}?purge=true`, { method: 'DELETE' }).catch(() => undefined);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('names the driver no node has and does not say "when capacity frees up"', async () => {
    const job = {
      Job: {
        ID: id,
        Name: id,
        Type: 'service',
        Datacenters: ['*'],
        TaskGroups: [
          {
            Name: 'web',
            Count: 1,
            Update: { MaxParallel: 1, HealthCheck: 'task_states', MinHealthyTime: 1e9, HealthyDeadline: 10e9, ProgressDeadline: 20e9 },
            Tasks: [{ Name: 'app', Driver: 'hashiship-nonexistent', Config: { command: '/bin/true' }, Resources: { CPU: 20, MemoryMB: 16 } }],
          },
        ],
      },
    };
    const file = join(dir, 'job.json');
    writeFileSync(file, JSON.stringify(job));
    const r = await run(join(repo, 'node_modules', '.bin', 'tsx'), [join(repo, 'src', 'cli.ts'), 'deploy', '--env', 'diagnose-test', '--job', file], {
      env,
      cwd: dir,
      timeoutMs: 100_000,
    });
    const out = r.stdout + r.stderr;
    expect(r.code, out).to.equal(5);
    expect(out).to.contain('Missing driver "hashiship-nonexistent" (task app): no node has it');
    expect(out).to.contain('Constraint "missing drivers"');
    expect(out).to.match(/no node can run group web as it stands/);
    expect(out).to.not.contain('when capacity frees up');
  });
});

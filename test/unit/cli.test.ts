import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { reportError } from '../../src/cli.js';
import { DeployFailedError, GateError, InputError, PlacementError, RevertedError, ServerError, StackError } from '../../src/errors.js';

const exec = promisify(execFile);

/** Run the CLI as a user would (through tsx, no build needed). */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cli: errors become exit codes only at the top', () => {
  const cases: [Error, number][] = [
    [new InputError([{ subject: 'NOMAD_ADDR="x"', message: 'not a URL' }]), 1],
    [new ServerError('nomad', 'jobs.list', 'http://127.0.0.1:1', 'cannot connect'), 2],
    [new StackError('stack: nomad exited during start-up'), 2],
    [new RevertedError('deployment failed; reverted to version 3'), 3],
    [new DeployFailedError('deployment failed'), 4],
    [new PlacementError('no capacity'), 5],
    [new GateError('job owned by someone else'), 6],
    [new Error('boom'), 70], // a bug, not "a server failed"
  ];
  for (const [err, code] of cases) {
    it(`${err.constructor.name} → ${code}`, () => {
      let out = '';
      expect(reportError(err, (s) => (out += s))).to.equal(code);
      expect(out).to.match(/^Error: /);
      expect(out).not.to.include('    at '); // no stack trace
    });
  }

  it('prints the subject and context lines of an error', () => {
    let out = '';
    reportError(
      new ServerError('nomad', 'jobs.register', 'http://127.0.0.1:4646', '400 Bad Request: invalid job', {
        context: [['Job', 'web']],
      }),
      (s) => (out += s),
    );
    expect(out).to.equal('Error: nomad: jobs.register: 400 Bad Request: invalid job\n  Address: http://127.0.0.1:4646\n  Job:     web\n');
  });

  it('lists every input problem with its place', () => {
    let out = '';
    reportError(
      new InputError([
        { at: { file: 'jobs/services/web.yaml', line: 3, col: 5 }, subject: 'groups[0].count', message: 'must be a whole number' },
        { subject: 'VAULT_SKIP_VERIFY="yes"', message: 'not a boolean' },
      ]),
      (s) => (out += s),
    );
    expect(out).to.equal(
      'Error: 2 problems in the input\n' +
        '  jobs/services/web.yaml:3:5  groups[0].count  must be a whole number\n' +
        '  VAULT_SKIP_VERIFY="yes": not a boolean\n',
    );
  });
});

describe('cli: the program', function () {
  this.timeout(30_000);

  it('--help lists the commands and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('dev');
  });

  it('an unknown command exits 1', async () => {
    const r = await cli(['no-such-verb']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("unknown command 'no-such-verb'");
  });

  it('a bad variable is exit 1 naming it, nothing printed on stdout', async () => {
    const r = await cli(['dev', 'env'], { CONSUL_HTTP_SSL: 'maybe' });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal('Error: CONSUL_HTTP_SSL="maybe": not a boolean (expected true or false, 1 or 0)\n');
  });
});

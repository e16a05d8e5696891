/**
 * KV version 1 and 2 against the real Vault, on two mounts enabled for this run
 * (unique paths, removed afterwards): version detection through
 * `sys/internal/ui/mounts`, reads and writes through the library and through
 * `hashiship secrets put/get` (which never echo a value unless `--field` asks),
 * KV v2 check-and-set (exit 6 on a mismatch) and deletion.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, GateError, InputError } from '../../src/errors.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { cli, vaultApi } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const v1 = `kv1-hs-${run}`;
const v2 = `kv2-hs-${run}`;

describe('vault KV v1 and v2 (real Vault)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let vault: ReturnType<typeof vaultApi>;
  let dir: string;

  before(async () => {
    stack = await useStack();
    vault = vaultApi(stack);
    dir = await mkdtemp(join(tmpdir(), 'hashiship-kv-'));
    expect((await vault('POST', `sys/mounts/${v1}`, { type: 'kv', options: { version: '1' } })).status).to.equal(204);
    expect((await vault('POST', `sys/mounts/${v2}`, { type: 'kv', options: { version: '2' } })).status).to.equal(204);
  });

  after(async () => {
    if (stack === undefined) return;
    await vault('DELETE', `sys/mounts/${v1}`);
    await vault('DELETE', `sys/mounts/${v2}`);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('detects each mount version and maps logical paths (a v2 path may carry data/)', async () => {
    const { kv } = stack.clients.vault;
    expect(await kv.locate(`${v1}/app/db`)).to.deep.equal({ mount: v1, version: 1, key: 'app/db', dataPath: `${v1}/app/db` });
    const l2 = { mount: v2, version: 2, key: 'app/db', dataPath: `${v2}/data/app/db`, metadataPath: `${v2}/metadata/app/db` };
    expect(await kv.locate(`${v2}/app/db`)).to.deep.equal(l2);
    expect(await kv.locate(`${v2}/data/app/db`)).to.deep.equal(l2);
    const err = await kv.locate(`nomount-${run}/x`).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).message).to.contain(`no KV mount at nomount-${run}/x`);
    expect(await kv.locate(`${v2}/x`, { mount: { path: v2, version: 1 } })).to.deep.include({ version: 1, dataPath: `${v2}/x` });
  });

  it('library: write, read, check-and-set, delete on v1 and v2', async () => {
    const { kv } = stack.clients.vault;
    expect(await kv.read(`${v1}/app/db`)).to.equal(undefined);
    await kv.write(`${v1}/app/db`, { password: 'p1' });
    expect((await kv.read(`${v1}/app/db`))?.data).to.deep.equal({ password: 'p1' });
    // Stored where v1 stores it: no data/ wrapper.
    expect(((await (await vault('GET', `${v1}/app/db`)).json()) as { data: unknown }).data).to.deep.equal({ password: 'p1' });
    expect(await kv.write(`${v1}/app/db`, { a: 'b' }, { cas: 0 }).catch((e: unknown) => e)).to.be.instanceOf(InputError);

    const w1 = await kv.write(`${v2}/app/db`, { password: 'p2' }, { cas: 0 });
    expect(w1.version).to.equal(1);
    const w2 = await kv.write(`${v2}/app/db`, { password: 'p3' }, { cas: 1 });
    expect(w2.version).to.equal(2);
    const stale = await kv.write(`${v2}/app/db`, { password: 'p4' }, { cas: 1 }).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(GateError);
    expect((stale as GateError).message).to.contain('its version is not 1 (check-and-set); nothing was written');
    expect((stale as GateError).describe()).not.to.contain('p4');
    const read = await kv.read(`${v2}/app/db`);
    expect(read?.data).to.deep.equal({ password: 'p3' });
    expect(read?.version).to.equal(2);
    expect(((await (await vault('GET', `${v2}/data/app/db`)).json()) as { data: { data: unknown } }).data.data).to.deep.equal({ password: 'p3' });

    await kv.delete(`${v1}/app/db`);
    await kv.delete(`${v2}/app/db`);
    expect(await kv.read(`${v1}/app/db`)).to.equal(undefined);
    expect(await kv.read(`${v2}/app/db`)).to.equal(undefined);
    expect((await vault('GET', `${v2}/metadata/app/db`)).status).to.equal(404);
  });

  it('CLI: secrets put --from-file never echoes a value; get lists keys; --field prints one value', async () => {
    const canary = `c-${randomBytes(8).toString('hex')}`;
    const file = join(dir, 'secret.json');
    await writeFile(file, JSON.stringify({ 'api-key': canary, user: 'svc' }));
    for (const [mount, version, dataPath] of [
      [v1, 1, `${v1}/billing/stripe`],
      [v2, 2, `${v2}/data/billing/stripe`],
    ] as const) {
      const put = await cli(['secrets', 'put', `${mount}/billing/stripe`, '--from-file', file], stack.env);
      expect(put.code, put.stderr).to.equal(0);
      expect(put.stdout).to.equal(`wrote ${dataPath} (kv v${version}${version === 2 ? ', version 1' : ''}): keys api-key, user\n`);
      const get = await cli(['secrets', 'get', `${mount}/billing/stripe`, '--json'], stack.env);
      expect(get.code, get.stderr).to.equal(0);
      expect(JSON.parse(get.stdout)).to.deep.include({ kind: 'hashiship.secrets.get', path: dataPath, kvVersion: version, keys: ['api-key', 'user'] });
      for (const r of [put, get]) expect(r.stdout + r.stderr).not.to.contain(canary);
      const field = await cli(['secrets', 'get', `${mount}/billing/stripe`, '--field', 'api-key'], stack.env);
      expect(field.stdout).to.equal(canary);
    }
    const cas = await cli(['secrets', 'put', `${v2}/billing/stripe`, '--from-file', file, '--cas', '0'], stack.env);
    expect(cas.code).to.equal(ExitCode.gate);
    const missing = await cli(['secrets', 'get', `${v2}/billing/none`], stack.env);
    expect(missing.code).to.equal(ExitCode.gate);
    expect(missing.stderr).to.contain(`no secret at ${v2}/billing/none`);
    await writeFile(join(dir, 'bad.json'), `{"api-key": "${canary}",`);
    const bad = await cli(['secrets', 'put', `${v2}/billing/other`, '--from-file', join(dir, 'bad.json')], stack.env);
    expect(bad.code).to.equal(ExitCode.badInput);
    expect(bad.stderr).to.contain('not JSON');
    expect(bad.stderr).not.to.contain(canary);
    expect((await vault('GET', `${v2}/data/billing/other`)).status).to.equal(404);
  });
});

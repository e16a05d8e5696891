/**
 * A command loads what it uses: `render` and `validate` contact no server, so they
 * load none of the server clients (src/clients.ts, Consul, Vault, registries) and,
 * for plain block YAML, not the full YAML library — each is a share of every CLI
 * start (bench/render.bench.ts measures the time). The built program is run with a
 * preload that records every module it loaded.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../helpers/dist.js';

const root = new URL('../../', import.meta.url).pathname;

// ESM imports pass the resolve hook (run in the hooks thread); CommonJS requires land in require.cache.
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_LIST, r.url + '\\n');
  return r;
}
`;
const PRELOAD = (hooks: string) => `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(`file://${hooks}`)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(process.env.LOADED_LIST, Object.keys(cache).map((k) => 'file://' + k + '\\n').join('')));
`;

describe('CLI: a command loads only what it uses', function () {
  let dir = '';
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'hashiship-modules-'));
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'preload.mjs'), PRELOAD(join(dir, 'hooks.mjs')));
    const services = join(dir, 'jobs', 'services');
    const environments = join(dir, 'jobs', 'environments');
    for (const d of [services, environments]) mkdirSync(d, { recursive: true });
    writeFileSync(
      join(services, 'web.yaml'),
      'name: web\ngroups:\n  - name: web\n    tasks:\n      - name: web\n        driver: docker\n        image:\n          repository: storefront/web\n          tag: 1.0.0\n',
    );
    writeFileSync(join(environments, 'qa.yaml'), 'name: qa\ndatacenters: [dc1]\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The modules `hashiship <args>` loaded (file URLs below the repository, node_modules included), and its result. */
  function loaded(args: string[]): { urls: string[]; status: number | null; stderr: string } {
    const list = join(dir, `loaded-${args[0]}.txt`);
    writeFileSync(list, '');
    const r = spawnSync(process.execPath, ['--import', `file://${join(dir, 'preload.mjs')}`, join(root, 'dist/cli.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', LOADED_LIST: list, HOME: dir },
      timeout: 30_000,
    });
    const urls = [...new Set(readFileSync(list, 'utf8').split('\n'))]
      .filter((u) => u.startsWith(`file://${root}`))
      .map((u) => u.slice(`file://${root}`.length));
    return { urls, status: r.status, stderr: r.stderr };
  }

  const clients = (u: string) => /^dist\/(clients|consul\/|vault\/|registry\/|nomad\/api)|^node_modules\/(consul|node-vault)\//.test(u);

  for (const verb of ['render', 'validate']) {
    it(`${verb} loads no server client and not the full YAML library`, function () {
      this.timeout(30_000);
      // The specs are in the default places (jobs/services, jobs/environments) below the working folder.
      const r = loaded(verb === 'render' ? [verb, '--env', 'qa'] : [verb]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.urls, 'the recording works').to.include(`dist/commands/${verb}.js`);
      expect(r.urls.filter(clients)).to.deep.equal([]);
      expect(r.urls.filter((u) => u.startsWith('node_modules/yaml/'))).to.deep.equal([]);
    });
  }

  it('a command that talks to a server loads the clients (the check above can fail)', function () {
    this.timeout(30_000);
    // Nothing listens on port 1: the request fails at once, after the clients were built.
    const r = loaded(['status', '--env', 'qa', '--nomad-addr', 'http://127.0.0.1:1', '--consul-addr', 'http://127.0.0.1:1']);
    expect(r.status, r.stderr).to.not.equal(0);
    expect(r.stderr).to.match(/127\.0\.0\.1:1/);
    expect(r.urls).to.include('dist/clients.js');
  });
});

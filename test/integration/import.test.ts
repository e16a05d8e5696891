/**
 * `hashiship import` against the real Nomad: every job of the corpus
 * (test/fixtures/import-corpus, jobs in the shapes teams run) is imported; the
 * spec as written is loaded like any spec, rendered, and the rendered HCL and the
 * original are both parsed by Nomad (`/v1/jobs/parse`, canonicalized) and
 * compared field by field — 0 differences, ownership stamp aside. What still
 * goes to `nomad:` is counted and printed. A few CLI cases: an unparsable file
 * and a group without tasks exit 1 at their place, an existing spec is kept
 * without --force and replaced with it, nothing is written when one file fails;
 * and the jobs `nomad job init` writes, imported and rendered as a newcomer does.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  describeDifferences,
  importJob,
  jobDifferences,
  nomadParser,
  parseSource,
  type ImportedJob,
  type JobParser,
} from '../../src/service-spec/import/index.js';
import { formatProblem, InputError } from '../../src/errors.js';
import { renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { loadSet } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { ensureBuilt } from '../helpers/dist.js';

const CORPUS = 'test/fixtures/import-corpus';
const exec = promisify(execFile);

describe('hashiship import: the corpus round-trips exactly through the real Nomad', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let parser: JobParser;
  const files = readdirSync(CORPUS).sort();
  const imported = new Map<string, ImportedJob>();

  before(async function () {
    this.timeout(40 * 60_000);
    stack = await useStack();
    parser = nomadParser(stack.clients.nomad.client);
  });

  it('has at least 50 jobs, HCL and API JSON', () => {
    expect(files.length).to.be.at.least(50);
    expect(files.filter((f) => f.endsWith('.json'))).to.not.be.empty;
  });

  it('imports every job into a spec whose rendering Nomad parses to the same job, field by field', async () => {
    const failures: string[] = [];
    for (const name of files) {
      const src = { file: join(CORPUS, name), text: readFileSync(join(CORPUS, name), 'utf8') };
      let job: ImportedJob;
      try {
        job = await importJob(src, parser);
      } catch (e) {
        failures.push(`${name}: import failed: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      imported.set(name, job);
      // The spec exactly as written, loaded and validated like any spec.
      const set = loadSet([{ file: `${job.name}.yaml`, text: job.yaml, kind: 'service' }]);
      if (set.problems.length > 0 || set.services[0] === undefined) {
        failures.push(`${name}: the written spec has problems: ${JSON.stringify(set.problems)}`);
        continue;
      }
      const rendered = await parser.parse(renderJobHcl(renderJob(standalone(set.services[0]))));
      const original = await parseSource(src, parser);
      const diffs = jobDifferences(original, rendered);
      if (diffs.length > 0) failures.push(`${name}: ${diffs.length} differences:\n${describeDifferences(diffs)}`);
    }
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });

  it('refuses a group name the spec cannot say (a public pipeline job names one ▶️-init) at the group, with the rule', async () => {
    const text =
      'job "pipeline" {\n  type = "batch"\n\n  group "▶️-init" {\n    task "init" {\n      driver = "docker"\n\n      config {\n        image = "ghcr.io/example/pipeline:1.4.0"\n      }\n    }\n  }\n}\n';
    const e: unknown = await importJob({ file: 'pipeline.nomad.hcl', text }, parser).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(InputError);
    expect((e as InputError).problems.map(formatProblem)).to.deep.equal([
      'pipeline.nomad.hcl:4:3  groups[0].name  the imported spec cannot say this: `▶\\ufe0f-init` is not valid: use letters, digits, dots, dashes and underscores, at most 63 characters, starting and ending with a letter or digit',
    ]);
  });

  it("writes the typed keys where it can, with the job's values where hashiship's defaults differ", () => {
    // A canary rollout keeps Nomad's canary tags (the normal tags), auto_revert and the absent shutdown delay.
    const canary = imported.get('canary-api.nomad.hcl')!;
    expect(canary.yaml).to.include('canary_tags: []');
    expect(canary.yaml).to.match(/update:\n\s+canary: 1\n\s+auto_revert: false\n\s+auto_promote: true\n/);
    expect(canary.yaml).to.include('shutdown_delay: 0s');
    expect(canary.raw, 'canary-api: nothing in nomad:').to.deep.equal([]);
    // Nomad's 300 MB memory default; the unnamed identity block as the first of Identities.
    const init = imported.get('nginx-init.nomad.hcl')!;
    expect(init.yaml).to.include('memory: 256');
    expect(init.yaml).to.match(/identities:\n\s+- env: true\n\s+file: true\n/);
    // No datacenters in the job (Nomad fills in ["*"] when it registers it): `datacenters: []`, typed.
    expect(init.yaml).to.include('datacenters: []');
    expect(init.raw, 'nginx-init: nothing in nomad:').to.deep.equal([]);
    // Connect, service and task identities, secret blocks: typed (issue 12 §1).
    const mesh = imported.get('mesh-identity-secrets.nomad.hcl')!;
    expect(mesh.raw, 'mesh-identity-secrets: nothing in nomad:').to.deep.equal([]);
    expect(mesh.yaml).to.include('sidecar_service:');
    expect(mesh.yaml).to.include('destination_namespace: compliance');
    expect(mesh.yaml).to.match(/identity:\n\s+aud:\n\s+- consul.io\n\s+ttl: 1h/);
    expect(mesh.yaml).to.match(/secret_blocks:\n\s+db:\n\s+provider: vault/);
    expect(mesh.yaml).to.include('name: vault_default');
    expect(imported.get('connect-countdash.nomad.hcl')!.raw).to.deep.equal([]);
    const echo = imported.get('http-echo-latest.nomad.hcl')!;
    expect(echo.yaml).to.match(/allow:\n\s+latest: imported as is by hashiship import/);
    // class and class_path beside a jar: kept as Nomad runs them, typed, with the opt-out the spec requires.
    const ledger = imported.get('java-ledger-tool.nomad.hcl')!;
    expect(ledger.raw, 'java-ledger-tool: nothing in nomad:').to.deep.equal([]);
    expect(ledger.yaml).to.match(/class: ledger\.Reconcile\n\s+class_path: local\/lib\/\*\n/);
    expect(ledger.yaml).to.match(/allow:\n\s+jar_and_class: imported as is by hashiship import/);
    // A check without a port stays without one (Nomad's default: the service's port), typed.
    const redis = imported.get('redis-cache.nomad.hcl')!;
    expect(redis.raw, 'redis-cache: nothing in nomad:').to.deep.equal([]);
    expect(redis.yaml).to.match(/checks:\n\s+- type: tcp\n\s+interval: 5s\n/);
    const plain = [...imported.values()].filter((j) => j.raw.length === 0).length;
    expect(plain, 'jobs carried by typed keys alone').to.be.at.least(8);
    // Typed fields issue 12 added are written typed, not in nomad: (docker options, check and service options, templates…).
    const store = imported.get('docker-options.nomad.hcl')!;
    expect(store.raw, 'docker-options: nothing in nomad:').to.deep.equal([]);
    expect(store.yaml).to.match(/docker:\n\s+entrypoint:/);
    expect(store.yaml).to.match(/logging:\n\s+type: syslog/);
    expect(store.yaml).to.include('enable_tag_override: true');
    expect(store.yaml).to.include('success_before_passing: 2');
    expect(imported.get('template-options.nomad.hcl')!.raw).to.deep.equal([]);
    expect(imported.get('task-services.nomad.hcl')!.raw).to.deep.equal([]);
    expect(imported.get('disconnect-edge.nomad.hcl')!.yaml).to.include('reconcile: keep_original');
    expect(imported.get('periodic-multi-cron.nomad.hcl')!.yaml).to.include('crons:');
    expect(imported.get('node-exporter.nomad.hcl')!.raw.map((r) => r.path)).to.not.include('groups[0].tasks[0].nomad.Config.volumes');
    // The job-level update block, dispatch payloads, a periodic sysbatch job, group DNS, CSI plugins,
    // pid_mode and an interpolated hostname: typed (they were in nomad: before).
    const storefront = imported.get('web-canary.nomad.hcl')!;
    expect(storefront.raw, 'web-canary: nothing in nomad:').to.deep.equal([]);
    expect(storefront.yaml).to.match(/^update:\n\s+max_parallel: 2\n\s+canary: 2\n/m);
    expect(imported.get('fabio-system.nomad.hcl')!.yaml).to.match(/^update:\n\s+stagger: 10s\n/m);
    expect(imported.get('parameterized-transcode.nomad.hcl')!.yaml).to.match(/dispatch_payload:\n\s+file: job.json\n/);
    expect(imported.get('sysbatch-cleanup.nomad.hcl')!.yaml).to.match(/^type: sysbatch\nperiodic:\n/m);
    expect(imported.get('host-network-dns.nomad.hcl')!.yaml).to.match(/dns:\n\s+servers:\n/);
    expect(imported.get('csi-monolith-plugin.nomad.hcl')!.yaml).to.match(/csi_plugin:\n\s+id: storage.example.org\n\s+type: monolith\n/);
    for (const f of [
      'bare-job.json',
      'csi-plugin-node.nomad.hcl',
      'java-class.nomad.hcl',
      'node-exporter.nomad.hcl',
      'rabbitmq.nomad.hcl',
      'periodic-multi-cron.nomad.hcl',
    ])
      expect(imported.get(f)!.raw, `${f}: nothing in nomad:`).to.deep.equal([]);
    // A display name other than the ID is carried by nomad: (the spec's name is the ID).
    const named = imported.get('display-name.nomad.hcl')!;
    expect(named.name).to.equal('billing-api');
    expect(named.raw.map((r) => r.path)).to.deep.equal(['nomad.Name']);
    // Shapes import carries since the third round: untyped drivers (config raw), gateway groups without a task,
    // a Connect-native service without `task`, a file-mode artifact into local/, dotted meta keys.
    const podman = imported.get('podman-api.nomad.hcl')!;
    expect(podman.yaml).to.include('driver: podman');
    expect(podman.raw.map((r) => r.path)).to.include('groups[0].tasks[0].nomad.Config.image');
    expect(imported.get('qemu-vm.nomad.hcl')!.yaml).to.match(
      /artifacts:\n\s+- source: https:\/\/images.example.com\/appliance-3.2.qcow2\n\s+destination: local\/\n\s+mode: file\n/,
    );
    expect(imported.get('mesh-gateway.nomad.hcl')!.yaml).to.match(/tasks: \[\]\n\s+nomad:\n\s+Services:\n/);
    expect(imported.get('mesh-gateway.nomad.hcl')!.yaml).to.include('Mesh: {}');
    expect(imported.get('ingress-gateway.nomad.hcl')!.yaml).to.match(/connect:\n\s+native: true\n/);
    expect(imported.get('transparent-proxy.nomad.hcl')!.raw, 'transparent-proxy: nothing in nomad:').to.deep.equal([]);
    expect(imported.get('periodic-disabled.nomad.hcl')!.raw.map((r) => r.path)).to.deep.equal(['nomad.Meta.runbook.url']);
    expect(imported.get('batch-oldcron.nomad.hcl')!.yaml).to.match(/^type: periodic\n[\s\S]*^periodic:\n\s+cron: "@weekly"\n/m);
    expect(imported.get('periodic-cleanup.json')!.raw.map((r) => r.path)).to.deep.equal(['nomad.Periodic.Spec', 'nomad.Periodic.Specs']);
    expect(imported.get('docker-labels-dotted.nomad.hcl')!.raw.map((r) => r.path)).to.include('groups[0].tasks[0].nomad.Env.spring.profiles.active');
    expect(imported.get('identity-scaling.nomad.hcl')!.raw.map((r) => r.path)).to.include('groups[0].tasks[0].nomad.ScalingPolicies');
    // Group and task names and port labels as jobs write them (Web.Frontend, Server, HTTP, http-admin): typed.
    expect(imported.get('names-mixed-case.nomad.hcl')!.yaml).to.match(/- name: Web\.Frontend\n[\s\S]*http-admin:\n[\s\S]*- name: Server\n/);
    // Shapes import carries typed since the fourth round: a network mode written out, a jar fetched with headers,
    // Docker's host-gateway, the job-level migrate block, a job as the servers store it (UI link, Connect tasks).
    expect(imported.get('mariadb-host-volume.nomad.hcl')!.yaml).to.include('network_mode: host');
    expect(imported.get('java-artifact-jar.nomad.hcl')!.yaml).to.match(/jar:\n\s+source: \S+\n\s+checksum: \S+\n\s+headers:\n\s+X-Artifact-Channel: stable\n/);
    expect(imported.get('pipeline-init.nomad.hcl')!.yaml).to.include('- host.docker.internal:host-gateway');
    expect(imported.get('pipeline-init.nomad.hcl')!.raw.map((r) => r.path)).to.deep.equal(['nomad.Name']);
    expect(imported.get('sticky-cache-lifecycle.nomad.hcl')!.yaml).to.match(/leader: true\n\s+logs:\n\s+disabled: true\n/);
    expect(imported.get('checkout-mesh-stored.json')!.yaml).to.include('url: https://wiki.example.org/runbooks/checkout');
    expect(imported.get('checkout-mesh-stored.json')!.yaml).to.not.include('- name: connect-proxy-checkout');
    expect(imported.get('checkout-mesh-stored.json')!.yaml).to.not.include('sidecar_image');
    for (const f of [
      'mariadb-host-volume.nomad.hcl',
      'java-artifact-jar.nomad.hcl',
      'hcl2-tenant-workers.nomad.hcl',
      'edge-router-raw-exec.nomad.hcl',
      'git-artifact-batch.nomad.hcl',
      'dispatch-render.nomad.hcl',
      'sticky-cache-lifecycle.nomad.hcl',
      'windows-agent.nomad.hcl',
      'grpc-checks.nomad.hcl',
    ])
      expect(imported.get(f)!.raw, `${f}: nothing in nomad:`).to.deep.equal([]);
    for (const f of [
      'docker-mounts.nomad.hcl',
      'hcl2-locals-dynamic.nomad.hcl',
      'sysbatch-param.nomad.hcl',
      'template-tricky.nomad.hcl',
      'crlf-template.nomad.hcl',
      'check-headers-body.nomad.hcl',
      'underscore-id.nomad.hcl',
      'defaults-edge.nomad.hcl',
      'file-template-output.json',
    ])
      expect(imported.get(f)!.raw, `${f}: nothing in nomad:`).to.deep.equal([]);
  });

  it('measures what still goes to nomad: (printed), far less than before typed fields were lifted', () => {
    // Before the typed fields of issue 12 were lifted, 46 of the (then 55) corpus jobs had a nomad: block.
    const withRaw = [...imported.values()].filter((j) => j.raw.length > 0);
    const byField = new Map<string, number>();
    for (const j of withRaw) for (const r of j.raw) byField.set(r.path.replace(/\[\d+\]/g, '[]'), (byField.get(r.path.replace(/\[\d+\]/g, '[]')) ?? 0) + 1);
    const lines = [...byField].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([f, n]) => `        ${String(n).padStart(3)}  ${f}`);
    process.stdout.write(`      corpus jobs with a nomad: block: ${withRaw.length} of ${imported.size}; fields there (jobs):\n${lines.join('\n')}\n`);
    expect(imported.size).to.equal(files.length);
    // 29 of 98: 2 of the first 61 (14 of 59 before datacenters: [], the job-level update and stagger, dispatch_payload,
    // csi_plugin, group dns, pid_mode, an interpolated hostname, class_path and periodic sysbatch were typed; 39 of 58
    // before that) stay in nomad: on purpose (docs/spec.md): a display name other than the job ID, and an image without
    // a tag (the spec has no implicit latest). 27 of the 37 shapes added after them say something the typed spec does
    // not: a driver it does not type (podman, qemu, exec2: config), Connect gateways (their services), actions, consul
    // blocks, multiregion, NUMA, CNI networks, task scaling policies, a task schedule, Vault policies, Nomad-native
    // checks with check_restart, change_script, render_templates, dotted meta and env keys, interpolated or mixed-case service names,
    // insecure artifacts, a classic single cron (Spec, not Specs), a job-level reschedule, further docker and check options.
    // 39 of 117: 10 of the 19 added in the fourth round use nomad: for what the typed spec does not say: service `address`
    // and `tagged_addresses`, a script check's command, check `protocol`, explicitly empty `tags = []`, custom template
    // delimiters, a task's affinities, exec `cap_add`/`cap_drop`, a job-level reschedule, `all_at_once`,
    // `stop_after_client_disconnect`, a display name, and what the servers fill in on registration in a job they stored
    // (checkout-mesh-stored.json).
    expect(withRaw.length).to.be.at.most(39);
  });

  describe('the CLI', function () {
    const root = process.cwd();
    const cli = join(root, 'dist/cli.js');
    let dir: string;

    before(function () {
      ensureBuilt();
      dir = mkdtempSync(join(tmpdir(), 'hashiship-import-'));
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    const hashiship = (...args: string[]) =>
      exec(process.execPath, [cli, ...args], { env: { ...process.env, ...stack.env }, timeout: 120_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );

    it('writes the spec and lists what went into nomad:', async () => {
      const out = join(dir, 'jobs');
      const r = await hashiship('import', join(CORPUS, 'display-name.nomad.hcl'), join(CORPUS, 'exec-worker.nomad.hcl'), '--out', out);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('in nomad: (raw Nomad fields) nomad.Name');
      expect(readdirSync(join(out, 'services')).sort()).to.deep.equal(['billing-api.yaml', 'queue-worker.yaml']);
      const v = await hashiship('validate', join(out, 'services'));
      expect(v.code, v.stderr).to.equal(0);
    });

    it('refuses registry credentials in a job at their task, writing nothing and echoing nothing; prints each opt-out it writes, without the value', async () => {
      const job = join(dir, 'private.nomad.hcl');
      const text =
        'job "private-app" {\n  group "app" {\n    task "app" {\n      driver = "docker"\n\n      config {\n        image = "registry.example.com/team/private-app:3.2.1"\n\n        auth {\n          username = "deploy"\n          password = "hunter2-in-the-job"\n        }\n      }\n\n      env {\n        DB_PASSWORD = "plain-db-pass"\n      }\n    }\n  }\n}\n';
      writeFileSync(job, text);
      const out = join(dir, 'credentials');
      const r = await hashiship('import', job, '--out', out);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.include(
        `${job}:3:5  groups[0].tasks[0].nomad.Config.auth[0].password  the imported spec cannot say this: a registry credential does not go in a job`,
      );
      expect(r.stdout + r.stderr).not.to.include('hunter2');
      expect(existsSync(out), 'nothing written').to.equal(false);
      // Without the credentials: imported, and the plain password it keeps is named by path, its value not printed.
      writeFileSync(job, text.replace(/\n {8}auth \{[^}]*\}\n/, '\n'));
      const ok = await hashiship('import', job, '--out', out);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.include(
        '  opted out in allow: (kept as the job has it) groups[0].tasks[0].env.DB_PASSWORD (a plain value under a secret-looking name: a secret belongs in Vault, see secrets:)\n',
      );
      expect(ok.stdout).not.to.include('plain-db-pass');
    });

    it('keeps an existing spec without --force (exit 1, nothing written) and replaces it with --force', async () => {
      const out = join(dir, 'force');
      const first = await hashiship('import', join(CORPUS, 'redis-cache.nomad.hcl'), '--out', out);
      expect(first.code, first.stderr).to.equal(0);
      const path = join(out, 'services', 'redis.yaml');
      writeFileSync(path, '# edited by hand\n');
      const again = await hashiship('import', join(CORPUS, 'redis-cache.nomad.hcl'), join(CORPUS, 'loki.nomad.hcl'), '--out', out);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.include(`${path}: already exists; nothing was written (give --force`);
      expect(readFileSync(path, 'utf8')).to.equal('# edited by hand\n');
      expect(existsSync(join(out, 'services', 'loki.yaml')), 'the other spec is not written either').to.equal(false);
      const forced = await hashiship('import', join(CORPUS, 'redis-cache.nomad.hcl'), '--out', out, '--force');
      expect(forced.code, forced.stderr).to.equal(0);
      expect(readFileSync(path, 'utf8')).to.include('name: redis');
    });

    it("--env: one file per environment; the second environment's differences go to its environment file, the rest is refused", async () => {
      const qa = join(dir, 'redis.qa.nomad.hcl');
      const prod = join(dir, 'redis.production.nomad.hcl');
      const text = readFileSync(join(CORPUS, 'redis-cache.nomad.hcl'), 'utf8');
      writeFileSync(qa, text);
      writeFileSync(
        prod,
        text.replace('7.2.5-alpine', '7.2.6-alpine').replace('memory = 256', 'memory = 1024').replace('group "cache" {', 'group "cache" {\n    count = 3'),
      );
      const out = join(dir, 'envs');
      const r = await hashiship('import', '--env', 'qa', '--env', 'production', qa, prod, '--out', out);
      expect(r.code, r.stderr).to.equal(0);
      expect(readFileSync(join(out, 'environments', 'production.yaml'), 'utf8')).to.include(
        'services:\n  redis:\n    groups:\n      cache:\n        count: 3\n        tasks:\n          redis:\n            resources:\n              memory: 1024\n            image:\n              tag: 7.2.6-alpine\n',
      );
      // Each environment renders its own job: Nomad parses the rendering and the file to the same job.
      const parser2 = nomadParser(stack.clients.nomad.client);
      for (const [env, file] of [
        ['qa', qa],
        ['production', prod],
      ] as const) {
        const rendered = await hashiship('render', '--env', env, '--services', join(out, 'services'), '--environments', join(out, 'environments'));
        expect(rendered.code, rendered.stderr).to.equal(0);
        const diffs = jobDifferences(await parseSource({ file, text: readFileSync(file, 'utf8') }, parser2), await parser2.parse(rendered.stdout));
        expect(diffs, `${env}: ${describeDifferences(diffs)}`).to.deep.equal([]);
      }
      // A check path an environment file cannot change: refused by path, nothing written.
      const other = join(dir, 'redis.other.nomad.hcl');
      writeFileSync(other, text.replace('args  = ["redis-server", "--appendonly", "yes"]', 'args  = ["redis-server"]'));
      const bad = await hashiship('import', '--env', 'qa', '--env', 'production', qa, other, '--out', join(dir, 'envs-bad'));
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('groups[0].tasks[0].args');
      expect(bad.stderr).to.include('an environment file cannot change it for production');
      expect(existsSync(join(dir, 'envs-bad'))).to.equal(false);
    });

    it('imports the jobs `nomad job init` writes (the long example, -connect, -short, -short -connect) typed, and renders them back exactly', async () => {
      const env = { ...process.env, ...stack.env, PATH: [stack.env['HASHISHIP_STACK_BIN'], process.env['PATH']].join(':') };
      const init = async (flags: readonly string[]): Promise<string> => {
        const d = join(dir, `init${flags.join('') || '-long'}`);
        mkdirSync(d, { recursive: true });
        await exec('nomad', ['job', 'init', ...flags], { cwd: d, env });
        return join(d, 'example.nomad.hcl');
      };
      const same = async (file: string, renderedHcl: string) => {
        const diffs = jobDifferences(await parseSource({ file, text: readFileSync(file, 'utf8') }, parser), await parser.parse(renderedHcl));
        expect(diffs, `${file}: ${describeDifferences(diffs)}`).to.deep.equal([]);
      };
      // As a newcomer does: import the long example and the Connect one with an environment, render it, compare with Nomad.
      const files = [await init([]), await init(['-connect'])];
      const out = join(dir, 'init-jobs');
      const r = await hashiship('import', '--env', 'dev', ...files, '--out', out);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout, 'nothing in nomad:').to.not.include('in nomad:');
      const rendered = join(dir, 'init-rendered');
      const rr = await hashiship('render', '--env', 'dev', '--services', join(out, 'services'), '--environments', join(out, 'environments'), '--out', rendered);
      expect(rr.code, rr.stderr).to.equal(0);
      await same(files[0]!, readFileSync(join(rendered, 'example.nomad.hcl'), 'utf8'));
      await same(files[1]!, readFileSync(join(rendered, 'countdash.nomad.hcl'), 'utf8'));
      // The short ones (same job IDs) through the library, as the corpus.
      for (const flags of [['-short'], ['-short', '-connect']]) {
        const file = await init(flags);
        const job = await importJob({ file, text: readFileSync(file, 'utf8') }, parser);
        expect(job.raw, `${file}: nothing in nomad:`).to.deep.equal([]);
        const set = loadSet([{ file: `${job.name}.yaml`, text: job.yaml, kind: 'service' }]);
        await same(file, renderJobHcl(renderJob(standalone(set.services[0]!))));
      }
    });

    it('--from-cluster reads a job from Nomad (the HCL it was submitted with) in the namespace given', async () => {
      const nomad = stack.clients.nomad.client;
      const hcl = readFileSync(join(CORPUS, 'parameterized-transcode.nomad.hcl'), 'utf8').replace('job "transcode"', 'job "import-test-transcode"');
      // A parameterized job places nothing until dispatched. Registered with its source, as `nomad job run` does.
      const parsed = await nomad.request<Record<string, unknown>>('jobs.parse', { method: 'POST', path: '/v1/jobs/parse', data: { JobHCL: hcl } });
      await nomad.request('jobs.register', { method: 'POST', path: '/v1/jobs', data: { Job: parsed.data, Submission: { Source: hcl, Format: 'hcl2' } } });
      try {
        const out = join(dir, 'cluster');
        const r = await hashiship('import', '--from-cluster', 'import-test-transcode', '--out', out, '--nomad-namespace', 'default');
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.include('imported nomad:default/import-test-transcode (submitted HCL): job import-test-transcode');
        const missing = await hashiship('import', '--from-cluster', 'import-test-transcode', '--out', out, '--nomad-namespace', 'no-such-namespace-here');
        expect(missing.code).to.equal(1);
        expect(missing.stderr).to.include('no job `import-test-transcode` in namespace `no-such-namespace-here`');
      } finally {
        await nomad.request('jobs.deregister', { method: 'DELETE', path: '/v1/job/import-test-transcode', params: { purge: 'true' } });
      }
    });

    it('exits 1 on a group without tasks (Nomad refuses the job), at the group, and writes nothing', async () => {
      const bad = join(dir, 'gateway.nomad.hcl');
      writeFileSync(
        bad,
        'job "gateway" {\n  group "web" {\n    task "t" {\n      driver = "exec"\n      config {\n        command = "/bin/true"\n      }\n    }\n  }\n\n  group "ingress" {\n    count = 0\n  }\n}\n',
      );
      const out = join(dir, 'no-tasks');
      const r = await hashiship('import', join(CORPUS, 'redis-cache.nomad.hcl'), bad, '--out', out);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(
        `${bad}:11:3  group ingress  has no task: Nomad refuses such a job when it runs or validates it ("Missing tasks for task group")`,
      );
      expect(existsSync(out)).to.equal(false);
    });

    it('exits 1 on a job that reads a file (file()), which only the nomad CLI can, naming the way through API JSON', async () => {
      const job = join(dir, 'filefn.nomad.hcl');
      writeFileSync(join(dir, 'app.tpl'), 'server {{ env "NOMAD_PORT_http" }}\n');
      writeFileSync(
        job,
        'job "filefn" {\n  group "g" {\n    task "t" {\n      driver = "docker"\n\n      config {\n        image = "nginx:1.25.4"\n      }\n\n      template {\n        data        = file("app.tpl")\n        destination = "local/app.conf"\n      }\n    }\n  }\n}\n',
      );
      const out = join(dir, 'filefn');
      const r = await hashiship('import', job, '--out', out);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`${job}:11:23  job  calls file(), which Nomad's parser reads only from the nomad CLI`);
      expect(r.stderr).to.include(`\`nomad job run -output ${job} > job.json\` and import job.json`);
      expect(existsSync(out)).to.equal(false);
    });

    it("exits 1 on a file Nomad cannot parse, with Nomad's message and position, and writes nothing", async () => {
      const bad = join(dir, 'broken.nomad.hcl');
      writeFileSync(bad, 'job "broken" {\n  group "g" {\n    task "t" {\n      driver =\n    }\n  }\n}\n');
      const out = join(dir, 'bad');
      const r = await hashiship('import', join(CORPUS, 'redis-cache.nomad.hcl'), bad, '--out', out);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`${bad}:4:15  job  Nomad cannot parse it: Invalid expression`);
      expect(existsSync(out)).to.equal(false);
    });
  });
});

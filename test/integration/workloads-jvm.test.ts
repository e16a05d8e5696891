/**
 * Seed workload: a JVM service (seed 000's "bare JVM processes" mode). A jar built
 * here with javac (test/fixtures/images/hello-java) runs under Nomad's java driver,
 * fetched as an artifact with its checksum, with a Consul HTTP check and a Fabio
 * route; then the same jar as a container (a JRE image made here with jlink,
 * scripts/images/jre.sh, plus the jar) behind the same kind of route. Both shipped
 * by `hashiship deploy`.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from '../helpers/images.js';
import { viaFabio } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import {
  containerOf,
  debianImage,
  eventually,
  figure,
  helloJar,
  passingInstances,
  purgeJobs,
  QaRegistry,
  runningAllocs,
  SpecDir,
  withEnv,
} from '../helpers/workloads.js';

const run = randomBytes(3).toString('hex');
const onJava = `jvm-${run}`;
const inContainer = `jvm-ctr-${run}`;

/** The service part shared by both specs: a port, a Consul HTTP check on /health, a Fabio route. */
function group(service: string, task: string): string {
  return `name: ${service}
groups:
  - name: app
    count: 1
    shutdown_delay: 0s
    ports:
      http: {}
    update:
      min_healthy_time: 1s
      healthy_deadline: 90s
      progress_deadline: 120s
    services:
      - port: http
        checks:
          - type: http
            path: /health
            interval: 1s
            timeout: 1s
        routes:
          - host: ${service}.local
    tasks:
${task}`;
}

describe('seed workload: a JVM service under the java driver and as a container', function () {
  let stack: TestStack;
  let host: string;
  let server: http.Server | undefined;
  let jarUrl: string;
  let jarSha: string;
  let restore: () => void = () => undefined;
  const specs = new SpecDir(`wl-${run}`);
  const work = mkdtempSync(join(tmpdir(), 'hashiship-jvm-'));

  before(async function () {
    this.timeout(90 * 60_000);
    stack = await useStack();
    host = stack.env['DOCKER_HOST']!;
    restore = withEnv(stack.env);
    const t0 = Date.now();
    const jar = await helloJar();
    figure('javac + jar of the JVM service', (Date.now() - t0) / 1000);
    jarSha = jar.sha256;
    // Where Nomad's artifact fetcher downloads the jar from: a plain HTTP file server.
    const bytes = readFileSync(jar.path);
    server = http.createServer((req, res) => {
      if (req.url === '/hello.jar') res.writeHead(200, { 'Content-Type': 'application/java-archive' }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    jarUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello.jar`;
  });

  after(async function () {
    this.timeout(60_000);
    restore();
    if (stack !== undefined) await purgeJobs(stack.config.nomad.address, onJava, inContainer);
    server?.close();
    specs.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("Nomad's java driver runs the jar: Consul check passing, routed by Fabio", async function () {
    this.timeout(300_000);
    specs.write(
      onJava,
      group(
        onJava,
        `      - name: app
        driver: java
        jar:
          source: ${jarUrl}
          checksum: sha256:${jarSha}
        jvm_options: [-Xmx64m, -XX:+UseSerialGC]
        env:
          HOST: "\${NOMAD_IP_http}"
          PORT: "\${NOMAD_PORT_http}"
          VERSION: v1-${run}
        resources:
          cpu: 100
          memory: 192
`,
      ),
    );
    const r = await specs.deploy(onJava);
    figure('jvm: hashiship deploy on the java driver', r.seconds);
    expect(r.code, r.out).to.equal(0);
    await passingInstances(onJava, 1);
    const body = await eventually('the JVM service through Fabio', 60_000, async () => {
      const res = await viaFabio(`${onJava}.local`, '/');
      return res.status === 200 ? res.body : undefined;
    });
    expect(body).to.match(new RegExp(`^hello-java v1-${run} /usr/lib/jvm/`));
    const [alloc] = await runningAllocs(stack.config.nomad.address, onJava);
    const task = (await (await fetch(`${stack.config.nomad.address}/v1/allocation/${alloc!.ID}`)).json()) as {
      Job: { TaskGroups: { Tasks: { Driver: string; Config: { jar_path?: string } }[] }[] };
    };
    expect(task.Job.TaskGroups[0]!.Tasks[0]).to.deep.include({ Driver: 'java' });
    expect(task.Job.TaskGroups[0]!.Tasks[0]!.Config.jar_path).to.equal('local/hello.jar');
  });

  it('the same jar as a container on a JRE image made here: Consul check passing, routed by Fabio', async function () {
    this.timeout(600_000);
    const t0 = Date.now();
    const jre = await debianImage(host, 'jre');
    figure(`jre image ${jre.cached ? 'reused' : 'made + built + pushed'}`, (Date.now() - t0) / 1000);
    const t1 = Date.now();
    copyFileSync((await helloJar()).path, join(work, 'hello.jar'));
    writeFileSync(join(work, 'Dockerfile'), `FROM ${jre.tag}\nCOPY hello.jar /app/hello.jar\nCMD ["-Xmx64m", "-XX:+UseSerialGC", "-jar", "/app/hello.jar"]\n`);
    const tag = `${QaRegistry}/hashiship-test/hello-java:${jarSha.slice(0, 12)}`;
    await docker(host, ['build', '--quiet', '--tag', tag, work]);
    await docker(host, ['push', tag]);
    const ref = (JSON.parse(await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', tag])) as string[]).find((d) =>
      d.startsWith(`${QaRegistry}/hashiship-test/hello-java@`),
    )!;
    const digest = ref.slice(ref.indexOf('@') + 1);
    figure('jar image on the JRE: docker build + push', (Date.now() - t1) / 1000);

    specs.write(
      inContainer,
      group(
        inContainer,
        `      - name: app
        driver: docker
        image:
          repository: hashiship-test/hello-java
          digest: ${digest}
        env:
          HOST: "\${NOMAD_IP_http}"
          PORT: "\${NOMAD_PORT_http}"
          VERSION: v1-${run}
        resources:
          cpu: 100
          memory: 192
        nomad:
          Config:
            network_mode: host
`,
      ),
    );
    const r = await specs.deploy(inContainer);
    figure('jvm: hashiship deploy as a container', r.seconds);
    expect(r.code, r.out).to.equal(0);
    await passingInstances(inContainer, 1);
    const body = await eventually('the JVM container through Fabio', 60_000, async () => {
      const res = await viaFabio(`${inContainer}.local`, '/');
      return res.status === 200 ? res.body : undefined;
    });
    // The same jar, now on the image's jlinked runtime.
    expect(body).to.equal(`hello-java v1-${run} /opt/java`);
    const [alloc] = await runningAllocs(stack.config.nomad.address, inContainer);
    expect((await containerOf(host, alloc!.ID)).Config.Image).to.equal(ref);
  });
});

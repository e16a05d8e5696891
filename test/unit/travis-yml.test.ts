/**
 * The sample service's `.travis.yml` is the pipeline users copy: check its
 * structure — test before ship, the image tagged with the build number and pushed
 * before anything is deployed, the entry point last, no secret in the file.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { readCiOptions } from '../../src/ci/travis.js';

interface Job {
  readonly stage?: string;
  readonly before_script?: readonly string[];
  readonly script?: readonly string[];
}

const file = 'examples/sample/.travis.yml';
const travis = parse(readFileSync(file, 'utf8')) as {
  language: string;
  node_js: string;
  services?: string[];
  env: { global: string[] };
  install: string[];
  stages: string[];
  jobs: { include: Job[] };
};
const globals = new Map(
  travis.env.global.map((line) => {
    const i = line.indexOf('=');
    return [line.slice(0, i), line.slice(i + 1)] as const;
  }),
);
const stage = (name: string): Job => {
  const job = travis.jobs.include.find((j) => j.stage === name);
  if (job === undefined) throw new Error(`${file}: no job in stage ${name}`);
  return job;
};

describe(`${file}: the pipeline of a service repository`, () => {
  it('runs on Node 20 or later with npm ci, and the docker service for the build', () => {
    expect(travis.language).to.equal('node_js');
    expect(Number(travis.node_js)).to.be.at.least(20);
    expect(travis.install).to.deep.equal(['npm ci']);
    expect(travis.services).to.include('docker');
  });

  it('tests in a stage before the stage that ships', () => {
    expect(travis.stages).to.deep.equal(['test', 'ship']);
    expect(stage('test').script).to.deep.equal(['npm test']);
  });

  it('ships: logs in without the password on the command line, builds the build-number tag, pushes it, then runs the entry point', () => {
    const ship = stage('ship');
    const before = ship.before_script ?? [];
    const tag = '"$QA_REGISTRY/sample:$TRAVIS_BUILD_NUMBER"';
    const login = before.findIndex((c) => c.startsWith('echo "$QA_REGISTRY_PASSWORD" | docker login'));
    const build = before.findIndex((c) => c.startsWith(`docker build --tag ${tag}`));
    const push = before.findIndex((c) => c === `docker push ${tag}`);
    expect(login, 'docker login').to.be.at.least(0);
    expect(before[login]).to.contain('--password-stdin');
    expect(build, 'docker build').to.be.greaterThan(login);
    expect(push, 'docker push').to.be.greaterThan(build);
    // before_script, not script: a failed build or push stops the job before any deploy.
    expect(ship.script).to.deep.equal(['npx zx scripts/promote.mjs']);
  });

  it('ships exactly the services the entry point will deploy, each with its pushed image', () => {
    const env = Object.fromEntries(globals);
    const { services, releaseBranch } = readCiOptions(env);
    expect(releaseBranch).to.equal('main');
    const pushed = (stage('ship').before_script ?? []).filter((c) => c.startsWith('docker push'));
    for (const s of services)
      expect(
        pushed.some((c) => c.includes(`/${s}:$TRAVIS_BUILD_NUMBER`)),
        s,
      ).to.equal(true);
  });

  it('keeps secrets out of the file: no password, token or secret id is set in plain text', () => {
    for (const [name, value] of globals) {
      expect(name, `${name}=${value}`).not.to.match(/PASSWORD|TOKEN|SECRET|ROLE_ID/);
    }
  });

  it('names an entry point that exists and reads the Travis variables', () => {
    const script = readFileSync('scripts/promote.mjs', 'utf8');
    expect(script.startsWith('#!/usr/bin/env zx')).to.equal(true);
    expect(script).to.contain("from 'hashiship'");
    // The decisions are the library's: the script stays a few dozen lines.
    expect(script.split('\n').length).to.be.below(60);
  });
});

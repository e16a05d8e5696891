/**
 * A docker pull failure in a Driver Failure event becomes a diagnosis that names the
 * image, its registry and the registry's answer (the answers are the engine's own,
 * captured from dockerd 20.10 against the stack's registry and a closed port).
 */
import { expect } from 'chai';
import { causeOf, pullFailure } from '../../src/deploy/diagnose.js';
import type { AllocationStub, TaskEvent } from '../../src/nomad/allocations.js';

const digest = `sha256:${'0'.repeat(63)}1`;
const image = `127.0.0.1:5001/shop/web@${digest}`;
const unknown = `Failed to pull \`${image}\`: Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`;
const refused = `Failed to pull \`127.0.0.1:5099/shop/web@${digest}\`: Error response from daemon: Get "http://127.0.0.1:5099/v2/": dial tcp 127.0.0.1:5099: connect: connection refused`;

const failedWith = (driverError: string): AllocationStub =>
  ({
    ID: '0b6e1c9a-1111-2222-3333-444455556666',
    Name: 'web.web[0]',
    JobID: 'web',
    JobVersion: 0,
    TaskGroup: 'web',
    DesiredStatus: 'run',
    ClientStatus: 'failed',
    CreateIndex: 1,
    ModifyIndex: 2,
    TaskStates: {
      web: {
        State: 'dead',
        Failed: true,
        Events: [
          { Type: 'Received', Time: 0 },
          { Type: 'Driver', Time: 1, DisplayMessage: `Downloading image` } as TaskEvent,
          { Type: 'Driver Failure', Time: 2, Details: { driver_error: driverError } } as TaskEvent,
          { Type: 'Not Restarting', Time: 3 } as TaskEvent,
        ],
      },
    },
  }) as AllocationStub;

describe('deploy: docker pull failures', () => {
  it('an unknown digest: the image, the registry and its answer', () => {
    expect(pullFailure(unknown)).to.deep.equal({
      image,
      registry: '127.0.0.1:5001',
      answer: `manifest for ${image} not found: manifest unknown: manifest unknown`,
      reached: true,
    });
    expect(causeOf(failedWith(unknown)).cause).to.equal(
      `image pull failed: ${image}: registry 127.0.0.1:5001 answered: manifest for ${image} not found: manifest unknown: manifest unknown`,
    );
  });

  it('a registry that does not answer is named as unreachable', () => {
    const c = causeOf(failedWith(refused)).cause;
    expect(c).to.match(/^image pull failed: 127\.0\.0\.1:5099\/shop\/web@sha256:0+1: registry 127\.0\.0\.1:5099 could not be reached: Get /);
    expect(c).to.include('connection refused');
  });

  it('a reference without a registry host pulls from docker.io', () => {
    expect(pullFailure('Failed to pull `library/redis:7.2-alpine`: API error (404): pull access denied')).to.include({
      registry: 'docker.io',
      answer: 'pull access denied',
    });
  });

  it('other driver failures keep their text', () => {
    expect(pullFailure('failed to create container: no such network')).to.equal(undefined);
    expect(causeOf(failedWith('failed to create container: no such network')).cause).to.equal('driver failure: failed to create container: no such network');
  });
});

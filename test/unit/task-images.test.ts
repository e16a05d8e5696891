/**
 * plan and status show the image a raw_exec task runs by digest (issue 11: `status`
 * showed no image for the sample, whose layers raw_exec fetches as artifacts). The
 * sample runs on the docker driver now; its raw_exec form (clusters without Docker)
 * is the same spec through `onRawExec`.
 */
import { expect } from 'chai';
import { imagesOf } from '../../src/deploy/plan.js';
import { renderJob } from '../../src/nomad/render.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import { onRawExec } from '../helpers/sample.js';

describe('plan/status: the images of a job', () => {
  it('the sample on docker pulls its image by digest from the environment registry', async () => {
    const set = loadSet(await readSpecFiles(['examples/sample/jobs/services', 'examples/sample/jobs/environments']));
    expect(set.problems).to.deep.equal([]);
    const digest = `sha256:${'ab'.repeat(32)}`;
    const [sample] = resolveEnvironment(set, 'production');
    const job = renderJob(sample!, { digests: { 'hashiship/sample': digest } });
    const task = job.TaskGroups?.[0]?.Tasks?.[0];
    expect(task?.Driver).to.equal('docker');
    expect(task?.Config).to.include({ image: `127.0.0.1:5002/hashiship/sample@${digest}`, network_mode: 'host' });
    expect(imagesOf(job)).to.deep.equal([{ group: 'web', task: 'web', image: `127.0.0.1:5002/hashiship/sample@${digest}`, digest }]);
  });

  it('a raw_exec task that runs an image by digest (examples/sample on raw_exec) shows it, pinned', async () => {
    const files = await readSpecFiles(['examples/sample/jobs/services', 'examples/sample/jobs/environments']);
    const set = loadSet(files.map((f) => (f.kind === 'service' ? { ...f, text: onRawExec(f.text) } : f)));
    expect(set.problems).to.deep.equal([]);
    const digest = `sha256:${'ab'.repeat(32)}`;
    const [sample] = resolveEnvironment(set, 'qa');
    const job = renderJob(sample!, { digests: { 'hashiship/sample': digest }, layers: { 'hashiship/sample': [`sha256:${'cd'.repeat(32)}`] } });
    expect(job.TaskGroups?.[0]?.Tasks?.[0]?.Driver).to.equal('raw_exec');
    expect(imagesOf(job)).to.deep.equal([{ group: 'web', task: 'web', image: `127.0.0.1:5001/hashiship/sample@${digest}`, digest }]);
  });

  it('a docker task shows its config image; a task without one shows none', () => {
    const job = {
      ID: 'x',
      TaskGroups: [
        {
          Name: 'g',
          Tasks: [
            { Name: 'a', Driver: 'docker', Config: { image: 'r/a:1' } },
            { Name: 'b', Driver: 'raw_exec', Config: { command: '/bin/true' } },
          ],
        },
      ],
    };
    expect(imagesOf(job as never)).to.deep.equal([{ group: 'g', task: 'a', image: 'r/a:1' }]);
  });
});

import { InputError, render, renderHcl, spec, specFiles } from 'hashiship';

const set = spec.loadSet(await specFiles.readSpecFiles(['jobs/services', 'jobs/environments']));
if (set.problems.length > 0) throw new InputError(set.problems);
const digest = `sha256:${'3f1c'.repeat(16)}`; // the digest QA verified
for (const service of spec.resolveEnvironment(set, 'production')) {
  const job = render.renderJob(service, { digests: { 'storefront/web': digest } });
  console.log(renderHcl.renderJobHcl(job));
}

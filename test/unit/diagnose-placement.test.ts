/**
 * Placement failures say what would place the job (issue 11: a missing driver was
 * answered with "Nomad places it when capacity frees up").
 */
import { expect } from 'chai';
import { capacityBound, missingDrivers, placementOutlook } from '../../src/deploy/diagnose.js';

describe('deploy: placement outlook and missing drivers', () => {
  it('promises placement when capacity frees up only when a node passed every filter and lacked resources', () => {
    expect(capacityBound({ NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 } })).to.equal(true);
    expect(capacityBound({ NodesEvaluated: 1, NodesFiltered: 1, ConstraintFiltered: { 'missing drivers': 1 } })).to.equal(false);
    expect(capacityBound({ NodesEvaluated: 0 })).to.equal(false);
    expect(placementOutlook({ BlockedEval: 'abcdef0123', FailedTGAllocs: { web: { NodesEvaluated: 1, NodesExhausted: 1 } } })).to.equal(
      'The job stays registered; Nomad places it when capacity frees up (blocked evaluation abcdef01).',
    );
    const stuck = placementOutlook({
      BlockedEval: 'abcdef0123',
      FailedTGAllocs: { web: { NodesEvaluated: 1, NodesFiltered: 1, ConstraintFiltered: { 'missing drivers': 1 } } },
    });
    expect(stuck).to.match(/^The job stays registered \(blocked evaluation abcdef01\), but no node can run group web as it stands/);
    expect(stuck).to.not.contain('capacity frees up');
  });

  it('names the drivers of the group that no node has detected and healthy', () => {
    const nodes = [
      { Name: 'a', Drivers: { raw_exec: { Detected: true, Healthy: true }, docker: { Detected: true, Healthy: false } } },
      { Name: 'b', Drivers: { raw_exec: { Detected: true, Healthy: true } } },
    ];
    expect(
      missingDrivers(
        [
          { Name: 'web', Driver: 'raw_exec' },
          { Name: 'db', Driver: 'docker' },
          { Name: 'jvm', Driver: 'java' },
        ],
        nodes,
      ),
    ).to.deep.equal(['* Missing driver "docker" (task db): unhealthy on a', '* Missing driver "java" (task jvm): no node has it (2 nodes)']);
  });
});

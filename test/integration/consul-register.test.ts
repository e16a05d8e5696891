/**
 * External services, configuration in KV and maintenance mode against the
 * stack's real Consul (no ACLs): the shared cases of test/helpers/consul-cases.ts.
 * consul-acl.test.ts runs the same cases with ACLs default-deny.
 */
import { randomBytes } from 'node:crypto';
import { defineConsulCases, type ConsulCaseContext } from '../helpers/consul-cases.js';
import { useStack, type TestStack } from '../helpers/stack.js';

describe('consul external services, config KV and maintenance (stack Consul)', function () {
  let stack: TestStack;
  let ctx: ConsulCaseContext;

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    ctx = { env: { CONSUL_HTTP_ADDR: stack.config.consul.address }, run: randomBytes(3).toString('hex'), nodeMaintenance: false };
  });

  defineConsulCases(
    () => ctx,
    () => stack.config.consul,
  );
});

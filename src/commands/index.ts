/**
 * Every verb of the CLI, one file each. A command parses its flags, calls the
 * library through the runner (runner.ts), prints its output and returns its exit code.
 */
import type { Command } from 'commander';
import { load } from './lazy.js';

type Register = (program: Command) => void;

/** Every verb in help order, with its module. */
const VERBS: readonly (readonly [string, () => Promise<Register>])[] = [
  ['dev', async () => (await load<typeof import('./dev.js')>('./dev.js')).registerDev],
  ['agent-config', async () => (await load<typeof import('./agent-config.js')>('./agent-config.js')).registerAgentConfig],
  ['validate', async () => (await load<typeof import('./validate.js')>('./validate.js')).registerValidate],
  ['render', async () => (await load<typeof import('./render.js')>('./render.js')).registerRender],
  ['plan', async () => (await load<typeof import('./plan.js')>('./plan.js')).registerPlan],
  ['deploy', async () => (await load<typeof import('./deploy.js')>('./deploy.js')).registerDeploy],
  ['status', async () => (await load<typeof import('./status.js')>('./status.js')).registerStatus],
  ['promote-canaries', async () => (await load<typeof import('./promote-canaries.js')>('./promote-canaries.js')).registerPromoteCanaries],
  ['routes', async () => (await load<typeof import('./routes.js')>('./routes.js')).registerRoutes],
  ['secrets', async () => (await load<typeof import('./secrets.js')>('./secrets.js')).registerSecrets],
  ['promote', async () => (await load<typeof import('./promote.js')>('./promote.js')).registerPromote],
  ['rollback', async () => (await load<typeof import('./rollback.js')>('./rollback.js')).registerRollback],
  ['releases', async () => (await load<typeof import('./releases.js')>('./releases.js')).registerReleases],
  ['register', async () => (await load<typeof import('./register.js')>('./register.js')).registerRegister],
  ['kv', async () => (await load<typeof import('./kv.js')>('./kv.js')).registerKv],
  ['maintenance', async () => (await load<typeof import('./maintenance.js')>('./maintenance.js')).registerMaintenance],
  ['image', async () => (await load<typeof import('./image.js')>('./image.js')).registerImage],
  ['import', async () => (await load<typeof import('./import.js')>('./import.js')).registerImport],
];

/**
 * Register the verb `only` (when it names one) or every verb: help, an unknown
 * word and a bare `hashiship` need them all.
 */
export async function registerCommands(program: Command, only?: string): Promise<void> {
  const verbs = VERBS.filter(([name]) => name === only);
  for (const [, loadVerb] of verbs.length === 1 ? verbs : VERBS) (await loadVerb())(program);
}

/**
 * Every verb of the CLI, one file each. A command parses its flags, calls the
 * library through the runner (runner.ts), prints its output and returns its exit code.
 *
 * Command modules are loaded on demand: a run of one verb imports that verb's
 * file only (and so only the libraries it needs — `render` never loads the HTTP
 * client); help, an unknown verb or a bare `hashiship` load them all, in this order.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Top-level verb → its module's register function, in help order. */
const commands: readonly (readonly [string, () => Promise<Register>])[] = [
  ['dev', async () => (await import('./dev.js')).registerDev],
  ['agent-config', async () => (await import('./agent-config.js')).registerAgentConfig],
  ['validate', async () => (await import('./validate.js')).registerValidate],
  ['render', async () => (await import('./render.js')).registerRender],
  ['plan', async () => (await import('./plan.js')).registerPlan],
  ['deploy', async () => (await import('./deploy.js')).registerDeploy],
  ['status', async () => (await import('./status.js')).registerStatus],
  ['promote-canaries', async () => (await import('./promote-canaries.js')).registerPromoteCanaries],
  ['routes', async () => (await import('./routes.js')).registerRoutes],
  ['secrets', async () => (await import('./secrets.js')).registerSecrets],
  ['promote', async () => (await import('./promote.js')).registerPromote],
  ['rollback', async () => (await import('./rollback.js')).registerRollback],
  ['releases', async () => (await import('./releases.js')).registerReleases],
  ['register', async () => (await import('./register.js')).registerRegister],
  ['kv', async () => (await import('./kv.js')).registerKv],
  ['maintenance', async () => (await import('./maintenance.js')).registerMaintenance],
  ['image', async () => (await import('./image.js')).registerImage],
  ['import', async () => (await import('./import.js')).registerImport],
];

/**
 * Register the commands on `program`: when `argv`'s first word is a verb, only
 * that verb (its flags and help are complete); otherwise every verb, for the
 * main help, `help <verb>` and commander's "did you mean" on an unknown verb.
 */
export async function registerCommands(program: Command, argv?: readonly string[]): Promise<void> {
  const first = argv?.[0];
  const only = commands.find(([name]) => name === first);
  const chosen = only === undefined ? commands : [only];
  const registers = await Promise.all(chosen.map(([, load]) => load()));
  for (const register of registers) register(program);
}

/**
 * Every verb of the CLI, one file each. A command parses its flags, calls the
 * library through the runner (runner.ts), prints its output and returns its exit code.
 */
import type { Command } from 'commander';
import { registerDev } from './dev.js';
import { registerAgentConfig } from './agent-config.js';
import { registerValidate } from './validate.js';
import { registerRender } from './render.js';
import { registerPlan } from './plan.js';
import { registerDeploy } from './deploy.js';
import { registerStatus } from './status.js';
import { registerPromoteCanaries } from './promote-canaries.js';
import { registerRoutes } from './routes.js';
import { registerSecrets } from './secrets.js';
import { registerPromote } from './promote.js';
import { registerRollback } from './rollback.js';
import { registerReleases } from './releases.js';
import { registerRegister } from './register.js';
import { registerKv } from './kv.js';
import { registerMaintenance } from './maintenance.js';
import { registerImage } from './image.js';
import { registerImport } from './import.js';

export function registerCommands(program: Command): void {
  registerDev(program);
  registerAgentConfig(program);
  registerValidate(program);
  registerRender(program);
  registerPlan(program);
  registerDeploy(program);
  registerStatus(program);
  registerPromoteCanaries(program);
  registerRoutes(program);
  registerSecrets(program);
  registerPromote(program);
  registerRollback(program);
  registerReleases(program);
  registerRegister(program);
  registerKv(program);
  registerMaintenance(program);
  registerImage(program);
  registerImport(program);
}

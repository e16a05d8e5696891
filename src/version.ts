import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/** hashiship's own version, from package.json. */
export const version: string = pkg.version;

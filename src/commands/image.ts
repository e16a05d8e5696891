/**
 * `hashiship image copy <src> <dst> [--force]`: copy an image by digest between
 * registries (only missing blobs, each verified; mounts within one registry);
 * exit 6 when the destination tag points at another digest and `--force` is not
 * given. `hashiship image digest <ref>`: the manifest digest a reference resolves
 * to. Credentials come from HASHISHIP_REGISTRY_<NAME>_USERNAME/_PASSWORD or
 * _VAULT_PATH, or Docker's config.json (see docs/registry.md).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface ImageFlags {
  readonly json?: boolean;
  readonly events?: string;
}

export function registerImage(program: Command): void {
  const image = program.command('image').description('container images in Docker registries: copy by digest, resolve a digest');

  serverFlags(
    image
      .command('copy')
      .description('copy an image by digest (only missing blobs, verified; exit 6 if the destination tag holds another digest)')
      .argument('<source>', 'e.g. 127.0.0.1:5001/team/app:42 or …@sha256:…')
      .argument('<destination>', 'e.g. 127.0.0.1:5002/team/app:42')
      .option('--force', 'overwrite a destination tag that points at another digest')
      .option('--concurrency <n>', 'blobs transferred at the same time', '4')
      .option('--json', 'print one JSON document')
      .option('--events <format>', 'stream progress events (ndjson) on stderr'),
    ['vault'],
  ).action(
    run(async (c: RunContext<ImageFlags & { force?: boolean; concurrency: string }>, source: string, destination: string) => {
      const o = c.opts;
      const { copyImage, parseImageRef } = await import('../registry/index.js');
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new InputError([{ subject: `--concurrency ${JSON.stringify(o.concurrency)}`, message: 'expected an integer from 1 to 64' }]);
      }
      // Both references are checked before anything is contacted.
      const from = parseImageRef(source, 'source');
      const to = parseImageRef(destination, 'destination');
      const { registries } = await c.clients();
      const r = await copyImage(from, to, { clients: registries, force: o.force === true, concurrency, log: c.log });
      if (o.json === true) {
        c.out(`${JSON.stringify({ kind: 'hashiship.image.copy', ...r }, null, 2)}\n`);
        return;
      }
      const tag = r.tagged === undefined ? '' : `, tag ${r.tagged.tag} ${r.tagged.action}`;
      c.out(
        `${r.destination}\n  blobs: ${r.blobs.copied} copied (${r.bytes} bytes), ${r.blobs.mounted} mounted, ${r.blobs.skipped} already there; manifests: ${r.manifests.pushed} pushed, ${r.manifests.skipped} already there${tag}\n`,
      );
    }),
  );

  serverFlags(
    image
      .command('digest')
      .description('print the manifest digest a reference resolves to')
      .argument('<ref>', 'e.g. 127.0.0.1:5001/team/app:42')
      .option('--json', 'print one JSON document'),
    ['vault'],
  ).action(
    run(async (c: RunContext<ImageFlags>, ref: string) => {
      const { resolveDigest, parseImageRef, formatImageRef } = await import('../registry/index.js');
      const parsed = parseImageRef(ref);
      const digest = await resolveDigest(parsed, { clients: (await c.clients()).registries });
      if (c.opts.json === true) c.out(`${JSON.stringify({ kind: 'hashiship.image.digest', reference: formatImageRef(parsed), digest }, null, 2)}\n`);
      else c.out(`${digest}\n`);
    }),
  );
}

/**
 * Files named by flags (`deploy --plan`, `plan --job`, `secrets put --from-file`):
 * only regular files, bounded, UTF-8, never blocking. Regression: a FIFO hung each
 * of these commands and /dev/zero grew them to 600 MB before failing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { InputError } from '../../src/errors.js';
import { readInputFile, readInputStream } from '../../src/config/input-file.js';

const opts = { subject: '--plan="x"', maxBytes: 16, what: 'a plan' };

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return (e as InputError).message;
  }
  throw new Error('expected an InputError');
}

describe('input files named by flags', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hashiship-input-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a regular UTF-8 file', () => {
    writeFileSync(join(dir, 'ok'), '\ufeff{"a": "é"}');
    expect(readInputFile(join(dir, 'ok'), opts)).to.equal('{"a": "é"}');
  });

  it('refuses a FIFO without blocking, a device, a directory, a missing file', () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(refusal(() => readInputFile(join(dir, 'fifo'), opts))).to.equal('--plan="x": is a FIFO, not a regular file; give a file holding a plan');
    expect(refusal(() => readInputFile('/dev/zero', opts))).to.equal('--plan="x": is a device, not a regular file; give a file holding a plan');
    expect(refusal(() => readInputFile(dir, opts))).to.equal('--plan="x": is a directory; give a file holding a plan');
    expect(refusal(() => readInputFile(join(dir, 'missing'), opts))).to.equal('--plan="x": no such file');
  });

  it('refuses a file over the limit before reading it, and bytes that are not UTF-8', () => {
    writeFileSync(join(dir, 'big'), 'x'.repeat(17));
    expect(refusal(() => readInputFile(join(dir, 'big'), opts))).to.equal('--plan="x": is 17 bytes; a file holding a plan may have at most 16');
    writeFileSync(join(dir, 'latin1'), Buffer.from([0x7b, 0xe9, 0x7d]));
    expect(refusal(() => readInputFile(join(dir, 'latin1'), opts))).to.equal('--plan="x": is not UTF-8 text (expected a plan)');
  });

  it('reads standard input up to the limit only', async () => {
    expect(await readInputStream(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), opts)).to.equal('{"a":1}');
    // An endless stream (`< /dev/zero`) stops at the limit.
    const endless = Readable.from(
      (function* () {
        for (;;) yield Buffer.alloc(8);
      })(),
    );
    let message = '';
    await readInputStream(endless, opts).catch((e: unknown) => (message = (e as InputError).message));
    expect(message).to.equal('--plan="x": holds more than 16 bytes; a plan is smaller');
  });
});

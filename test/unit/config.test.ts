import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, SecretFileBytes, type Env } from '../../src/config/index.js';
import { InputError } from '../../src/errors.js';

const home = mkdtempSync(join(tmpdir(), 'hashiship-home-'));
const resolve = (env: Env, flags = {}, h = home) => resolveConfig({ env, flags, home: h });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).exitCode).to.equal(1);
    return (err as InputError).problems.map((p) => `${p.subject}: ${p.message}`);
  }
  throw new Error('expected an InputError');
}

describe('config: defaults → environment → flags', () => {
  it('uses the official defaults with an empty environment', () => {
    const c = resolve({});
    expect(c.nomad.address).to.equal('http://127.0.0.1:4646');
    expect(c.consul.address).to.equal('http://127.0.0.1:8500');
    expect(c.vault.address).to.equal('https://127.0.0.1:8200');
    expect(c.vault.tokenSource).to.equal('none');
    expect(c.nomad.tls.skipVerify).to.equal(false);
    expect(c.cacheDir).to.equal(join(home, '.cache', 'hashiship'));
  });

  it('reads the full Nomad set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const c = resolve({
      NOMAD_ADDR: 'https://nomad.example:4646',
      NOMAD_TOKEN: 'tok-nomad',
      NOMAD_REGION: 'eu',
      NOMAD_NAMESPACE: 'team-a',
      NOMAD_CACERT: join(dir, 'ca.pem'),
      NOMAD_CAPATH: dir,
      NOMAD_CLIENT_CERT: join(dir, 'cert.pem'),
      NOMAD_CLIENT_KEY: join(dir, 'key.pem'),
      NOMAD_TLS_SERVER_NAME: 'server.global.nomad',
      NOMAD_SKIP_VERIFY: 'true',
      NOMAD_HTTP_AUTH: 'ops:pa:ss',
    });
    expect(c.nomad).to.deep.equal({
      address: 'https://nomad.example:4646',
      token: 'tok-nomad',
      region: 'eu',
      namespace: 'team-a',
      httpAuth: { username: 'ops', password: 'pa:ss' },
      tls: {
        caCert: join(dir, 'ca.pem'),
        caPath: dir,
        clientCert: join(dir, 'cert.pem'),
        clientKey: join(dir, 'key.pem'),
        serverName: 'server.global.nomad',
        skipVerify: true,
      },
    });
  });

  it('reads the full Consul set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const c = resolve({
      CONSUL_HTTP_ADDR: 'consul.example:8501',
      CONSUL_HTTP_SSL: 'true',
      CONSUL_HTTP_SSL_VERIFY: 'false',
      CONSUL_HTTP_TOKEN: 'tok-consul',
      CONSUL_HTTP_AUTH: 'ops',
      CONSUL_CACERT: join(dir, 'ca.pem'),
      CONSUL_CAPATH: dir,
      CONSUL_CLIENT_CERT: join(dir, 'cert.pem'),
      CONSUL_CLIENT_KEY: join(dir, 'key.pem'),
      CONSUL_TLS_SERVER_NAME: 'consul.service',
      CONSUL_NAMESPACE: 'ns1',
    });
    expect(c.consul).to.deep.equal({
      address: 'https://consul.example:8501',
      scheme: 'https',
      host: 'consul.example',
      port: 8501,
      token: 'tok-consul',
      httpAuth: { username: 'ops', password: '' },
      namespace: 'ns1',
      tls: {
        caCert: join(dir, 'ca.pem'),
        caPath: dir,
        clientCert: join(dir, 'cert.pem'),
        clientKey: join(dir, 'key.pem'),
        serverName: 'consul.service',
        skipVerify: true,
      },
    });
  });

  it('reads the full Vault set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const c = resolve({
      VAULT_ADDR: 'https://vault.example:8200',
      VAULT_TOKEN: 'tok-vault',
      VAULT_NAMESPACE: 'admin',
      VAULT_CACERT: join(dir, 'ca.pem'),
      VAULT_CAPATH: dir,
      VAULT_CLIENT_CERT: join(dir, 'cert.pem'),
      VAULT_CLIENT_KEY: join(dir, 'key.pem'),
      VAULT_TLS_SERVER_NAME: 'vault.service',
      VAULT_SKIP_VERIFY: '1',
    });
    expect(c.vault).to.deep.equal({
      address: 'https://vault.example:8200',
      token: 'tok-vault',
      tokenSource: 'VAULT_TOKEN',
      namespace: 'admin',
      tls: {
        caCert: join(dir, 'ca.pem'),
        caPath: dir,
        clientCert: join(dir, 'cert.pem'),
        clientKey: join(dir, 'key.pem'),
        serverName: 'vault.service',
        skipVerify: true,
      },
    });
  });

  it('lets flags win over variables', () => {
    const c = resolve(
      { NOMAD_ADDR: 'http://a:1', NOMAD_TOKEN: 'env', CONSUL_HTTP_ADDR: 'b:2', VAULT_ADDR: 'http://c:3', VAULT_TOKEN: 'env' },
      {
        nomadAddr: 'http://x:4646',
        nomadToken: 'flag',
        consulAddr: 'https://y:8501',
        vaultAddr: 'http://z:8200',
        vaultToken: 'flag',
        nomadRegion: 'r',
        nomadNamespace: 'n',
        vaultNamespace: 'v',
      },
    );
    expect(c.nomad.address).to.equal('http://x:4646');
    expect(c.nomad.token).to.equal('flag');
    expect(c.nomad.region).to.equal('r');
    expect(c.nomad.namespace).to.equal('n');
    expect(c.consul.address).to.equal('https://y:8501');
    expect(c.vault.address).to.equal('http://z:8200');
    expect(c.vault.token).to.equal('flag');
    expect(c.vault.tokenSource).to.equal('flag');
    expect(c.vault.namespace).to.equal('v');
  });

  it('treats an empty variable as unset, like the official CLIs', () => {
    const c = resolve({ NOMAD_ADDR: '', NOMAD_TOKEN: '', VAULT_SKIP_VERIFY: '' });
    expect(c.nomad.address).to.equal('http://127.0.0.1:4646');
    expect(c.nomad.token).to.equal(undefined);
    expect(c.vault.tls.skipVerify).to.equal(false);
  });

  describe('booleans parse strictly (Go strconv.ParseBool)', () => {
    for (const v of ['false', '0', 'f', 'F', 'FALSE', 'False']) {
      it(`VAULT_SKIP_VERIFY=${v} keeps verification on`, () => {
        expect(resolve({ VAULT_SKIP_VERIFY: v }).vault.tls.skipVerify).to.equal(false);
      });
    }
    for (const v of ['true', '1', 't', 'T', 'TRUE', 'True']) {
      it(`NOMAD_SKIP_VERIFY=${v} turns verification off`, () => {
        expect(resolve({ NOMAD_SKIP_VERIFY: v }).nomad.tls.skipVerify).to.equal(true);
      });
    }
    it('rejects yes/no and names the variable', () => {
      expect(problems(() => resolve({ VAULT_SKIP_VERIFY: 'yes' }))).to.deep.equal(['VAULT_SKIP_VERIFY="yes": not a boolean (expected true or false, 1 or 0)']);
    });
    it('CONSUL_HTTP_SSL_VERIFY=0 skips verification, CONSUL_HTTP_SSL=1 picks https', () => {
      const c = resolve({ CONSUL_HTTP_SSL: '1', CONSUL_HTTP_SSL_VERIFY: '0' });
      expect(c.consul.scheme).to.equal('https');
      expect(c.consul.address).to.equal('https://127.0.0.1:8500');
      expect(c.consul.tls.skipVerify).to.equal(true);
    });
  });

  describe('tokens', () => {
    it('CONSUL_HTTP_TOKEN_FILE wins over CONSUL_HTTP_TOKEN', () => {
      const f = join(mkdtempSync(join(tmpdir(), 'hs-')), 'token');
      writeFileSync(f, 'from-file\n');
      const c = resolve({ CONSUL_HTTP_TOKEN: 'from-env', CONSUL_HTTP_TOKEN_FILE: f });
      expect(c.consul.token).to.equal('from-file');
    });
    it('a missing CONSUL_HTTP_TOKEN_FILE is an error naming it', () => {
      expect(problems(() => resolve({ CONSUL_HTTP_TOKEN_FILE: '/nonexistent/token' }))).to.deep.equal([
        'CONSUL_HTTP_TOKEN_FILE="/nonexistent/token": no such file or directory',
      ]);
    });
    it('reads ~/.vault-token when VAULT_TOKEN is unset', () => {
      const h = mkdtempSync(join(tmpdir(), 'hs-home-'));
      writeFileSync(join(h, '.vault-token'), 's.fromfile\n');
      const c = resolve({}, {}, h);
      expect(c.vault.token).to.equal('s.fromfile');
      expect(c.vault.tokenSource).to.equal('~/.vault-token');
    });
    it('VAULT_TOKEN wins over ~/.vault-token', () => {
      const h = mkdtempSync(join(tmpdir(), 'hs-home-'));
      writeFileSync(join(h, '.vault-token'), 's.fromfile\n');
      const c = resolve({ VAULT_TOKEN: 's.fromenv' }, {}, h);
      expect(c.vault.token).to.equal('s.fromenv');
      expect(c.vault.tokenSource).to.equal('VAULT_TOKEN');
    });

    // Regression: a token file that is a FIFO or /dev/zero hung every command (readFileSync blocks or never ends).
    it('reads token files only when they are regular files of bounded size, naming the variable', function () {
      this.timeout(10_000);
      const d = mkdtempSync(join(tmpdir(), 'hs-'));
      const fifo = join(d, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const big = join(d, 'big');
      writeFileSync(big, 'x'.repeat(SecretFileBytes + 1));
      expect(problems(() => resolve({ CONSUL_HTTP_TOKEN_FILE: fifo }))).to.deep.equal([
        `CONSUL_HTTP_TOKEN_FILE="${fifo}": is a FIFO; give a file holding the token`,
      ]);
      expect(problems(() => resolve({ CONSUL_HTTP_TOKEN_FILE: '/dev/zero' }))).to.deep.equal([
        'CONSUL_HTTP_TOKEN_FILE="/dev/zero": is not a regular file; give a file holding the token',
      ]);
      expect(problems(() => resolve({ VAULT_ROLE_ID_FILE: '/dev/zero', VAULT_SECRET_ID_FILE: big }))).to.deep.equal([
        'VAULT_ROLE_ID_FILE="/dev/zero": is not a regular file; give a file holding the token',
        `VAULT_SECRET_ID_FILE="${big}": is ${SecretFileBytes + 1} bytes; a token file holds at most ${SecretFileBytes} bytes`,
      ]);
      const h = mkdtempSync(join(tmpdir(), 'hs-home-'));
      execFileSync('mkfifo', [join(h, '.vault-token')]);
      expect(problems(() => resolve({}, {}, h))).to.deep.equal([`~/.vault-token ("${join(h, '.vault-token')}"): is a FIFO; give a file holding the token`]);
    });

    it('refuses a token with a control character, a space or a line break, never showing it', () => {
      const f = join(mkdtempSync(join(tmpdir(), 'hs-')), 'token');
      writeFileSync(f, 'abc\ndef-S3CRET\n');
      const got = problems(() => resolve({ VAULT_TOKEN: 'hvs.x\u001b[2J-S3CRET', NOMAD_TOKEN: 'a b-S3CRET', CONSUL_HTTP_TOKEN_FILE: f }));
      expect(got).to.deep.equal([
        'NOMAD_TOKEN (value not shown): holds a space (U+0020) at character 2; a token is printable ASCII without spaces',
        `CONSUL_HTTP_TOKEN_FILE="${f}": the token in it (not shown) holds a control character (U+000A) at character 4; a token is printable ASCII without spaces`,
        'VAULT_TOKEN (value not shown): holds a control character (U+001B) at character 6; a token is printable ASCII without spaces',
      ]);
      expect(got.join('\n')).not.to.include('S3CRET');
      expect(problems(() => resolve({}, { nomadToken: 'tok\r' }))).to.deep.equal([
        '--nomad-token (value not shown): holds a control character (U+000D) at character 4; a token is printable ASCII without spaces',
      ]);
    });
  });

  // Regression: these went to the servers as given (a header with a line break failed as "Invalid character in
  // header content", exit 2; the URL parser dropped the line break of `http://x\n` silently).
  describe('values sent in a request are checked first', () => {
    it('refuses control characters in addresses, namespaces, regions, server names and credentials', () => {
      expect(
        problems(() =>
          resolve({
            NOMAD_ADDR: 'http://127.0.0.1:4646\n',
            NOMAD_REGION: 'g\u001b',
            CONSUL_HTTP_ADDR: '127.0.0.1\t:8500',
            CONSUL_NAMESPACE: 'a\rb',
            VAULT_NAMESPACE: 'a\nb',
            VAULT_TLS_SERVER_NAME: 'v\u0000',
            NOMAD_HTTP_AUTH: 'user:pa\nss-S3CRET',
            HASHISHIP_REGISTRY_QA: 'http://x\n',
            HASHISHIP_REGISTRY_QA_PASSWORD: 'p\u0007-S3CRET',
          }),
        ),
      ).to.deep.equal([
        'NOMAD_ADDR="http://127.0.0.1:4646\\n": not a URL: it holds a space or a control character',
        'NOMAD_REGION="g\\u001b": holds a control character; it is sent in a request header',
        'NOMAD_HTTP_AUTH (value not shown): holds a control character (U+000A) at character 8; it is sent in a request header',
        'CONSUL_HTTP_ADDR="127.0.0.1\\t:8500": not an address (expected host:port or http(s)://host:port)',
        'CONSUL_NAMESPACE="a\\rb": holds a control character; it is sent in a request header',
        'VAULT_NAMESPACE="a\\nb": holds a control character; it is sent in a request header',
        'VAULT_TLS_SERVER_NAME="v\\u0000": holds a control character; it is sent in a request header',
        'HASHISHIP_REGISTRY_QA="http://x\\n": not a URL: it holds a space or a control character',
        'HASHISHIP_REGISTRY_QA_PASSWORD (value not shown): holds a control character (U+0007) at character 2; it is sent in a request header',
      ]);
    });

    it('NOMAD_NAMESPACE and --nomad-namespace are Nomad namespace names or *', () => {
      expect(problems(() => resolve({ NOMAD_NAMESPACE: '../x' }))).to.deep.equal([
        'NOMAD_NAMESPACE="../x": not a Nomad namespace (letters, digits and dashes, at most 128, or *)',
      ]);
      expect(problems(() => resolve({}, { nomadNamespace: 'a b' }))).to.deep.equal([
        '--nomad-namespace="a b": not a Nomad namespace (letters, digits and dashes, at most 128, or *)',
      ]);
      expect(resolve({ NOMAD_NAMESPACE: '*' }).nomad.namespace).to.equal('*');
      expect(resolve({ NOMAD_NAMESPACE: 'Team-1' }).nomad.namespace).to.equal('Team-1');
    });
  });

  describe('addresses', () => {
    it('rejects a NOMAD_ADDR that is not a URL, naming it', () => {
      expect(problems(() => resolve({ NOMAD_ADDR: 'localhost:46x6' }))).to.deep.equal([
        'NOMAD_ADDR="localhost:46x6": not a URL (expected http://host:port or https://host:port)',
      ]);
    });
    it('rejects a VAULT_ADDR with a non-numeric port and a bad flag by its flag name', () => {
      expect(problems(() => resolve({ VAULT_ADDR: 'http://vault:82x0' }, { nomadAddr: 'ftp://x' }))).to.deep.equal([
        '--nomad-addr="ftp://x": not a URL: scheme "ftp" (expected http or https)',
        'VAULT_ADDR="http://vault:82x0": not a URL (expected http://host:port or https://host:port)',
      ]);
    });
    it('accepts CONSUL_HTTP_ADDR as host:port, with a scheme, or IPv6', () => {
      expect(resolve({ CONSUL_HTTP_ADDR: '10.0.0.1:8500' }).consul.address).to.equal('http://10.0.0.1:8500');
      expect(resolve({ CONSUL_HTTP_ADDR: 'https://c:8501' }).consul.scheme).to.equal('https');
      expect(resolve({ CONSUL_HTTP_ADDR: '[::1]:8500' }).consul.host).to.equal('[::1]');
    });
    it('rejects a bad CONSUL_HTTP_ADDR', () => {
      expect(problems(() => resolve({ CONSUL_HTTP_ADDR: 'consul:85x0' }))).to.deep.equal([
        'CONSUL_HTTP_ADDR="consul:85x0": not an address (expected host:port or http(s)://host:port)',
      ]);
    });
    it('collects every problem in one error', () => {
      const p = problems(() => resolve({ NOMAD_ADDR: 'nope', CONSUL_HTTP_SSL: 'maybe', NOMAD_CACERT: '/nonexistent/ca.pem', VAULT_CAPATH: '/nonexistent' }));
      expect(p).to.have.length(4);
      expect(p.join('\n')).to.include('NOMAD_CACERT="/nonexistent/ca.pem": no such file or directory');
      expect(p.join('\n')).to.include('VAULT_CAPATH="/nonexistent": no such file or directory');
    });
    it('never puts a token into a message', () => {
      try {
        resolve({ NOMAD_ADDR: 'bad', NOMAD_TOKEN: 'secret-token-123', VAULT_TOKEN: 'secret-vault-456' });
        expect.fail('expected an error');
      } catch (err) {
        const text = (err as InputError).describe();
        expect(text).not.to.include('secret-token-123');
        expect(text).not.to.include('secret-vault-456');
      }
    });
    it('reads named registries', () => {
      const c = resolve({
        HASHISHIP_REGISTRY_QA: 'http://127.0.0.1:5001',
        HASHISHIP_REGISTRY_PRODUCTION: 'https://registry.example',
        HASHISHIP_REGISTRY_PRODUCTION_USERNAME: 'ci',
        HASHISHIP_REGISTRY_PRODUCTION_PASSWORD: 'pw',
      });
      expect(c.registries).to.deep.equal({
        production: { url: 'https://registry.example', username: 'ci', password: 'pw' },
        qa: { url: 'http://127.0.0.1:5001' },
      });
    });
    it('checks that a CA path is a directory', () => {
      const f = join(mkdtempSync(join(tmpdir(), 'hs-')), 'file');
      writeFileSync(f, 'x');
      mkdirSync(join(tmpdir(), 'hs-dir-ok'), { recursive: true });
      expect(problems(() => resolve({ NOMAD_CAPATH: f }))).to.deep.equal([`NOMAD_CAPATH=${JSON.stringify(f)}: not a directory`]);
    });
  });

  describe('fabio, log level and value/_FILE pairs', () => {
    it('reads Fabio from HASHISHIP_FABIO_ADDR / _PROXY, flags winning, each checked as a URL by name', () => {
      expect(resolve({}).fabio).to.deep.equal({ api: 'http://127.0.0.1:9998', proxy: 'http://127.0.0.1:9999' });
      expect(resolve({ HASHISHIP_FABIO_ADDR: 'http://f:1', HASHISHIP_FABIO_PROXY: 'http://f:2' }, { fabioAddr: 'http://g:1' }).fabio).to.deep.equal({
        api: 'http://g:1',
        proxy: 'http://f:2',
      });
      expect(problems(() => resolve({ HASHISHIP_FABIO_ADDR: 'fabio:9998' }, { fabioProxy: 'x' }))).to.deep.equal([
        'HASHISHIP_FABIO_ADDR="fabio:9998": not a URL (expected http://host:port or https://host:port)',
        '--fabio-proxy="x": not a URL (expected http://host:port or https://host:port)',
      ]);
    });
    it('reads HASHISHIP_LOG: info (default) or debug, anything else named', () => {
      expect(resolve({}).logLevel).to.equal('info');
      expect(resolve({ HASHISHIP_LOG: 'debug' }).logLevel).to.equal('debug');
      expect(problems(() => resolve({ HASHISHIP_LOG: 'verbose' }))).to.deep.equal(['HASHISHIP_LOG="verbose": expected debug or info']);
    });
    it('refuses a value and its _FILE together even when VAULT_TOKEN makes the login unused', () => {
      expect(
        problems(() =>
          resolve({ VAULT_TOKEN: 't', VAULT_SECRET_ID: 's', VAULT_SECRET_ID_FILE: '/etc/hostname', VAULT_JWT: 'j', VAULT_JWT_FILE: '/etc/hostname' }),
        ),
      ).to.deep.equal([
        'VAULT_SECRET_ID_FILE: set both VAULT_SECRET_ID and VAULT_SECRET_ID_FILE; keep one',
        'VAULT_JWT_FILE: set both VAULT_JWT and VAULT_JWT_FILE; keep one',
      ]);
    });
  });
});

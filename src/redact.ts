/**
 * Redaction: every printing path (the CLI's text, `--json`, `--out`, events and
 * errors; the zx scripts' own messages) goes through it. Three rules:
 *
 * 1. A value under a secret-like name (`token`, `secret`, `password`, `auth`,
 *    `api_key`, `private_key`, `credentials`, …; e.g. `Env[DB_PASSWORD]`,
 *    `Config[auth]`, `GetterOptions[token]`) is replaced whole.
 * 2. Inside a template, the literal text under a secret reference
 *    (`{{ with secret "…" }}…{{ end }}`, `{{ with nomadVar "…" }}…{{ end }}`) is
 *    replaced, keeping the template actions and `NAME=` prefixes readable.
 * 3. Anything token-like anywhere (Vault, Nomad/Consul ACL secret IDs given as
 *    known secrets, JWTs, cloud keys, PEM private keys, URL passwords,
 *    `Bearer …`) and every known secret value (the configured tokens).
 */
import type { HashishipConfig } from './config/index.js';
import { Redactor } from './log.js';

/** What replaces a secret. */
export const REDACTED = '<redacted>';

const SECRET_SEGMENT =
  /(token|secret|passw(or)?d|passphrase|^pwd$|credential|private[_-]?key|api[_-]?key|access[_-]?key|client[_-]?key|signing[_-]?key|encrypt(ion)?[_-]?key|authorization|cookie|^auth$|[_-]auth$|^auth[_-])/i;

/**
 * True when a field or key name says its value is a secret: any segment of a
 * dotted or flattened name (`Env[DB_PASSWORD]`, `Config.auth[0][username]`,
 * `GetterOptions[token]`) is secret-like.
 */
export function isSecretName(name: string): boolean {
  return name.split(/[.[\]]+/).some((seg) => seg !== '' && SECRET_SEGMENT.test(seg));
}

const TOKEN_PATTERNS: readonly RegExp[] = [
  /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/g, // Vault service, batch and recovery tokens
  /\bs\.[A-Za-z0-9]{24}\b/g, // legacy Vault tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWTs
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key IDs
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab tokens
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** Replace token-like substrings (rule 3, without known secrets). */
export function redactTokens(text: string): string {
  let out = text;
  for (const re of TOKEN_PATTERNS) out = out.replace(re, REDACTED);
  // URL userinfo passwords: scheme://user:password@host
  out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):([^@\s/]+)@/gi, `$1:${REDACTED}@`);
  // Authorization headers and bearer tokens.
  out = out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`);
  // `token=…`, `password: …` pairs inside free text (log lines, check output).
  out = out.replace(
    /\b([A-Za-z0-9_.-]*(token|secret|passw(or)?d|api[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)/gi,
    // `CONSUL_HTTP_TOKEN_FILE=/path`: a path names where a secret is, it is none; `vault: token.lookup-self: cannot
    // connect` names an operation, not a value.
    (m: string, name: string, _a, _b, sep: string) =>
      /[_-](file|path|dir)$/i.test(name) || /^[a-z]+\.(create|read|write|list|delete|login|[a-z]+-self)$/.test(name) ? m : `${name}${sep}${REDACTED}`,
  );
  return out;
}

const SECRET_BLOCK = /\{\{-?\s*with\s+(secret|nomadVar)\b[\s\S]*?\{\{-?\s*end\s*-?\}\}/g;

/**
 * Rule 2: inside `{{ with secret … }} … {{ end }}` blocks, keep the actions
 * (`{{ … }}`) and `NAME=` / `name:` prefixes; replace any other literal text.
 */
export function redactTemplate(text: string): string {
  return text.replace(SECRET_BLOCK, (block) =>
    block.replace(/(\}\})([^{]+?)(?=\{\{|$)/g, (_m, close: string, literal: string) => `${close}${redactLiteral(literal)}`),
  );
}

function redactLiteral(literal: string): string {
  return literal
    .split('\n')
    .map((line) => {
      if (line.trim() === '') return line;
      // `KEY=` or `key: ` alone is structure, not a value.
      if (/^\s*[A-Za-z_][A-Za-z0-9_.-]*\s*[=:]\s*$/.test(line)) return line;
      const m = /^(\s*[A-Za-z_][A-Za-z0-9_.-]*\s*[=:]\s*)(.+)$/.exec(line);
      return m === null ? REDACTED : `${m[1]}${REDACTED}`;
    })
    .join('\n');
}

/**
 * Redacts values: known secrets (the configured tokens) and token-like text,
 * with field-name and template awareness for structured input.
 */
export class OutputRedactor {
  readonly #known = new Redactor();

  constructor(knownSecrets: readonly (string | undefined)[] = []) {
    this.#known.add(...knownSecrets);
  }

  /** Add known secret values (tokens from the configuration). */
  add(...values: readonly (string | undefined)[]): this {
    this.#known.add(...values);
    return this;
  }

  /** Free text: known secrets only (for output whose shape must not change, e.g. rendered jobs). */
  known(s: string): string {
    return this.#known.redact(s);
  }

  /** Free text: known secrets and token-like substrings. */
  text(s: string): string {
    return redactTokens(this.#known.redact(s));
  }

  /** A named value: replaced whole under a secret-like name; templates keep their actions. */
  value(name: string, value: string): string {
    if (value === '') return value;
    if (isSecretName(name)) return REDACTED;
    const v = /EmbeddedTmpl|\bdata\b/i.test(name) || value.includes('{{') ? redactTemplate(value) : value;
    return this.text(v);
  }

  /**
   * A JSON-like value, recursively: strings under secret-like keys are
   * replaced, all other strings pass through {@link OutputRedactor.value}.
   */
  deep<T>(v: T, name = ''): T {
    if (typeof v === 'string') return this.value(name, v) as T;
    if (Array.isArray(v)) return v.map((x) => this.deep(x, name)) as T;
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      // A diff entry carries its name beside Old/New: use it for the values.
      const entryName = typeof o['Name'] === 'string' ? `${name}.${o['Name']}` : name;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        const childName = k === 'Old' || k === 'New' ? entryName : k === 'Name' || k === 'Type' ? '' : `${name}.${k}`;
        out[k] = isSecretName(k) && typeof x !== 'object' ? REDACTED : this.deep(x, childName);
      }
      return out as T;
    }
    return v;
  }
}

/**
 * A redactor for the secrets in an environment, usable before (or without) a
 * resolved configuration: every `*_TOKEN`, `*_PASSWORD`, `*_SECRET`, `*_SECRET_ID`, `*_ROLE_ID`, `*_JWT` variable and the
 * password of every `*_AUTH` (`user:password`) one.
 */
export function redactorFromEnv(env: Readonly<Record<string, string | undefined>>): OutputRedactor {
  const values = Object.entries(env).flatMap(([k, v]) => {
    if (v === undefined || v === '') return [];
    if (/(_TOKEN|_PASSWORD|_SECRET|_SECRET_ID|_ROLE_ID|_JWT)$/.test(k)) return [v];
    // `user:password`: the password is the secret.
    if (/_AUTH$/.test(k)) return v.includes(':') ? [v, v.slice(v.indexOf(':') + 1)] : [v];
    return [];
  });
  return new OutputRedactor(values);
}

/** The secrets of a resolved configuration, for the redactor. */
export function configSecrets(c: HashishipConfig): (string | undefined)[] {
  const auth = c.vault.auth;
  return [
    c.nomad.token,
    c.nomad.httpAuth?.password,
    c.consul.token,
    c.consul.httpAuth?.password,
    c.vault.token,
    ...(auth === undefined ? [] : auth.method === 'approle' ? [auth.roleId, auth.secretId] : [auth.jwt]),
    ...Object.values(c.registries).map((r) => r.password),
  ];
}

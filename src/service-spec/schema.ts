/**
 * The spec format: `jobs/services/*.yaml` (one service each) and
 * `jobs/environments/<env>.yaml` (overrides per environment). Key names follow
 * Nomad's HCL where Nomad has the concept, so operators read them without a
 * dictionary. The TypeScript shapes are in types.ts.
 */
import type { AnySchema, ArraySchema, BooleanSchema, IntegerSchema, MapSchema, NumberSchema, ObjectSchema, Schema, StringSchema } from './dsl.js';

// ── building blocks ────────────────────────────────────────────────────────

const str = (description: string, extra: Omit<StringSchema, 'type' | 'description'> = {}): StringSchema => ({
  type: 'string',
  description,
  ...extra,
});
const int = (description: string, extra: Omit<IntegerSchema, 'type' | 'description'> = {}): IntegerSchema => ({
  type: 'integer',
  description,
  ...extra,
});
const num = (description: string, extra: Omit<NumberSchema, 'type' | 'description'> = {}): NumberSchema => ({
  type: 'number',
  description,
  ...extra,
});
const bool = (description: string, dflt?: boolean): BooleanSchema =>
  dflt === undefined ? { type: 'boolean', description } : { type: 'boolean', description, default: dflt };
const obj = (description: string, properties: Record<string, Schema>, required: readonly string[] = []): ObjectSchema => ({
  type: 'object',
  description,
  properties,
  required,
});
const list = (description: string, items: Schema, minItems?: number): ArraySchema =>
  minItems === undefined ? { type: 'array', description, items } : { type: 'array', description, items, minItems };
const map = (description: string, keyPattern: RegExp, keyHint: string, values: Schema): MapSchema => ({
  type: 'map',
  description,
  keyPattern,
  keyHint,
  values,
});
const duration = (description: string, dflt?: string): StringSchema =>
  dflt === undefined ? str(description, { format: 'duration' }) : str(description, { format: 'duration', default: dflt });

/** Bounds that no real node reaches: a larger number is a typo (an extra zero, MB for KB). */
const MAX_COUNT = 10_000;
const MAX_CPU_MHZ = 1_000_000;
const MAX_MEMORY_MB = 4_194_304;
const MAX_DISK_MB = 16_777_216;

// ── names and formats ──────────────────────────────────────────────────────

/** A Nomad job ID that is also a DNS-safe Consul service name. */
export const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NAME_HINT =
  'use lower-case letters, digits and dashes, at most 63 characters, starting and ending with a letter or digit (a Nomad job ID and a DNS-safe Consul name)';
const PART = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
const PART_HINT = 'use lower-case letters, digits, dashes and underscores, at most 63 characters';
/** An environment name (the environment file's `name`; also checked on the command line before any request). */
export const ENVIRONMENT_NAME = PART;
export const ENVIRONMENT_NAME_HINT = PART_HINT;
/** A port label as Nomad takes it (`http`, `HTTP`, `http-admin`); it becomes NOMAD_PORT_<label>. */
export const PORT_LABEL = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PORT_HINT = 'use letters, digits, underscores and dashes, starting with a letter (it becomes NOMAD_PORT_<label>)';
/** A group or task name as jobs name them (`web`, `Server`, `Web.Frontend`): no slash, no space, at most 63 characters. */
const UNIT = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const UNIT_HINT = 'use letters, digits, dots, dashes and underscores, at most 63 characters, starting and ending with a letter or digit';
export const META_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const META_HINT = 'use letters, digits, dashes and underscores, starting with a letter or underscore';
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A task driver's name as plugins register it (`raw_exec`, `podman`, `exec2`, `containerd-driver`). */
const DRIVER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ENV_HINT = 'use letters, digits and underscores, not starting with a digit';
const DATACENTER = /^[A-Za-z0-9*][A-Za-z0-9_.*-]*$/;
const REGION = /^[a-z0-9][a-z0-9_-]*$/;
const NAMESPACE = /^[a-zA-Z0-9-]{1,128}$/;
const HOST_PORT = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?$/;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ROUTE_HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/;
const KV_KEY = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;
const VAULT_PATH = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+$/;
const VAULT_KEY = /^[A-Za-z0-9_.-]+$/;
const PARAM_NAME = /^[a-z][a-z0-9_]*$/;
const PARAM_VALUE = /^[^\n\r"\\{}]+$/;
const TASK_PATH_HINT = 'use a relative path under local/, secrets/ or alloc/ without spaces or quotes';
const SIGNAL = /^SIG[A-Z0-9+]+$/;
const TIME_ZONE = /^(?:UTC|Local|[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)+)$/;
const LABEL_VALUE = /^[A-Za-z0-9_.-]+$/;
const ATTRIBUTE = /^\$\{[a-z]+\.[^{}\s]+\}$/;
const VAULT_ROLE = /^[A-Za-z0-9_.-]+$/;

// ── names and paths Nomad accepts beyond hashiship's first choices (issue 12) ──

/** A Nomad job ID: a DNS-safe name, or dotted (`billing.api`) or with underscores (`node_exporter`); its services then name themselves. */
export const JOB_ID = /^(?=.{1,128}$)[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$/;
const JOB_ID_HINT = `${NAME_HINT}, or dot-separated parts of that form that may hold underscores (a job ID such as \`billing.api\` or \`node_exporter\`, at most 128 characters, whose services then need a \`name\`)`;
/** A Consul service name, optionally with Nomad's service interpolations `${JOB}`, `${TASKGROUP}`, `${TASK}`, `${BASE}`. */
export const SERVICE_NAME = /^(?:[a-z0-9-]|\$\{(?:JOB|TASKGROUP|TASK|BASE)\})+$/;
const SERVICE_NAME_HINT =
  "use lower-case letters, digits and dashes, and Nomad's ${JOB}, ${TASKGROUP}, ${TASK} or ${BASE}; the expanded name must be DNS-safe (at most 63 characters)";
/** A port label, or a port number (with `address_mode: alloc`). */
const SERVICE_PORT = /^(?:[A-Za-z][A-Za-z0-9_-]{0,62}|[1-9][0-9]{0,4})$/;
const SERVICE_PORT_HINT = `${PORT_HINT}, or a port number`;
/** A file in the task directory: relative (`local/…`, `secrets/…`, `alloc/…`) or through `${NOMAD_TASK_DIR}`, `${NOMAD_SECRETS_DIR}`, `${NOMAD_ALLOC_DIR}`. */
const TASK_FILE = /^(?:local|secrets|alloc|\$\{NOMAD_(?:TASK|SECRETS|ALLOC)_DIR\})\/[^\s"'\\]+$/;
const TASK_FILE_HINT = `${TASK_PATH_HINT} (or one starting with \${NOMAD_TASK_DIR}/, \${NOMAD_SECRETS_DIR}/ or \${NOMAD_ALLOC_DIR}/)`;
/** An artifact destination: a directory or file in the task directory, `local` and `local/` included. */
const TASK_DEST = /^(?:local|secrets|alloc|\$\{NOMAD_(?:TASK|SECRETS|ALLOC)_DIR\})(?:\/[^\s"'\\]*)?$/;
const TASK_DEST_HINT =
  'use local, local/ or a path under local/, secrets/ or alloc/ (or the ${NOMAD_TASK_DIR}, ${NOMAD_SECRETS_DIR}, ${NOMAD_ALLOC_DIR} forms) without spaces or quotes';
/** The escape hatch: raw Nomad API fields merged into the rendered job, group or task. */
const nomadRaw = (level: 'Job' | 'TaskGroup' | 'Task'): AnySchema => ({
  type: 'any',
  description: `Raw Nomad API fields (PascalCase, as in /v1/job) deep-merged into the rendered ${level} after rendering; checked against Nomad's api.${level} (jobs/schema/nomad-api.schema.json).`,
  ref: `nomad-api.schema.json#/definitions/${level}`,
});

/** The reason given for an opt-out of a deliberate policy. */
const REASON = str('Why the policy does not apply here (kept in the spec for reviewers).', { pattern: /\S/, hint: 'write a reason' });

/** The constraint and affinity operators Nomad knows (the import reads them back too). */
export const OPERATORS = [
  '=',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  'distinct_hosts',
  'distinct_property',
  'regexp',
  'set_contains',
  'set_contains_all',
  'set_contains_any',
  'version',
  'semver',
  'is_set',
  'is_not_set',
] as const;

const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const HEADER_VALUE = /^[^\n\r]*$/;
const ON_UPDATE = ['require_healthy', 'ignore_warnings', 'ignore'] as const;
const ON_UPDATE_HINT =
  'how the check counts during a deployment: `require_healthy` (it must pass), `ignore_warnings` (warning passes), `ignore` (not counted).';
/** A docker volume `source:target[:options]`. */
const DOCKER_VOLUME = /^[^\s:"'\\]+:\/[^\s:"'\\]*(?::[a-zA-Z,]+)?$/;
const CAPABILITY = /^(?:ALL|all|(?:CAP_)?[A-Za-z_]+)$/;
const ABS_PATH = /^\/[^\s"'\\]*$/;
const ABS_PATH_HINT = 'write an absolute path without spaces or quotes';
/** A host name, or one built from Nomad interpolations (`${attr.unique.hostname}`, `${NOMAD_ALLOC_INDEX}`). */
const HOSTNAME = /^(?=.{1,253}$)(?:[A-Za-z0-9]|\$\{[A-Za-z_][A-Za-z0-9_.]*\})(?:[A-Za-z0-9.-]|\$\{[A-Za-z_][A-Za-z0-9_.]*\})*$/;
const ULIMIT = /^(?:-1|\d+)(?::(?:-1|\d+))?$/;
const SYSCTL_KEY = /^[a-z0-9_]+(?:[./][a-z0-9_-]+)+$/;
/** `host:IP`, Docker's `host:host-gateway` (the host's address), or an IP Nomad interpolates (`${attr.unique.network.ip-address}`). */
const EXTRA_HOST = /^[A-Za-z0-9.-]+:(?:[0-9A-Fa-f.:]+|host-gateway|\$\{[A-Za-z0-9_.-]+\})$/;
/** A key of a map written as HCL block attributes: an HCL identifier. */
const HCL_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const HCL_KEY_HINT = 'use letters, digits, dashes and underscores, starting with a letter or underscore';

// ── shared parts ───────────────────────────────────────────────────────────

const meta = (what: string): MapSchema => map(`${what}: string keys and values.`, META_KEY, META_HINT, str('A meta value (any text).'));

const constraint = obj('A placement constraint (Nomad `constraint`).', {
  attribute: str('The node attribute, e.g. `${attr.kernel.name}` or `${meta.rack}`.', {
    pattern: ATTRIBUTE,
    hint: 'write a node attribute in interpolation form, e.g. ${attr.kernel.name}',
  }),
  operator: str('Comparison operator.', { enum: OPERATORS, default: '=' }),
  value: str('The value to compare with.'),
});

const DEVICE_ATTRIBUTE = /^\$\{device\.[^{}\s]+\}$/;
const DEVICE_ATTRIBUTE_HINT = 'write a device attribute such as ${device.attr.memory} or ${device.model}';
const deviceConstraint = obj(
  'A device constraint.',
  {
    attribute: str('The device attribute.', { pattern: DEVICE_ATTRIBUTE, hint: DEVICE_ATTRIBUTE_HINT }),
    operator: str('Comparison operator.', { enum: OPERATORS, default: '=' }),
    value: str('The value to compare with (units allowed: `4 GiB`).'),
  },
  ['attribute'],
);
const deviceAffinity = obj(
  'A device preference.',
  {
    attribute: str('The device attribute.', { pattern: DEVICE_ATTRIBUTE, hint: DEVICE_ATTRIBUTE_HINT }),
    operator: str('Comparison operator.', { enum: OPERATORS, default: '=' }),
    value: str('The value to compare with.'),
    weight: int('Preference from -100 to 100; not 0.', { minimum: -100, maximum: 100, default: 50 }),
  },
  ['attribute', 'value'],
);

const affinity = obj(
  'A placement preference (Nomad `affinity`).',
  {
    attribute: str('The node attribute, e.g. `${node.class}`.', {
      pattern: ATTRIBUTE,
      hint: 'write a node attribute in interpolation form, e.g. ${node.class}',
    }),
    operator: str('Comparison operator.', { enum: OPERATORS, default: '=' }),
    value: str('The value to compare with.'),
    weight: int('Preference from -100 (avoid) to 100 (prefer); not 0.', { minimum: -100, maximum: 100, default: 50 }),
  },
  ['attribute', 'value'],
);

const spread = obj(
  'Spread allocations over the values of an attribute (Nomad `spread`).',
  {
    attribute: str('The node attribute, e.g. `${node.datacenter}`.', {
      pattern: ATTRIBUTE,
      hint: 'write a node attribute in interpolation form, e.g. ${node.datacenter}',
    }),
    weight: int('Weight of this spread against others, 0–100.', { minimum: 0, maximum: 100, default: 50 }),
    targets: map(
      'Target percentages by attribute value; values not listed share the rest.',
      LABEL_VALUE,
      'use letters, digits, dots, dashes and underscores',
      int('Percent of allocations for this value.', { minimum: 0, maximum: 100 }),
    ),
  },
  ['attribute'],
);

const UPDATE_FIELDS = {
  max_parallel: int('Allocations updated at once.', { minimum: 0, maximum: MAX_COUNT, default: 1 }),
  canary: int('Canaries placed before the old version is replaced; 0 means a rolling update.', { minimum: 0, maximum: MAX_COUNT, default: 0 }),
  health_check: str('How allocation health is judged.', { enum: ['checks', 'task_states', 'manual'], default: 'checks' }),
  min_healthy_time: duration('How long an allocation must stay healthy.', '10s'),
  healthy_deadline: duration('Deadline for an allocation to become healthy.', '5m'),
  progress_deadline: duration('Deadline for the deployment to make progress; 0 disables it.', '10m'),
  auto_revert: bool('Revert to the last stable version when the deployment fails.', true),
  auto_promote: bool('Promote canaries automatically once all are healthy.', false),
  stagger: duration(
    "Deprecated by Nomad 1.11, whose scheduler no longer reads it (its source calls it equivalent to `min_healthy_time`); kept so jobs that set it round-trip. Unset: Nomad's 30s.",
    '30s',
  ),
} as const;

const update = obj('Rollout strategy (Nomad `update`): rolling, or canary when `canary` > 0.', UPDATE_FIELDS);

const jobUpdate = obj(
  "The job's `update` block (Nomad's job-level `update`): the default of every group's `update`, field by field; a group's own `update` fields win.",
  UPDATE_FIELDS,
);

const restart = obj('Restart policy for tasks on the same node (Nomad `restart`).', {
  attempts: int('Restarts allowed within `interval`.', { minimum: 0 }),
  interval: duration('Window in which `attempts` are counted.'),
  delay: duration('Wait before restarting.'),
  mode: str('What to do when attempts are exhausted.', { enum: ['fail', 'delay'] }),
});

const reschedule = obj('Rescheduling of failed allocations onto other nodes (Nomad `reschedule`).', {
  attempts: int('Reschedules allowed within `interval`.', { minimum: 0 }),
  interval: duration('Window in which `attempts` are counted.'),
  delay: duration('Initial wait before rescheduling.'),
  delay_function: str('How the delay grows.', { enum: ['constant', 'exponential', 'fibonacci'] }),
  max_delay: duration('Upper bound of the delay.'),
  unlimited: bool('Reschedule without limit.'),
});

const MIGRATE_FIELDS = {
  max_parallel: int('Allocations migrated at once.', { minimum: 1, maximum: MAX_COUNT }),
  health_check: str('How health is judged.', { enum: ['checks', 'task_states'] }),
  min_healthy_time: duration('How long a migrated allocation must stay healthy.'),
  healthy_deadline: duration('Deadline for a migrated allocation to become healthy.'),
};

const migrate = obj('How allocations move off draining nodes (Nomad `migrate`).', MIGRATE_FIELDS);

const jobMigrate = obj(
  "The job's `migrate` block (Nomad's job-level `migrate`, service jobs): the default of every group's `migrate`, field by field; a group's own `migrate` fields win.",
  MIGRATE_FIELDS,
);

const RESOURCE_FIELDS = {
  cpu: int('CPU in MHz (not with `cores`).', { minimum: 1, maximum: MAX_CPU_MHZ, default: 100 }),
  cores: int('Whole CPU cores reserved for the task alone (instead of `cpu`).', { minimum: 1, maximum: 1024 }),
  memory: int('Memory in MB.', { minimum: 10, maximum: MAX_MEMORY_MB, default: 128 }),
  memory_max: int('Memory limit in MB when oversubscription is enabled; at least `memory`.', { minimum: 10, maximum: MAX_MEMORY_MB }),
} as const;

const resourcesOverride = obj('CPU and memory reserved for the task.', RESOURCE_FIELDS);

/** Declared after `affinity` and `constraint`: device requests use them. */
function resourcesWithDevices(): ObjectSchema {
  return obj('CPU, memory and devices reserved for the task.', {
    ...RESOURCE_FIELDS,
    devices: list(
      'Devices the task needs (Nomad `device`), e.g. nvidia/gpu; the client must fingerprint them.',
      obj(
        'A device request.',
        {
          name: str('Device: `<type>`, `<vendor>/<type>` or `<vendor>/<type>/<model>`.', {
            pattern: /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+){0,2}$/,
            hint: 'write type, vendor/type or vendor/type/model, e.g. nvidia/gpu',
          }),
          count: int('How many.', { minimum: 0, maximum: 1024, default: 1 }),
          constraints: list('Which devices qualify, by `${device.attr.…}`, `${device.model}`…', deviceConstraint),
          affinities: list('Which devices are preferred.', deviceAffinity),
        },
        ['name'],
      ),
    ),
  });
}

const checkRestart = obj(
  'Restart the task when this check stays unhealthy (liveness).',
  {
    limit: int('Consecutive failing checks before a restart.', { minimum: 1 }),
    grace: duration('Time after start before failures count.'),
    ignore_warnings: bool('Treat warning as passing.', false),
  },
  ['limit'],
);

const check = obj(
  'A health check (Nomad `check`) run by Consul (or Nomad for provider nomad).',
  {
    name: str('Check name; unset, Nomad names it `service: "<service>" check`.', { maxLength: 128 }),
    type: str('Check type.', { enum: ['http', 'tcp', 'grpc', 'script'] }),
    port: str('Port label to check, or a port number; defaults to the service port.', {
      pattern: SERVICE_PORT,
      hint: SERVICE_PORT_HINT,
      integerAsText: true,
    }),
    path: str('HTTP path, starting with `/` (http only).'),
    method: str('HTTP method (http only).', { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }),
    protocol: str('http or https (http only).', { enum: ['http', 'https'] }),
    header: map(
      'HTTP request headers (http only): name → values.',
      HEADER_NAME,
      'use an HTTP header name (letters, digits and dashes)',
      list('Values of the header.', str('A value.', { pattern: HEADER_VALUE, hint: 'one line' })),
    ),
    body: str('HTTP request body (http only).'),
    tls_skip_verify: bool('Do not verify the certificate (https and gRPC with TLS).', false),
    grpc_service: str('gRPC service name to check (grpc only).'),
    grpc_use_tls: bool('Use TLS for the gRPC check.'),
    command: str('Command to run inside the task (script only).'),
    args: list('Arguments of the command (script only).', str('An argument.')),
    task: str("Task that runs the script; defaults to the group's main task (script only).", { pattern: UNIT, hint: UNIT_HINT }),
    interval: duration('Time between checks, at least 1s.', '10s'),
    timeout: duration('Time a check may take, at least 1s.', '2s'),
    check_restart: checkRestart,
    address_mode: str("Which address is checked: `host` (the node's), `driver` (the container's), `alloc` (the allocation's).", {
      enum: ['host', 'driver', 'alloc'],
      default: 'host',
    }),
    success_before_passing: int('Consecutive successes before Consul marks the check passing.', { minimum: 0, default: 0 }),
    failures_before_critical: int('Consecutive failures before Consul marks the check critical.', { minimum: 0, default: 0 }),
    expose: bool(
      "Expose the check path through the service's Connect sidecar (http and grpc; needs `connect.sidecar_service`; Nomad allocates the listener port).",
      false,
    ),
    on_update: str(ON_UPDATE_HINT, { enum: ON_UPDATE, default: 'require_healthy' }),
  },
  ['type'],
);

const route = obj('A Fabio route, rendered as a `urlprefix-` tag on the service.', {
  host: str('Host to match: a name joined with the environment `domain` (`web` → web.qa.example.com), or a full host name with dots.', {
    pattern: ROUTE_HOST,
    hint: 'use a DNS name (lower-case letters, digits, dots and dashes, optionally starting with *.)',
  }),
  path: str('Path prefix to match; starts with `/`.', { default: '/' }),
  strip: str('Prefix removed from the path before forwarding; a prefix of `path`.'),
  proto: str('Protocol Fabio speaks to the service.', { enum: ['http', 'https', 'grpc', 'grpcs'], default: 'http' }),
});

// ── workload identities, Consul Connect, secret blocks (issue 12) ──────────

/** Nomad's identity names (structs.validIdentityName). */
const IDENTITY_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const AUDIENCE = list(
  'Audiences (`aud` claim) of the token; a named identity needs at least one.',
  str('An audience, e.g. vault.io.', { pattern: /^\S+$/, hint: 'write an audience without spaces' }),
  1,
);

const identity = obj(
  "A workload identity of the task (Nomad `identity`): a JWT Nomad signs for it. Without `name` (or named `default`) it is the task's default identity, which Nomad creates anyway and exposes only when `env` or `file` says so.",
  {
    name: str('Identity name, unique in the task; unset: the default identity.', {
      pattern: IDENTITY_NAME,
      hint: 'use letters, digits, dashes and underscores, at most 128',
    }),
    aud: AUDIENCE,
    env: bool('Expose the token in the environment (NOMAD_TOKEN, or NOMAD_TOKEN_<name>).', false),
    file: bool('Write the token to secrets/nomad_token (or secrets/nomad_<name>.jwt).', false),
    filepath: str('Where the token file is written instead (needs `file`).', { pattern: TASK_FILE, hint: TASK_FILE_HINT }),
    ttl: duration('Lifetime of the token; Nomad renews it before it expires. Unset: it does not expire (named identities should set one).'),
    change_mode: str('What happens when the token is renewed.', { enum: ['noop', 'restart', 'signal'], default: 'noop' }),
    change_signal: str('Signal for change_mode signal.', { pattern: SIGNAL, hint: 'write a signal name such as SIGHUP' }),
  },
);

const serviceIdentity = obj("The workload identity the service is registered with: Nomad exchanges it for the service's Consul token (Consul's JWT auth).", {
  aud: AUDIENCE,
  ttl: duration('Lifetime of the token.'),
});

/** Free-form values of a proxy or driver configuration, written as Nomad's HCL `config` block. */
const freeConfig = (description: string): AnySchema => ({ type: 'any', description });

const upstream = obj(
  'An upstream (Nomad `upstreams`): a local listener through which the task reaches another Connect service.',
  {
    destination_name: str('Consul service to reach.', {
      pattern: /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/,
      hint: 'write a Consul service name (letters, digits, _ . -)',
    }),
    destination_namespace: str('Consul namespace of the destination (Consul Enterprise).', { pattern: NAMESPACE, hint: 'use letters, digits and dashes' }),
    destination_peer: str('Cluster peer of the destination.', { pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, hint: 'use letters, digits, _ . -' }),
    destination_partition: str('Admin partition of the destination (Consul Enterprise).', {
      pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
      hint: 'use letters, digits, _ . -',
    }),
    destination_type: str('Kind of destination.', { enum: ['service', 'prepared_query'], default: 'service' }),
    local_bind_port: int('Port of the local listener inside the allocation.', { minimum: 1, maximum: 65535 }),
    local_bind_address: str('Address of the local listener.', { pattern: /^[0-9A-Fa-f.:]+$/, hint: 'write an IP address', default: '127.0.0.1' }),
    datacenter: str('Datacenter of the destination; unset: the local one.', { pattern: DATACENTER, hint: 'use letters, digits, dots, dashes and underscores' }),
    mesh_gateway: obj('How traffic to the destination crosses datacenters.', { mode: str('Mesh gateway mode.', { enum: ['local', 'remote', 'none'] }) }, [
      'mode',
    ]),
    config: freeConfig('Upstream configuration for the proxy, free-form (e.g. `connect_timeout_ms: 5000`).'),
  },
  ['destination_name', 'local_bind_port'],
);

const exposePath = obj(
  'A path the proxy serves without mTLS, e.g. for a health check from the Consul agent or metrics.',
  {
    path: str('HTTP path.', { pattern: /^\/\S*$/, hint: 'write a path starting with / without spaces' }),
    protocol: str('Protocol of the path.', { enum: ['http', 'http2'], default: 'http' }),
    local_path_port: int('Port the service listens on inside the allocation.', { minimum: 1, maximum: 65535 }),
    listener_port: str('Group port label the proxy listens on for this path.', { pattern: PORT_LABEL, hint: PORT_HINT }),
  },
  ['path', 'local_path_port', 'listener_port'],
);

const proxy = obj('The sidecar proxy (Nomad `proxy`).', {
  local_service_address: str('Address the proxy forwards inbound traffic to.', {
    pattern: /^[0-9A-Fa-f.:]+$/,
    hint: 'write an IP address',
    default: '127.0.0.1',
  }),
  local_service_port: int("Port the proxy forwards inbound traffic to; unset: the service's port.", { minimum: 1, maximum: 65535 }),
  upstreams: list('Services this one calls through the mesh.', upstream),
  expose: obj('Paths served without mTLS (Nomad `expose`).', { paths: list('The paths.', exposePath, 1) }, ['paths']),
  transparent_proxy: obj('Redirect all traffic of the allocation through the proxy (needs the consul-cni plugin on clients).', {
    uid: str('User ID of the proxy process.', { pattern: /^[0-9]+$/, hint: 'write a numeric user ID', default: '101' }),
    outbound_port: int('Port the proxy listens on for outbound traffic.', { minimum: 1, maximum: 65535, default: 15001 }),
    exclude_inbound_ports: list(
      'Inbound ports not redirected (labels or numbers).',
      str('A port.', { pattern: SERVICE_PORT, hint: SERVICE_PORT_HINT, integerAsText: true }),
    ),
    exclude_outbound_ports: list('Outbound ports not redirected.', int('A port.', { minimum: 1, maximum: 65535 })),
    exclude_outbound_cidrs: list(
      'Outbound networks not redirected.',
      str('A CIDR.', { pattern: /^[0-9A-Fa-f.:]+\/[0-9]{1,3}$/, hint: 'write a CIDR such as 10.0.0.0/8' }),
    ),
    exclude_uids: list('User IDs whose traffic is not redirected.', str('A user ID.', { pattern: /^[0-9]+$/, hint: 'write a numeric user ID' })),
    no_dns: bool('Do not redirect DNS to Consul.', false),
  }),
  config: freeConfig('Proxy configuration, free-form (e.g. `protocol: http`, `envoy_prometheus_bind_addr: 0.0.0.0:9102`).'),
});

const connect = obj(
  'Consul Connect (Nomad `connect`): a sidecar proxy (`sidecar_service`, needs `network_mode: bridge`) or a Connect-native service (`native`). Running it needs Envoy on the clients (see docs/spec.md).',
  {
    native: bool('The task speaks Connect itself (no sidecar); the service needs `task`.', false),
    sidecar_service: obj('The sidecar proxy service Nomad registers beside this one (Nomad `sidecar_service`).', {
      port: str('Group port label the proxy listens on; unset: Nomad allocates one (`connect-proxy-<service>`).', { pattern: PORT_LABEL, hint: PORT_HINT }),
      tags: list('Tags of the proxy service; unset: the service tags.', str('A tag.')),
      meta: meta('Meta of the proxy service'),
      disable_default_tcp_check: bool("Do not register Nomad's default TCP check of the proxy.", false),
      proxy: proxy,
    }),
    sidecar_task: obj("Changes to the sidecar task Nomad injects (Envoy by default); unset fields keep Nomad's.", {
      name: str('Task name; default `connect-proxy-<service>`.', { pattern: PART, hint: PART_HINT }),
      driver: str('Task driver.', { pattern: /^[a-z0-9_-]+$/, hint: 'write a driver name such as docker', default: 'docker' }),
      user: str('User the proxy runs as.'),
      config: freeConfig('Driver configuration, free-form (e.g. `image`, `args`).'),
      env: map('Environment variables.', ENV_NAME, ENV_HINT, str('A value.')),
      meta: meta('Task meta'),
      resources: resourcesOverride,
      kill_timeout: duration('Time between the kill signal and a forced kill.'),
      kill_signal: str('Signal sent to stop the proxy.', { pattern: SIGNAL, hint: 'write a signal name such as SIGTERM' }),
      shutdown_delay: duration('Delay between deregistering and the kill signal.'),
      logs: obj('Log rotation.', {
        max_files: int('Rotated files kept.', { minimum: 1, default: 2 }),
        max_file_size: int('Size of one file in MB.', { minimum: 1, default: 2 }),
      }),
    }),
  },
);

const SECRET_BLOCK_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const secretBlock = obj(
  "A Nomad 1.11 `secret` block: Nomad fetches the secret before the task starts and offers its keys as `${secret.<name>.<key>}` in the task's configuration. The value never appears in the job.",
  {
    provider: str('`vault`, `nomad` (Nomad Variables), or the name of a custom secrets plugin on the clients.', {
      pattern: /^[a-z0-9][a-z0-9_-]*$/,
      hint: 'write vault, nomad or a plugin name',
    }),
    path: str('Where the secret is in the provider, e.g. secret/data/web/db or nomad/jobs/web.', {
      pattern: /^[^\s"'\\]+$/,
      hint: 'write a path without spaces or quotes',
    }),
    config: map('Options of the built-in providers (vault: `engine`, e.g. kv_v2; nomad: `namespace`).', HCL_KEY, HCL_KEY_HINT, str('A value.')),
    env: map('Environment given to a custom provider plugin.', ENV_NAME, ENV_HINT, str('A value.')),
  },
  ['provider', 'path'],
);

const service = obj(
  'A service registration (Nomad `service`) with checks and Fabio routes.',
  {
    name: str('Service name in Consul; defaults to the job name. Nomad expands `${JOB}`, `${TASKGROUP}`, `${TASK}` (with `task`) and `${BASE}`.', {
      pattern: SERVICE_NAME,
      hint: SERVICE_NAME_HINT,
    }),
    port: str(
      "Port label the service advertises, or a port number (registered as is, with the node's address or, with `address_mode: alloc`, the allocation's).",
      {
        pattern: SERVICE_PORT,
        hint: SERVICE_PORT_HINT,
        integerAsText: true,
      },
    ),
    address_mode: str("Which address is registered: `auto`/`host` (the node's), `driver` (the container's), `alloc` (the allocation's, e.g. bridge mode).", {
      enum: ['auto', 'host', 'driver', 'alloc'],
      default: 'auto',
    }),
    provider: str('Where the service is registered.', { enum: ['consul', 'nomad'], default: 'consul' }),
    task: str('Task the service belongs to (for script checks and task-level interpolation).', { pattern: UNIT, hint: UNIT_HINT }),
    tags: list('Tags in the catalog.', str('A tag.')),
    canary_tags: list(
      'Tags canaries carry instead of `tags` (the route tags are added). Unset: `tags`, the route tags and `canary` — what Fabio weight steps need. Nomad gives canaries `tags` when this list is empty.',
      str('A tag.'),
    ),
    meta: meta('Service meta in the catalog'),
    canary_meta: meta('Meta canaries carry instead of `meta`'),
    enable_tag_override: bool('Let the service change its own tags in Consul (anti-entropy leaves them).', false),
    on_update: str(`Default of its checks' \`on_update\`: ${ON_UPDATE_HINT}`, { enum: ON_UPDATE, default: 'require_healthy' }),
    checks: list('Health checks.', check),
    routes: list('Fabio routes to this service.', route),
    connect: connect,
    identity: serviceIdentity,
  },
  ['port'],
);

const port = obj('A named port of the group network.', {
  static: int('Static host port; omit for a dynamic port.', { minimum: 1, maximum: 65535 }),
  to: int('Port inside the task (docker port mapping, or bridge mode); -1 maps to the same number as the host port.', { minimum: -1, maximum: 65535 }),
  host_network: str('Host network to allocate on.', { pattern: PART, hint: PART_HINT }),
});

const volume = obj(
  'A volume the group claims (Nomad `volume`).',
  {
    type: str('Host volume (declared in the client config) or CSI volume.', { enum: ['host', 'csi'] }),
    source: str('Name of the host volume or the CSI volume ID.', { pattern: /^[A-Za-z0-9_.-]+$/, hint: 'use letters, digits, dots, dashes and underscores' }),
    read_only: bool('Mount read-only.', false),
    access_mode: str('Access mode: required for csi; for dynamic host volumes (Nomad ≥ 1.10) one of the single-node modes.', {
      enum: [
        'single-node-reader-only',
        'single-node-writer',
        'single-node-single-writer',
        'single-node-multi-writer',
        'multi-node-reader-only',
        'multi-node-single-writer',
        'multi-node-multi-writer',
      ],
    }),
    attachment_mode: str('Attachment mode: required for csi; optional for dynamic host volumes.', { enum: ['file-system', 'block-device'] }),
    per_alloc: bool('Claim `<source>[<index>]`: one volume per allocation (replica sets).', false),
    sticky: bool('Keep allocations on the host volume or CSI volume they used before (dynamic host volumes, Nomad ≥ 1.10).', false),
    mount_options: obj('How a CSI volume with file-system attachment is mounted (csi only).', {
      fs_type: str('File system, e.g. ext4.', { pattern: /^[a-z0-9_]+$/, hint: 'write a file system type such as ext4' }),
      mount_flags: list('Mount flags, e.g. noatime.', str('A flag.', { pattern: /^[A-Za-z0-9_=,.-]+$/, hint: 'write a mount flag such as noatime' })),
    }),
  },
  ['type', 'source'],
);

const scaling = obj(
  'Horizontal scaling limits and the Nomad Autoscaler policy (Nomad `scaling`).',
  {
    min: int('Fewest allocations.', { minimum: 0, maximum: MAX_COUNT }),
    max: int('Most allocations.', { minimum: 1, maximum: MAX_COUNT }),
    enabled: bool('Whether the autoscaler acts on this group.', true),
    policy: obj('Autoscaler policy.', {
      cooldown: duration('Wait after a scaling action.'),
      evaluation_interval: duration('Time between evaluations.'),
      checks: list(
        'Autoscaler checks, each a metric query and a strategy.',
        obj(
          'An autoscaler check.',
          {
            name: str('Check name.', { pattern: PART, hint: PART_HINT }),
            source: str('Metric source plugin, e.g. nomad-apm or prometheus.', { pattern: PART, hint: PART_HINT }),
            query: str('Metric query.'),
            query_window: duration('Window of the query.'),
            strategy: obj(
              'Scaling strategy.',
              {
                name: str('Strategy plugin.', { enum: ['target-value', 'threshold', 'pass-through', 'fixed-value'] }),
                target: num('Target value (target-value).'),
              },
              ['name'],
            ),
          },
          ['name', 'source', 'query', 'strategy'],
        ),
      ),
    }),
  },
  ['max'],
);

const image = obj(
  'Container image: repository plus tag or digest. The environment supplies the registry host; the deploy step pins digests.',
  {
    repository: str('Repository path, e.g. storefront/web (a host prefix is kept as is).', {
      pattern: REPOSITORY,
      hint: 'use a Docker repository path: lower-case letters, digits, and . _ - separators between / segments',
    }),
    tag: str('Image tag.', { pattern: TAG, hint: 'use letters, digits, _ . - (at most 128, not starting with . or -)' }),
    digest: str('Content digest `sha256:<64 hex>`; wins over the tag.', { pattern: DIGEST, hint: 'write sha256: followed by 64 lower-case hex digits' }),
  },
  ['repository'],
);

const secret = obj(
  'A value read from Vault at run time (never written into the job).',
  {
    env: str('Environment variable to set.', { pattern: ENV_NAME, hint: ENV_HINT }),
    file: str('File to write instead of a variable.', { pattern: TASK_FILE, hint: TASK_FILE_HINT }),
    path: str('Vault path, e.g. secret/data/web/db (KV v2 when the second segment is `data`).', {
      pattern: VAULT_PATH,
      hint: 'write mount/path with letters, digits, _ . - between slashes',
    }),
    key: str('Key inside the secret.', { pattern: VAULT_KEY, hint: 'use letters, digits, _ . -' }),
    params: map(
      'Request parameters for a path Vault answers only to a write: PKI `<mount>/issue/<role>` or `<mount>/sign/<role>` (e.g. `common_name`, `ttl`, `alt_names`). Secrets of one task asking the same path with the same parameters share one answer, so a certificate and its key match.',
      PARAM_NAME,
      'use lower-case letters, digits and _',
      str('A parameter value.', { pattern: PARAM_VALUE, hint: 'one line without quotes, backslashes or braces' }),
    ),
  },
  ['path', 'key'],
);

const kv = obj(
  'A value read from Consul KV at run time.',
  {
    env: str('Environment variable to set.', { pattern: ENV_NAME, hint: ENV_HINT }),
    file: str('File to write instead of a variable.', { pattern: TASK_FILE, hint: TASK_FILE_HINT }),
    key: str('Consul KV key, e.g. web/feature-flags.', { pattern: KV_KEY, hint: 'use letters, digits, _ . - between slashes' }),
  },
  ['key'],
);

const template = obj(
  'A consul-template file rendered into the task (Nomad `template`).',
  {
    destination: str('Where the file is written.', { pattern: TASK_FILE, hint: TASK_FILE_HINT }),
    data: str('Template text (consul-template syntax); written as a heredoc. Set `data` or `source`.'),
    source: str('A template file in the task directory (fetched by an artifact) instead of `data`.', { pattern: TASK_FILE, hint: TASK_FILE_HINT }),
    env: bool('Read the rendered file as KEY=value environment variables.', false),
    change_mode: str('What happens when the rendered text changes.', { enum: ['restart', 'signal', 'noop'], default: 'restart' }),
    change_signal: str('Signal for change_mode signal.', { pattern: SIGNAL, hint: 'write a signal name such as SIGHUP' }),
    perms: str('File permissions.', { pattern: /^[0-7]{3,4}$/, hint: 'write octal permissions such as 0644', default: '0644' }),
    uid: int('Owner of the file (user ID; Nomad default: the task user).', { minimum: -1 }),
    gid: int('Group of the file (group ID).', { minimum: -1 }),
    splay: duration('Random wait up to this long before a change restarts or signals the task.', '5s'),
    wait: obj('Quiescence: wait at least `min` for data to settle, at most `max`.', {
      min: duration('Shortest wait.'),
      max: duration('Longest wait.'),
    }),
    once: bool('Render once, then stop watching for changes.', false),
    error_on_missing_key: bool('Fail instead of rendering an empty value when a key is missing.', false),
  },
  ['destination'],
);

const dockerMount = obj(
  'A docker mount (`mount` in the docker `config`).',
  {
    type: str('Kind of mount.', { enum: ['bind', 'volume', 'tmpfs'], default: 'volume' }),
    target: str('Path inside the container.', { pattern: ABS_PATH, hint: ABS_PATH_HINT }),
    source: str('Host path (bind, relative paths are in the task directory) or volume name (volume); not for tmpfs.', {
      pattern: /^[^\s"'\\]+$/,
      hint: 'write a path or a name without spaces or quotes',
    }),
    readonly: bool('Mount read-only.', false),
    bind_options: obj('Options of a bind mount.', {
      propagation: str('Mount propagation.', { enum: ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'], default: 'rprivate' }),
    }),
    volume_options: obj('Options of a volume mount.', {
      no_copy: bool('Do not copy the image content into a new volume.', false),
      labels: map('Labels of the volume.', /^[A-Za-z0-9_./-]+$/, 'use letters, digits, _ . / -', str('A label value.')),
      driver_config: obj('Volume driver.', {
        name: str('Volume driver name, e.g. local.', { pattern: /^[A-Za-z0-9_./-]+$/, hint: 'use letters, digits, _ . / -' }),
        options: map('Driver options.', /^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -', str('An option value.')),
      }),
    }),
    tmpfs_options: obj('Options of a tmpfs mount.', {
      size: int('Size in bytes.', { minimum: 1 }),
      mode: int('File mode of the tmpfs root, as a decimal number (e.g. 1023 for 01777).', { minimum: 0, maximum: 4095 }),
    }),
  },
  ['target'],
);

const strList = (what: string, item: string, pattern?: RegExp, hint?: string): ArraySchema =>
  list(what, pattern === undefined ? str(item) : str(item, hint === undefined ? { pattern } : { pattern, hint }));

const docker = obj("Docker driver options, written into the task's `config` beside image, command, args and ports (names as in Nomad's docker driver).", {
  entrypoint: strList("Replaces the image's entrypoint.", 'An entrypoint word.'),
  work_dir: str('Working directory inside the container.', { pattern: ABS_PATH, hint: ABS_PATH_HINT }),
  hostname: str('Host name of the container (not with network_mode host); Nomad interpolations such as `${attr.unique.hostname}` are kept.', {
    pattern: HOSTNAME,
    hint: 'write a host name (letters, digits, dots and dashes) or an interpolation such as ${attr.unique.hostname}',
  }),
  network_mode: str('Docker network mode: bridge, host, none, container:<name> or a user network.', {
    pattern: /^(?:bridge|host|none|default|container:[^\s]+|[A-Za-z0-9][A-Za-z0-9_.-]*)$/,
    hint: 'write bridge, host, none, container:<name> or a network name',
  }),
  privileged: bool("Run the container privileged (the client's docker plugin must allow it).", false),
  cap_add: strList(
    'Linux capabilities added (the client plugin must allow them).',
    'A capability, e.g. NET_ADMIN.',
    CAPABILITY,
    'write a capability such as NET_ADMIN or ALL',
  ),
  cap_drop: strList('Linux capabilities dropped.', 'A capability, e.g. ALL.', CAPABILITY, 'write a capability such as NET_RAW or ALL'),
  volumes: strList(
    "Bind mounts `source:target[:options]`; a relative source is in the task directory (host paths need the plugin's volumes enabled).",
    'A volume.',
    DOCKER_VOLUME,
    'write source:/target or source:/target:ro',
  ),
  mount: list('Mounts: bind, volume or tmpfs.', dockerMount),
  devices: list(
    'Host devices exposed to the container.',
    obj(
      'A device.',
      {
        host_path: str('Device on the host.', { pattern: ABS_PATH, hint: ABS_PATH_HINT }),
        container_path: str('Path inside the container; defaults to host_path.', { pattern: ABS_PATH, hint: ABS_PATH_HINT }),
        cgroup_permissions: str('Permissions: r, w and m.', { pattern: /^[rwm]{1,3}$/, hint: 'write letters of rwm', default: 'rwm' }),
      },
      ['host_path'],
    ),
  ),
  labels: map('Docker labels of the container.', /^[A-Za-z0-9_./-]+$/, 'use letters, digits, _ . / -', str('A label value.')),
  logging: obj(
    'Docker logging driver (Nomad collects logs only with its default, json-file).',
    {
      type: str('Logging driver, e.g. json-file, syslog, journald, fluentd.', {
        pattern: /^[a-z0-9_-]+$/,
        hint: 'write a logging driver name such as json-file',
      }),
      config: map('Options of the logging driver.', /^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -', str('An option value.')),
    },
    ['type'],
  ),
  ulimit: map(
    'Resource limits `soft[:hard]` by name (nofile, nproc, memlock, …).',
    /^[a-z]+$/,
    'write a ulimit name such as nofile',
    str('A limit.', { pattern: ULIMIT, hint: 'write soft or soft:hard, e.g. 65536:65536' }),
  ),
  sysctl: map('Kernel parameters of the container.', SYSCTL_KEY, 'write a sysctl name such as net.core.somaxconn', str('A value.')),
  shm_size: int('Size of /dev/shm in bytes.', { minimum: 1 }),
  extra_hosts: strList(
    'Extra /etc/hosts entries `host:IP`; the IP may be `host-gateway` (Docker: the host) or a Nomad interpolation.',
    'An entry.',
    EXTRA_HOST,
    'write host:IP, e.g. db.internal:10.0.0.5, host.docker.internal:host-gateway or db:${attr.unique.network.ip-address}',
  ),
  dns_servers: strList('DNS servers of the container.', 'An IP address.', /^[0-9A-Fa-f.:]+$/, 'write an IP address'),
  dns_search_domains: strList('DNS search domains.', 'A domain.', DOMAIN, 'write a lower-case DNS name'),
  dns_options: strList('resolv.conf options, e.g. ndots:2.', 'An option.', /^[a-z0-9_-]+(?::[0-9]+)?$/, 'write an option such as ndots:2'),
  image_pull_timeout: duration('Deadline of the image pull.', '5m'),
  force_pull: bool('Pull the image even when the node has it.', false),
  auth_soft_fail: bool('Pull without credentials when none are found (public images).', false),
  pid_mode: str("PID namespace of the container: `host` shares the node's (node exporters, debuggers); unset: its own.", {
    pattern: /^(?:host|container:[^\s"'\\]+)$/,
    hint: 'write host or container:<name>',
  }),
  ipc_mode: str("IPC namespace of the container: `host`, `shareable`, `private`, `none` or `container:<name>`; unset: Docker's.", {
    pattern: /^(?:host|shareable|private|none|container:[^\s"'\\]+)$/,
    hint: 'write host, shareable, private, none or container:<name>',
  }),
});

const csiPlugin = obj(
  'The task is a CSI storage plugin (Nomad `csi_plugin`): Nomad talks to it over a socket in `mount_dir` and registers it by `id`.',
  {
    id: str('Plugin ID that CSI volumes name (`plugin_id`).', { pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, hint: 'use letters, digits, _ . -' }),
    type: str('`node` (on every client that mounts volumes), `controller` (creates and attaches volumes) or `monolith` (both).', {
      enum: ['node', 'controller', 'monolith'],
    }),
    mount_dir: str('Directory inside the task where the plugin creates its socket.', { pattern: ABS_PATH, hint: ABS_PATH_HINT, default: '/csi' }),
    stage_publish_base_dir: str('Directory inside the task under which the plugin stages and publishes volumes; not inside `mount_dir`.', {
      pattern: ABS_PATH,
      hint: ABS_PATH_HINT,
      default: '/local/csi',
    }),
    health_timeout: duration('The task is killed when the plugin is not healthy within this time.', '30s'),
  },
  ['id', 'type'],
);

const task = obj(
  'A task: a process or container of the group.',
  {
    name: str('Task name, unique in the group.', { pattern: UNIT, hint: UNIT_HINT }),
    driver: str(
      'Task driver. docker, exec, raw_exec and java are typed; any other driver Nomad runs (podman, qemu, exec2, a plugin) takes its driver configuration in `nomad: {Config: …}`.',
      { pattern: DRIVER, hint: 'a Nomad task driver name, e.g. docker, exec, raw_exec, java, podman', default: 'docker' },
    ),
    image: image,
    jar: obj(
      'The jar a java task runs, fetched as an artifact.',
      {
        source: str('URL of the jar (go-getter syntax).'),
        checksum: str('Checksum verified by the artifact fetcher, e.g. sha256:<hex>.', {
          pattern: /^(?:md5|sha1|sha256|sha512):[a-f0-9]+$/,
          hint: 'write type:hex, e.g. sha256:abc…',
        }),
        path: str(
          'The jar in the task directory after fetching (`jar_path`); needed when `source` is a directory or an archive. Default: `local/<file name of source>`.',
          {
            pattern: TASK_FILE,
            hint: TASK_FILE_HINT,
          },
        ),
        headers: map(
          'HTTP headers sent when the jar is fetched (plain values: they are stored in the job).',
          HEADER_NAME,
          'use an HTTP header name',
          str('A value.', { pattern: HEADER_VALUE, hint: 'one line' }),
        ),
      },
      ['source'],
    ),
    jvm_options: list('JVM options for a java task.', str('An option, e.g. -Xmx512m.')),
    class: str('Main class for a java task run from a class path.'),
    class_path: str('Class path of a java task (`class_path`), e.g. `${NOMAD_TASK_DIR}/lib/*`.', {
      pattern: /^[^\s"'\\]+$/,
      hint: 'write a class path without spaces or quotes',
    }),
    command: str('Command to run (exec, raw_exec; overrides the image entrypoint for docker).'),
    args: list('Arguments.', str('An argument.')),
    user: str('User the task runs as.'),
    ports: list('Group port labels the container publishes (docker).', str('A port label.', { pattern: PORT_LABEL, hint: PORT_HINT })),
    docker: docker,
    services: list('Services registered with this task (registration follows the task; `${TASK}` is its name).', service),
    shutdown_delay: duration("Delay between deregistering the task's services and the kill signal."),
    lifecycle: obj(
      'Run the task before, beside or after the main tasks.',
      {
        hook: str('When the task runs.', { enum: ['prestart', 'poststart', 'poststop'] }),
        sidecar: bool('Keep running beside the main tasks.', false),
      },
      ['hook'],
    ),
    env: map('Environment variables (plain values only; secrets go in `secrets`).', ENV_NAME, ENV_HINT, str('A value.')),
    meta: meta('Task meta'),
    resources: resourcesWithDevices(),
    kill_timeout: duration('Time between the kill signal and a forced kill.'),
    kill_signal: str('Signal sent to stop the task.', { pattern: SIGNAL, hint: 'write a signal name such as SIGTERM' }),
    leader: bool("The group's leader (Nomad `leader`): when it exits, Nomad stops the group's other tasks.", false),
    logs: obj('Log rotation.', {
      max_files: int('Rotated files kept.', { minimum: 1, default: 10 }),
      max_file_size: int('Size of one file in MB.', { minimum: 1, default: 10 }),
      disabled: bool('Collect no logs (Nomad `logs { disabled = true }`): `nomad alloc logs` shows nothing.', false),
    }),
    artifacts: list(
      'Files fetched before the task starts (Nomad `artifact`).',
      obj(
        'An artifact.',
        {
          source: str('URL (go-getter syntax).'),
          destination: str('Directory or file in the task dir.', { pattern: TASK_DEST, hint: TASK_DEST_HINT, default: 'local/' }),
          mode: str('How to fetch.', { enum: ['any', 'file', 'dir'] }),
          options: map('go-getter options, e.g. checksum.', META_KEY, META_HINT, str('An option value.')),
          headers: map(
            'HTTP headers sent with the request (plain values: they are stored in the job).',
            HEADER_NAME,
            'use an HTTP header name',
            str('A value.', { pattern: HEADER_VALUE, hint: 'one line' }),
          ),
          chown: bool('Give the fetched files to the task user.', false),
        },
        ['source'],
      ),
    ),
    mounts: list(
      'Group volumes mounted into the task (Nomad `volume_mount`).',
      obj(
        'A volume mount.',
        {
          volume: str('Name of a group volume.', { pattern: PART, hint: PART_HINT }),
          destination: str('Path inside the task.', { pattern: /^\/?[^\s"'\\]+$/, hint: 'use a path without spaces or quotes' }),
          read_only: bool('Mount read-only.', false),
        },
        ['volume', 'destination'],
      ),
    ),
    vault: obj(
      "The task's Vault token (Nomad `vault`); rendered when the task reads secrets. hashiship keeps the token out of the environment unless `env` says otherwise.",
      {
        role: str("Vault role of the workload identity; defaults to the environment's `vault_role`.", {
          pattern: VAULT_ROLE,
          hint: 'use letters, digits, _ . -',
        }),
        env: bool('Expose the token as VAULT_TOKEN (hashiship default false; Nomad default true).', false),
        disable_file: bool('Do not write the token to secrets/vault_token.', false),
        change_mode: str('What happens when the token changes.', { enum: ['restart', 'signal', 'noop'], default: 'restart' }),
        change_signal: str('Signal for change_mode signal.', { pattern: SIGNAL, hint: 'write a signal name such as SIGHUP' }),
      },
    ),
    secrets: list('Values from Vault, as variables or files.', secret),
    kv: list('Values from Consul KV, as variables or files.', kv),
    templates: list('Files rendered from consul-template text.', template),
    identities: list('Workload identities of the task (Nomad `identity`): at most one without a name (the default identity).', identity),
    secret_blocks: map(
      "Nomad 1.11 `secret` blocks by name: values Nomad fetches for `${secret.<name>.<key>}` (hashiship's own `secrets` render templates instead).",
      SECRET_BLOCK_NAME,
      'use letters, digits and underscores, starting with a letter or underscore (it is used in ${secret.<name>.<key>})',
      secretBlock,
    ),
    constraints: list('Placement constraints of this task.', constraint),
    dispatch_payload: obj(
      'Where the payload of a dispatched (parameterized) job is written (Nomad `dispatch_payload`).',
      {
        file: str("File under the task's `local/` directory, e.g. `job.json` (read as `local/job.json`); it must stay inside the allocation.", {
          pattern: /^[^\s"'\\]+$/,
          hint: 'write a relative file name without spaces or quotes',
        }),
      },
      ['file'],
    ),
    csi_plugin: csiPlugin,
    allow: obj("Opt-outs of hashiship's deliberate policies for this task, each with its reason.", {
      latest: { ...REASON, description: 'Allow the image tag `latest` (not reproducible: the same spec may run different code).' },
      env: map('Allow plain `env` values under names that look like secrets (`*_PASSWORD`, `*_TOKEN`, …), by variable name.', ENV_NAME, ENV_HINT, {
        ...REASON,
        description: 'Why this value is not a secret.',
      }),
      jar_and_class: {
        ...REASON,
        description:
          "Allow `class` or `class_path` beside a java `jar`: Nomad runs `java -jar <jar> <class>`, so the jar's Main-Class runs with `class` as its first argument, and `java -jar` ignores the class path.",
      },
    }),
    nomad: nomadRaw('Task'),
  },
  ['name'],
);

const group = obj(
  'A task group: tasks placed together on one node (Nomad `group`).',
  {
    name: str('Group name, unique in the job.', { pattern: UNIT, hint: UNIT_HINT }),
    count: int('Allocations of the group (not for system jobs).', { minimum: 0, maximum: MAX_COUNT, default: 1 }),
    ports: map('Named ports of the group network.', PORT_LABEL, PORT_HINT, port),
    network_mode: str('Network mode.', { enum: ['host', 'bridge'], default: 'host' }),
    dns: obj("DNS of the group's network namespace (Nomad `network.dns`), for bridge networking or a docker task; unset: the node's resolv.conf.", {
      servers: strList('DNS servers.', 'An IP address.', /^[0-9A-Fa-f.:]+$/, 'write an IP address'),
      searches: strList('Search domains.', 'A domain.', DOMAIN, 'write a lower-case DNS name'),
      options: strList('resolv.conf options, e.g. ndots:2.', 'An option.', /^[a-z0-9_-]+(?::[0-9]+)?$/, 'write an option such as ndots:2'),
    }),
    services: list('Service registrations.', service),
    tasks: list(
      'The tasks. Only a Connect gateway group (a service with `Connect.Gateway` in `nomad: {Services: …}`) has none: Nomad adds the gateway task.',
      task,
    ),
    volumes: map('Volumes claimed by the group, by name.', PART, PART_HINT, volume),
    update: update,
    restart: restart,
    reschedule: reschedule,
    migrate: migrate,
    ephemeral_disk: obj('Scratch disk of the allocation.', {
      size: int('Size in MB.', { minimum: 10, maximum: MAX_DISK_MB, default: 300 }),
      sticky: bool('Try to keep the disk when the allocation is replaced.'),
      migrate: bool('Copy the disk when the allocation moves.'),
    }),
    constraints: list('Placement constraints.', constraint),
    affinities: list('Placement preferences.', affinity),
    spread: list('Spread over attribute values.', spread),
    scaling: scaling,
    shutdown_delay: duration(
      'Delay between deregistering the services and stopping the tasks, so Fabio stops routing first; default 5s when the group has services.',
    ),
    disconnect: obj('What happens to allocations on a client that lost contact with the servers (Nomad `disconnect`).', {
      lost_after: duration('How long an allocation may stay unknown before it is replaced.'),
      replace: bool('Place a replacement while the client is disconnected.', true),
      reconcile: str('Which allocation stays when the client comes back.', {
        enum: ['best_score', 'keep_original', 'keep_replacement', 'longest_running'],
        default: 'best_score',
      }),
      stop_on_client_after: duration('The client stops the allocation after being disconnected this long.'),
    }),
    meta: meta('Group meta'),
    nomad: nomadRaw('TaskGroup'),
  },
  ['name', 'tasks'],
);

// ── external services and service configuration (src/consul) ───────────────

/** A host name, an IPv4 or an IPv6 address (without brackets). */
const ADDRESS = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$/;
const ADDRESS_HINT = 'write a host name or an IP address, e.g. db1.internal or 10.0.3.7 (no scheme, no port)';

/** Service configuration: key → plain value, written to Consul KV under `config/<service>/<key>`. */
const configMap = (what: string): MapSchema =>
  map(
    `${what}: keys (relative paths) and plain values, written to Consul KV under \`config/<service>/<key>\` by \`hashiship kv sync\`; never secrets.`,
    KV_KEY,
    'use letters, digits, _ . - between slashes',
    str('A value (plain text; secrets belong in Vault).', { maxLength: 65536 }),
  );

const externalCheck = obj(
  'A health check the Consul agent runs against the external service (ttl: the service reports itself).',
  {
    name: str('Check name; defaults to `<service>-<type>`.', { maxLength: 128 }),
    type: str('Check type.', { enum: ['http', 'tcp', 'grpc', 'ttl'] }),
    port: int('Port checked; defaults to the service port (http, tcp, grpc).', { minimum: 1, maximum: 65535 }),
    path: str('HTTP path, starting with `/` (http only).', { pattern: /^\/\S*$/, hint: 'write a path starting with / without spaces' }),
    method: str('HTTP method (http only).', { enum: ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS'], default: 'GET' }),
    protocol: str('http or https (http only).', { enum: ['http', 'https'], default: 'http' }),
    tls_skip_verify: bool('Do not verify the certificate (http with https, grpc with TLS).', false),
    grpc_service: str('gRPC service name for the standard health protocol (grpc only).', {
      pattern: /^[A-Za-z0-9_.]+$/,
      hint: 'write a fully qualified gRPC service name such as grpc.health.v1.Health',
    }),
    grpc_use_tls: bool('Use TLS for the gRPC check (grpc only).', false),
    interval: duration('Time between checks, at least 1s (not ttl).', '10s'),
    timeout: duration('Time a check may take, at least 1s, below `interval` (not ttl).', '2s'),
    ttl: duration('How long a status the service reported stays valid (ttl only, required there).'),
    deregister_critical_service_after: duration('Deregister the service when this check stays critical this long (at least 1m).'),
  },
  ['type'],
);

/** `jobs/services/<name>.yaml` with `kind: external`. */
export const externalSchema: ObjectSchema = obj(
  'A hashiship external service: something Nomad does not run (a database on its own host, the registry, Vault) registered in Consul by `hashiship register`.',
  {
    $schema: str('Path or URL of this JSON Schema (for editors).'),
    kind: str('`external`: registered in Consul, never rendered as a Nomad job.', { enum: ['external'] }),
    name: str('Consul service name.', { pattern: NAME, hint: NAME_HINT }),
    address: str('Host name or IP address of the service (the environment may override).', { pattern: ADDRESS, hint: ADDRESS_HINT }),
    port: int('Port of the service (the environment may override).', { minimum: 1, maximum: 65535 }),
    tags: list('Tags in the catalog.', str('A tag.', { pattern: /^\S+$/, hint: 'write a tag without spaces' })),
    meta: meta('Service meta in the catalog (keys starting with `hashiship_` are reserved)'),
    checks: list('Health checks.', externalCheck),
    config: configMap('Service configuration'),
  },
  ['kind', 'name', 'address', 'port'],
);

const externalOverride = obj('Overrides for one external service in this environment.', {
  enabled: bool('Register the service in this environment.', true),
  address: str('Host name or IP address.', { pattern: ADDRESS, hint: ADDRESS_HINT }),
  port: int('Port.', { minimum: 1, maximum: 65535 }),
  tags: list('Tags added in this environment.', str('A tag.', { pattern: /^\S+$/, hint: 'write a tag without spaces' })),
  meta: meta('Service meta added or replaced in this environment'),
  config: configMap('Configuration added or replaced in this environment'),
});

const smoke = obj(
  "A smoke request sent through Fabio to the service's first route after a deployment; a release is evidence only when every one passes.",
  {
    name: str('Name shown in results.'),
    path: str('Path (with query) appended to the route, e.g. /health.', { pattern: /^\/\S*$/, hint: 'write a path starting with / without spaces' }),
    method: str('HTTP method.', { enum: ['GET', 'HEAD'], default: 'GET' }),
    status: int('Expected status.', { minimum: 100, maximum: 599, default: 200 }),
    body: str('Text the body must contain.'),
  },
  ['path'],
);

const promotion = obj('How releases are promoted into this environment (hashiship promote).', {
  require_approval: bool('Promotions need --approve.', false),
  min_soak: duration('The source release must be at least this old.'),
  steps: list('Canary traffic steps in percent, increasing, ending with 100 (the promotion).', int('A percentage.', { minimum: 1, maximum: 100 }), 1),
  hold: duration('How long each weight step is held with health re-checked.', '30s'),
});

/** `jobs/services/<name>.yaml`. */
export const serviceSchema: ObjectSchema = obj(
  'A hashiship service spec: one Nomad job.',
  {
    $schema: str('Path or URL of this JSON Schema (for editors).'),
    name: str(
      'Job ID and default Consul service name; a dotted ID (`billing.api`) or one with underscores (`node_exporter`) needs a `name` on every service.',
      {
        pattern: JOB_ID,
        hint: JOB_ID_HINT,
      },
    ),
    type: str('Job type; periodic is a batch job run on a cron schedule; sysbatch runs a batch task on every node (on a schedule with `periodic`).', {
      enum: ['service', 'batch', 'periodic', 'system', 'sysbatch'],
      default: 'service',
    }),
    namespace: str('Nomad namespace (the environment may override).', { pattern: NAMESPACE, hint: 'use letters, digits and dashes' }),
    region: str('Nomad region (the environment may override).', { pattern: REGION, hint: 'use lower-case letters, digits, dashes and underscores' }),
    datacenters: list(
      'Datacenters to run in (the environment may override). Unset: `["*"]` written into the job; `[]`: none written, so Nomad fills in its default (`["*"]`) when it registers the job.',
      str('A datacenter (globs allowed).', {
        pattern: DATACENTER,
        hint: 'use letters, digits, dots, dashes, underscores and *',
      }),
      0,
    ),
    node_pool: str('Node pool.', { pattern: /^[a-zA-Z0-9_-]{1,128}$/, hint: 'use letters, digits, dashes and underscores' }),
    priority: int('Scheduling priority, 1–100.', { minimum: 1, maximum: 100, default: 50 }),
    update: jobUpdate,
    migrate: jobMigrate,
    periodic: obj('Schedule of a periodic job, or of a periodic sysbatch job (`type: sysbatch`).', {
      cron: str('Cron expression (5 or 6 fields, or @daily/@hourly/…). Set `cron` or `crons`.'),
      crons: list('Several cron expressions; the job runs at each.', str('A cron expression.'), 1),
      time_zone: str('IANA time zone of the schedule.', { pattern: TIME_ZONE, hint: 'write an IANA zone such as Europe/Berlin or UTC' }),
      prohibit_overlap: bool('Skip a run while the previous one is still running.', true),
      enabled: bool('Whether the schedule is active.', true),
    }),
    parameterized: obj('A batch or sysbatch job started by `nomad job dispatch` with meta and a payload (Nomad `parameterized`).', {
      payload: str('Whether a dispatch carries a payload.', { enum: ['optional', 'required', 'forbidden'], default: 'optional' }),
      meta_required: list('Meta keys each dispatch must give.', str('A meta key.', { pattern: META_KEY, hint: META_HINT })),
      meta_optional: list('Meta keys a dispatch may give.', str('A meta key.', { pattern: META_KEY, hint: META_HINT })),
    }),
    ui: obj("How the job shows in Nomad's web UI.", {
      description: str('Markdown description.'),
      links: list(
        'Links shown with the job.',
        obj('A link.', { label: str('Text of the link.'), url: str('Address.', { pattern: /^https?:\/\/\S+$/, hint: 'write an http(s) URL' }) }, [
          'label',
          'url',
        ]),
      ),
    }),
    meta: meta('Job meta'),
    constraints: list('Placement constraints for every group.', constraint),
    affinities: list('Placement preferences for every group.', affinity),
    spread: list('Spread for every group.', spread),
    smoke: list('Smoke requests sent through Fabio after a deployment.', smoke),
    groups: list('Task groups.', group, 1),
    kind: str('Kind of spec: `job` (a Nomad job, the default) or `external` (see the external schema).', { enum: ['job', 'external'], default: 'job' }),
    config: configMap('Service configuration'),
    nomad: nomadRaw('Job'),
  },
  ['name', 'groups'],
);

const updateOverride = obj('Rollout overrides.', UPDATE_FIELDS);

const taskOverride = obj('Overrides for one task.', {
  resources: resourcesOverride,
  env: map('Variables added or replaced.', ENV_NAME, ENV_HINT, str('A value.')),
  image: obj('Image overrides.', {
    tag: str('Image tag.', { pattern: TAG, hint: 'use letters, digits, _ . - (at most 128, not starting with . or -)' }),
    digest: str('Content digest.', { pattern: DIGEST, hint: 'write sha256: followed by 64 lower-case hex digits' }),
  }),
});

const groupOverride = obj('Overrides for one group.', {
  count: int('Allocations.', { minimum: 0, maximum: MAX_COUNT }),
  update: updateOverride,
  scaling: obj('Scaling limit overrides.', {
    min: int('Fewest allocations.', { minimum: 0, maximum: MAX_COUNT }),
    max: int('Most allocations.', { minimum: 1, maximum: MAX_COUNT }),
    enabled: bool('Whether the autoscaler acts.'),
  }),
  constraints: list('Constraints added in this environment.', constraint),
  tasks: map('Task overrides by task name.', UNIT, UNIT_HINT, taskOverride),
});

const serviceOverride = obj('Overrides for one service in this environment.', {
  namespace: str('Nomad namespace.', { pattern: NAMESPACE, hint: 'use letters, digits and dashes' }),
  datacenters: list(
    'Datacenters; `[]`: none in the job (Nomad fills in `["*"]`).',
    str('A datacenter.', { pattern: DATACENTER, hint: 'use letters, digits, dots, dashes, underscores and *' }),
    0,
  ),
  priority: int('Priority.', { minimum: 1, maximum: 100 }),
  vault_role: str("Vault role for this service's secrets.", { pattern: VAULT_ROLE, hint: 'use letters, digits, _ . -' }),
  meta: meta('Job meta added in this environment'),
  periodic: obj('Schedule overrides.', {
    cron: str('Cron expression.'),
    enabled: bool('Whether the schedule is active.'),
  }),
  groups: map('Group overrides by group name.', UNIT, UNIT_HINT, groupOverride),
  config: configMap('Configuration added or replaced in this environment'),
});

/** `jobs/environments/<env>.yaml`. */
export const environmentSchema: ObjectSchema = obj(
  'A hashiship environment: where and how big every service runs there.',
  {
    $schema: str('Path or URL of this JSON Schema (for editors).'),
    name: str('Environment name; must match the file name.', { pattern: ENVIRONMENT_NAME, hint: ENVIRONMENT_NAME_HINT }),
    region: str('Nomad region.', { pattern: REGION, hint: 'use lower-case letters, digits, dashes and underscores' }),
    namespace: str('Nomad namespace.', { pattern: NAMESPACE, hint: 'use letters, digits and dashes' }),
    namespaces: list(
      "Nomad namespaces hashiship creates when missing: shown in the plan, created on deploy, never changed or deleted. The environment's own `namespace` is not implied.",
      obj(
        'A Nomad namespace.',
        {
          name: str('Namespace name.', { pattern: NAMESPACE, hint: 'use letters, digits and dashes, at most 128' }),
          description: str('Description given to the namespace when hashiship creates it.', { maxLength: 256 }),
        },
        ['name'],
      ),
    ),
    datacenters: list(
      'Datacenters; `[]`: none in the job (Nomad fills in `["*"]`).',
      str('A datacenter.', { pattern: DATACENTER, hint: 'use letters, digits, dots, dashes, underscores and *' }),
      0,
    ),
    registry: str('Registry host[:port] prefixed to image repositories.', {
      pattern: HOST_PORT,
      hint: 'write host or host:port, e.g. registry.qa.example.com:5000',
    }),
    domain: str('Domain joined to route host names.', { pattern: DOMAIN, hint: 'write a lower-case DNS name such as qa.example.com' }),
    vault_role: str('Default Vault role for services with secrets.', { pattern: VAULT_ROLE, hint: 'use letters, digits, _ . -' }),
    update: updateOverride,
    meta: meta('Job meta added to every service'),
    promotion: promotion,
    defaults: obj(
      "hashiship's default opinions for every service of this environment, each applied where a spec leaves the field out (docs/spec.md lists them).",
      {
        shutdown_delay: duration('Shutdown delay of groups that register services (Nomad: 0).', '5s'),
        memory: int('Task memory in MB (Nomad: 300).', { minimum: 10, maximum: MAX_MEMORY_MB, default: 128 }),
        prohibit_overlap: bool('Periodic jobs skip a run while the previous one runs (Nomad: false).', true),
        vault_env: bool("The Vault token in the task's environment as VAULT_TOKEN (Nomad: true).", false),
        canary_tags: str(
          'What canaries of a service without `canary_tags` carry: `fabio` (its tags and `canary`) or `nomad` (its tags, as Nomad does). Services with routes keep `fabio`: promotions steer Fabio weights by the `canary` tag.',
          { enum: ['fabio', 'nomad'], default: 'fabio' },
        ),
        publish_ports: str(
          "Which ports a docker task without `ports` publishes: `implicit` (the group's only main docker task: every group port no other task lists) or `listed` (none, as Nomad does).",
          { enum: ['implicit', 'listed'], default: 'implicit' },
        ),
      },
    ),
    services: map('Per-service overrides by service name.', JOB_ID, JOB_ID_HINT, serviceOverride),
    external: map('Per-external-service overrides by name (`kind: external` specs).', NAME, NAME_HINT, externalOverride),
  },
  ['name'],
);

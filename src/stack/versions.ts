/**
 * The pinned peers of the local stack and how each one is obtained.
 *
 * Consul, Nomad and Vault replace nested modules (`./api`, `./sdk`, …) that the
 * module zips leave out. The Go module proxy reached here serves only versions it
 * has cached, and not the pseudo-versions at each release commit, so each nested
 * module is pinned to the version the release's own go.mod requires (or, for
 * Nomad's api, whose go.mod names a 2023 placeholder, the nearest cached
 * pseudo-version after the release) and copied into the path the replace names.
 */

export interface GoBuild {
  readonly kind: 'go';
  /** Executable name, also the cache folder name. */
  readonly name: string;
  readonly module: string;
  readonly version: string;
  /** Package to build inside the module. @default "." */
  readonly pkg?: string;
  /** Nested modules: the replace's relative path → module@version to copy there. */
  readonly nested?: Readonly<Record<string, string>>;
  /** Build with cgo. @default false */
  readonly cgo?: boolean;
  /** Extra `go build -tags`. */
  readonly tags?: readonly string[];
  /** Arguments printing the version, and a regex whose first group is the version. */
  readonly versionArgs: readonly string[];
  readonly versionPattern: RegExp;
}

export interface DebianTool {
  readonly kind: 'debian';
  readonly name: string;
  /** Debian package providing it. */
  readonly pkg: string;
  readonly version: string;
  readonly versionArgs: readonly string[];
  readonly versionPattern: RegExp;
}

export type Tool = GoBuild | DebianTool;

export const consul: GoBuild = {
  kind: 'go',
  name: 'consul',
  module: 'github.com/hashicorp/consul',
  version: 'v1.22.5',
  nested: {
    api: 'github.com/hashicorp/consul/api@v1.33.2',
    sdk: 'github.com/hashicorp/consul/sdk@v0.17.1',
    envoyextensions: 'github.com/hashicorp/consul/envoyextensions@v0.9.2',
    'proto-public': 'github.com/hashicorp/consul/proto-public@v0.7.1',
    troubleshoot: 'github.com/hashicorp/consul/troubleshoot@v0.8.3',
  },
  versionArgs: ['version'],
  versionPattern: /^Consul v(\d+\.\d+\.\d+)/m,
};

export const nomad: GoBuild = {
  kind: 'go',
  name: 'nomad',
  module: 'github.com/hashicorp/nomad',
  version: 'v1.11.3',
  nested: { api: 'github.com/hashicorp/nomad/api@v0.0.0-20260324203407-b27b0c2e019a' },
  cgo: true,
  versionArgs: ['version'],
  versionPattern: /^Nomad v(\d+\.\d+\.\d+)/m,
};

export const vault: GoBuild = {
  kind: 'go',
  name: 'vault',
  module: 'github.com/hashicorp/vault',
  // 1.21.2 and 1.21.4 (tried) do not compile against any tagged sdk: their branch
  // uses sdk changes (observations, 3-argument ActivationFunc) that were tagged only
  // together with others it does not have. 1.21.0 is consistent with the sdk v0.20.0
  // its go.mod names.
  version: 'v1.21.0',
  nested: {
    api: 'github.com/hashicorp/vault/api@v1.22.0',
    sdk: 'github.com/hashicorp/vault/sdk@v0.20.0',
    'api/auth/approle': 'github.com/hashicorp/vault/api/auth/approle@v0.1.0',
    'api/auth/userpass': 'github.com/hashicorp/vault/api/auth/userpass@v0.1.0',
    'api/auth/kubernetes': 'github.com/hashicorp/vault/api/auth/kubernetes@v0.10.0',
  },
  versionArgs: ['version'],
  versionPattern: /^Vault v(\d+\.\d+\.\d+)/m,
};

export const fabio: GoBuild = {
  kind: 'go',
  name: 'fabio',
  module: 'github.com/fabiolb/fabio',
  version: 'v1.7.2',
  versionArgs: ['-v'],
  versionPattern: /(\d+\.\d+\.\d+)/,
};

export const registry: DebianTool = {
  kind: 'debian',
  name: 'docker-registry',
  pkg: 'docker-registry',
  version: '2.8',
  versionArgs: ['--version'],
  versionPattern: /distribution (\d+\.\d+)/,
};

/**
 * The Docker engine (dockerd 20.10, with containerd and runc) from Debian's
 * `docker.io`; the stack runs its own instance (see docker.ts). The package's docker
 * CLI talks to it through DOCKER_HOST.
 */
export const dockerEngine: DebianTool = {
  kind: 'debian',
  name: 'dockerd',
  pkg: 'docker.io',
  version: '20.10',
  versionArgs: ['--version'],
  versionPattern: /Docker version (\d+\.\d+\.\d+)/,
};

export const skopeo: DebianTool = {
  kind: 'debian',
  name: 'skopeo',
  pkg: 'skopeo',
  version: '1.9',
  versionArgs: ['--version'],
  versionPattern: /version (\d+\.\d+)/,
};

/**
 * Debian's default JDK (17 on Debian 12): `java` for Nomad's java driver and `javac`,
 * `jar` and `jlink` for the JVM workloads and their runtime image (scripts/images/jre.sh).
 */
export const jdk: DebianTool = {
  kind: 'debian',
  name: 'javac',
  pkg: 'default-jdk-headless',
  version: '17',
  versionArgs: ['-version'],
  versionPattern: /javac (\d+)/,
};

/** tflint, for the Terraform checks in the tests (its terraform ruleset is bundled). */
export const tflint: GoBuild = {
  kind: 'go',
  name: 'tflint',
  module: 'github.com/terraform-linters/tflint',
  version: 'v0.61.0',
  versionArgs: ['--version'],
  versionPattern: /TFLint version (\S+)/,
};

/** For the cluster checks: cloud-init's schema validator, from Debian. */
export const cloudInitTool: DebianTool = {
  kind: 'debian',
  name: 'cloud-init',
  pkg: 'cloud-init',
  version: '22.4',
  versionArgs: ['--version'],
  versionPattern: /(\d+\.\d+)/,
};

/** For the cluster checks: shellcheck, from Debian. */
export const shellcheckTool: DebianTool = {
  kind: 'debian',
  name: 'shellcheck',
  pkg: 'shellcheck',
  version: '0.9',
  versionArgs: ['--version'],
  versionPattern: /version: (\S+)/,
};

/** crane, the registry benchmark's second peer (`crane copy`). */
export const crane: GoBuild = {
  kind: 'go',
  name: 'crane',
  module: 'github.com/google/go-containerregistry',
  version: 'v0.22.1',
  pkg: './cmd/crane',
  versionArgs: ['version'],
  versionPattern: /^v?(\d+\.\d+\.\d+)/m,
};

/** Tools the test suite and benchmarks need beyond the stack (`dev install --test-tools`). */
export const testTools: readonly Tool[] = [tflint, crane];

/** Everything `dev up` needs, in build order (quickest first). */
export const stackTools: readonly Tool[] = [registry, skopeo, dockerEngine, fabio, consul, nomad, vault];

/** The version a tool reports, without the leading `v` of a module version. */
export function plainVersion(t: Tool): string {
  return t.version.replace(/^v/, '');
}

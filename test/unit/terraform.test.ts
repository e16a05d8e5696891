/**
 * Structural checks of the Terraform code, parsed as HCL (hcl2-parser through
 * src/hcl/parser.ts). The AWS modules cannot be `terraform validate`d here (the AWS
 * provider cannot be downloaded); these assertions cover what matters most about
 * them without it. Expressions appear as "${…}" strings in hcl2json's shape.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentDefaults, defaultFabioUrl } from '../../src/agents/index.js';
import { parseHcl } from '../../src/hcl/parser.js';

type Obj = Record<string, unknown>;

const root = 'terraform';
const moduleDirs = readdirSync(join(root, 'modules')).map((m) => join(root, 'modules', m));
const environmentDirs = readdirSync(join(root, 'environments')).map((e) => join(root, 'environments', e));
const allDirs = [...moduleDirs, ...environmentDirs];

const loaded = new Map<string, Obj>();

/** Every top-level block of a module directory's .tf files, merged (parsed once). */
function load(dir: string): Obj {
  const cached = loaded.get(dir);
  if (cached !== undefined) return cached;
  const merged: Record<string, Obj | Obj[]> = {};
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.tf'))
    .sort()) {
    const doc = parseHcl(readFileSync(join(dir, name), 'utf8'));
    for (const [kind, value] of Object.entries(doc)) {
      if (Array.isArray(value)) merged[kind] = [...((merged[kind] as Obj[] | undefined) ?? []), ...(value as Obj[])];
      else {
        const into = (merged[kind] ??= {}) as Obj;
        for (const [k, v] of Object.entries(value as Obj)) {
          if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof into[k] === 'object') Object.assign(into[k] as Obj, v);
          else into[k] = v;
        }
      }
    }
  }
  loaded.set(dir, merged);
  return merged;
}

/** The single body of `resource "<type>" "<name>"` (or data, when kind says so). */
function body(mod: Obj, type: string, name: string, kind = 'resource'): Obj {
  const bodies = ((mod[kind] as Obj | undefined)?.[type] as Obj | undefined)?.[name] as Obj[] | undefined;
  expect(bodies, `${kind} ${type}.${name}`).to.be.an('array').with.length(1);
  return bodies![0]!;
}

/** The single body of a one-label block: `variable "x"`, `module "x"`. */
function labelled(mod: Obj, kind: string, name: string): Obj {
  const bodies = (mod[kind] as Obj | undefined)?.[name] as Obj[] | undefined;
  expect(bodies, `${kind} ${name}`).to.be.an('array').with.length(1);
  return bodies![0]!;
}

function resourcesOfType(mod: Obj, type: string): [string, Obj][] {
  const byName = ((mod['resource'] as Obj | undefined)?.[type] as Obj | undefined) ?? {};
  return Object.entries(byName).map(([n, b]) => [n, (b as Obj[])[0]!]);
}

/** The first nested block of a body. */
function nested(b: Obj, name: string): Obj {
  const blocks = b[name] as Obj[] | undefined;
  expect(blocks, name).to.be.an('array').that.is.not.empty;
  return blocks![0]!;
}

function locals(mod: Obj): Obj {
  return Object.assign({}, ...((mod['locals'] as Obj[] | undefined) ?? []));
}

describe('terraform: structure of every module and environment', () => {
  it('finds the modules and both environments', () => {
    expect(moduleDirs.map((d) => d.split('/').pop())).to.include.members(['userdata', 'servers', 'workers', 'vault', 'network']);
    expect(environmentDirs.map((d) => d.split('/').pop())).to.have.members(['qa', 'production']);
  });

  it('follows the standard module structure (main, variables, outputs, versions, README)', () => {
    for (const dir of allDirs) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) expect(existsSync(join(dir, f)), `${dir}/${f}`).to.equal(true);
    }
    for (const dir of moduleDirs) expect(existsSync(join(dir, 'README.md')), `${dir}/README.md`).to.equal(true);
  });

  it('types and describes every variable', () => {
    let count = 0;
    for (const dir of allDirs) {
      for (const [name, bodies] of Object.entries((load(dir)['variable'] as Obj | undefined) ?? {})) {
        const v = (bodies as Obj[])[0]!;
        expect(v['type'], `${dir}: variable ${name} has no type`).to.be.a('string');
        expect(v['description'], `${dir}: variable ${name} has no description`).to.be.a('string').with.length.above(10);
        count++;
      }
    }
    expect(count).to.be.above(50);
  });

  it('marks secret-carrying variables sensitive, and carries no secret values at all', () => {
    // Secrets are fetched at boot from SSM; Terraform only sees their names. Any
    // variable that would carry one must at least be sensitive.
    const secretish = /token|password|gossip|encrypt|private_key|secret_value|credential/;
    const secretShaped = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"[A-Za-z0-9+/]{43}="/;
    for (const dir of allDirs) {
      for (const [name, bodies] of Object.entries((load(dir)['variable'] as Obj | undefined) ?? {})) {
        const v = (bodies as Obj[])[0]!;
        if (secretish.test(name)) expect(v['sensitive'], `${dir}: variable ${name} must be sensitive`).to.equal(true);
        expect(JSON.stringify(v['default'] ?? null), `${dir}: default of ${name}`).not.to.match(secretShaped);
      }
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.example'))) {
        expect(readFileSync(join(dir, f), 'utf8'), `${dir}/${f}`).not.to.match(secretShaped);
      }
    }
  });

  it('uses no launch configurations, and every launch template requires IMDSv2', () => {
    let templates = 0;
    for (const dir of allDirs) {
      const mod = load(dir);
      expect(resourcesOfType(mod, 'aws_launch_configuration'), dir).to.be.empty;
      for (const [name, lt] of resourcesOfType(mod, 'aws_launch_template')) {
        const md = nested(lt, 'metadata_options');
        expect(md['http_tokens'], `${dir}: ${name}`).to.equal('required');
        expect(md['http_endpoint'], `${dir}: ${name}`).to.equal('enabled');
        templates++;
      }
      // Instances inherit IMDSv2 from their launch template.
      for (const [name, inst] of resourcesOfType(mod, 'aws_instance')) {
        expect(nested(inst, 'launch_template')['id'], `${dir}: aws_instance.${name}`).to.match(/^\$\{aws_launch_template\./);
      }
    }
    expect(templates).to.equal(3);
  });

  it('installs the package versions the agent configs are validated with (src/stack/versions.ts)', () => {
    // Regression guard: a bump of a pinned peer must reach the machines too.
    let seen = 0;
    for (const dir of moduleDirs) {
      const packages = (load(dir)['variable'] as Obj | undefined)?.['packages'] as Obj[] | undefined;
      if (packages === undefined) continue;
      const type = String(packages[0]!['type']);
      for (const m of type.matchAll(/(consul|nomad|vault)\s*=\s*optional\(string,\s*"([^"]+)"\)/g)) {
        expect(m[2], `${dir}: packages.${m[1]}`).to.equal(agentDefaults.packages[m[1] as 'consul' | 'nomad' | 'vault']);
        seen++;
      }
    }
    expect(seen).to.equal(9);
    const fabio = String(((load(join(root, 'modules', 'userdata'))['variable'] as Obj)['fabio'] as Obj[])[0]!['type']);
    expect(fabio).to.contain(defaultFabioUrl);
  });

  it('keeps the userdata module provider-free', () => {
    const mod = load(join(root, 'modules', 'userdata'));
    expect(mod['resource'], 'resources').to.equal(undefined);
    expect(mod['data'], 'data sources').to.equal(undefined);
    expect(JSON.stringify(mod['terraform'])).not.to.contain('required_providers');
  });
});

describe('terraform: modules/servers', () => {
  const mod = load(join(root, 'modules', 'servers'));

  it('runs 3 or 5 masters, each with its own Elastic IP', () => {
    const count = body(mod, 'aws_instance', 'master')['count'];
    expect(count).to.equal('${var.master_count}');
    expect(body(mod, 'aws_eip', 'master')['count']).to.equal(count);
    expect(body(mod, 'aws_eip_association', 'master')['count']).to.equal(count);
    expect(body(mod, 'aws_eip_association', 'master')['instance_id']).to.equal('${aws_instance.master[count.index].id}');
    const validation = nested(labelled(mod, 'variable', 'master_count'), 'validation');
    expect(validation['condition']).to.equal('${contains([3, 5], var.master_count)}');
  });

  it('never replaces all masters because the user data changed', () => {
    const ignored = nested(body(mod, 'aws_instance', 'master'), 'lifecycle')['ignore_changes'];
    expect(ignored).to.include.members(['${launch_template}', '${user_data}', '${user_data_base64}']);
  });

  it('opens exactly the Consul and Nomad server ports, never SSH', () => {
    const ingress = locals(mod)['master_ingress'] as Record<string, { port: number; protocol: string; from: string }>;
    const ports = new Set(Object.values(ingress).map((r) => r.port));
    expect([...ports].sort((a, b) => a - b)).to.deep.equal([4646, 4647, 4648, 8300, 8301, 8302, 8500, 8501, 8600]);
    expect(
      Object.values(ingress)
        .filter((r) => r.protocol === 'udp')
        .map((r) => r.port)
        .sort(),
    ).to.deep.equal([4648, 8301, 8302, 8600]);
    expect(Object.values(locals(mod)['admin_ports'] as Record<string, number>).every((p) => ports.has(p))).to.equal(true);
    expect(body(mod, 'aws_vpc_security_group_ingress_rule', 'master')['for_each']).to.equal('${local.master_ingress}');
  });

  it('gives masters the shared instance profile, reading exactly their own boot secrets', () => {
    const ip = labelled(mod, 'module', 'instance_profile');
    expect(ip['secret_paths']).to.equal('${module.userdata.secret_paths}');
    expect(ip['name_prefix']).to.equal('${var.name}-master-');
    expect(ip['statements'], 'masters need nothing beyond auto-join and their secrets').to.equal(undefined);
  });
});

describe('terraform: modules/workers', () => {
  const mod = load(join(root, 'modules', 'workers'));
  const asg = body(mod, 'aws_autoscaling_group', 'worker');

  it('scales workers in an Auto Scaling Group from a launch template', () => {
    expect(asg['min_size']).to.equal('${var.min_size}');
    expect(asg['max_size']).to.equal('${var.max_size}');
    expect(asg['desired_capacity']).to.equal('${var.desired_capacity}');
    expect(nested(asg, 'launch_template')['id']).to.equal('${aws_launch_template.worker.id}');
  });

  it("refreshes instances on template change, using the template's latest version", () => {
    expect(nested(asg, 'launch_template')['version']).to.equal('${aws_launch_template.worker.latest_version}');
    const refresh = nested(asg, 'instance_refresh');
    expect(refresh['strategy']).to.equal('Rolling');
    expect(nested(refresh, 'preferences')['min_healthy_percentage']).to.equal('${var.min_healthy_percentage}');
  });

  it("health-checks through the load balancer's target group on Fabio's ports", () => {
    expect(asg['health_check_type']).to.equal('ELB');
    expect(asg['target_group_arns']).to.deep.equal(['${aws_lb_target_group.fabio.arn}']);
    const tg = body(mod, 'aws_lb_target_group', 'fabio');
    expect(tg['port']).to.equal(9999);
    expect(nested(tg, 'health_check')).to.include({ path: '/health', port: '9998' });
  });

  it('drains a worker before scale-in terminates it: a terminating lifecycle hook, and the drain units in its user data', () => {
    const hook = body(mod, 'aws_autoscaling_lifecycle_hook', 'drain');
    expect(hook).to.include({
      autoscaling_group_name: '${aws_autoscaling_group.worker.name}',
      lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      default_result: 'CONTINUE',
      heartbeat_timeout: '${var.drain_heartbeat_timeout}',
      name: '${local.drain_hook}',
    });
    const drain = labelled(mod, 'module', 'userdata')['drain'];
    expect(drain).to.deep.equal({ lifecycle_hook: '${local.drain_hook}', deadline: '${var.drain_deadline}' });
    const validation = nested(labelled(mod, 'variable', 'drain_heartbeat_timeout'), 'validation');
    expect(validation['condition']).to.contain('7200');
  });

  it("lets workers complete only their own groups' drain hook, and read the drain token with ACLs", () => {
    const ip = labelled(mod, 'module', 'instance_profile');
    const statements = ip['statements'] as { sid: string; actions: string[]; resources: string[] }[];
    const complete = statements.find((x) => x.sid === 'CompleteDrainHook');
    expect(complete?.actions).to.include('autoscaling:CompleteLifecycleAction');
    expect(complete?.resources).to.have.length(1);
    expect(complete!.resources[0]).to.match(/:autoScalingGroup:\*:autoScalingGroupName\/\$\{var\.name\}-worker-\*$/);
    expect(statements.find((x) => x.sid === 'FindOwnGroup')?.actions).to.deep.equal(['autoscaling:DescribeAutoScalingInstances']);
    expect(ip['secret_paths']).to.contain('module.userdata.secret_paths').and.to.contain('/nomad/drain-token');
  });

  it('opens no SSH and no port to the world', () => {
    const ingress = locals(mod)['worker_ingress'] as Record<string, { from_port: number; from: string }>;
    expect(Object.values(ingress).map((r) => r.from_port)).not.to.include(22);
    expect(JSON.stringify(mod['resource'])).not.to.contain('0.0.0.0/0');
  });
});

describe('terraform: modules/vault', () => {
  const mod = load(join(root, 'modules', 'vault'));

  it('auto-unseals with its own KMS key (raft auto-join comes with the shared instance profile)', () => {
    const statements = labelled(mod, 'module', 'instance_profile')['statements'] as Obj[];
    expect(statements).to.have.length(1);
    expect(statements[0]).to.deep.equal({
      sid: 'AutoUnseal',
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
      resources: ['${aws_kms_key.unseal.arn}'],
    });
    expect(body(mod, 'aws_kms_key', 'unseal')['enable_key_rotation']).to.equal(true);
  });

  it('renders role vault with its own join tag and the KMS key', () => {
    const ud = labelled(mod, 'module', 'userdata');
    expect(ud['role']).to.equal('vault');
    expect(ud['vault_join_tag']).to.equal('${local.join_tag}');
    expect(ud['vault_kms_key_id']).to.equal('${aws_kms_key.unseal.arn}');
  });
});

describe('terraform: modules/instance-profile (the IAM of servers, workers and vault, written once)', () => {
  const mod = load(join(root, 'modules', 'instance-profile'));

  it('lets a machine list instances for cloud auto-join and read exactly the secrets it is given', () => {
    const statements = body(mod, 'aws_iam_policy_document', 'this', 'data')['statement'] as Obj[];
    expect(statements.find((s) => s['sid'] === 'AutoJoin')?.['actions']).to.deep.equal(['ec2:DescribeInstances']);
    const boot = statements.find((s) => s['sid'] === 'BootSecrets');
    expect(boot?.['actions']).to.deep.equal(['ssm:GetParameter']);
    expect(JSON.stringify(boot)).to.contain('var.secret_paths');
    expect(JSON.stringify(body(mod, 'aws_iam_policy_document', 'this', 'data')['dynamic'])).to.contain('var.statements');
  });

  for (const [m, old] of [
    ['servers', 'master'],
    ['workers', 'worker'],
    ['vault', 'vault'],
  ] as const) {
    it(`modules/${m} uses it, defines no IAM of its own, and moves its old IAM resources into it`, () => {
      const mm = load(join(root, 'modules', m));
      expect(labelled(mm, 'module', 'instance_profile')['source']).to.equal('../instance-profile');
      for (const t of ['aws_iam_role', 'aws_iam_role_policy', 'aws_iam_role_policy_attachment', 'aws_iam_instance_profile']) {
        expect(resourcesOfType(mm, t), `${m}: ${t}`).to.be.empty;
      }
      expect(((mm['data'] as Obj | undefined)?.['aws_iam_policy_document'] as Obj | undefined) ?? {}, `${m}: policy documents`).to.deep.equal({});
      const lt = resourcesOfType(mm, 'aws_launch_template')[0]![1];
      expect(nested(lt, 'iam_instance_profile')['arn']).to.equal('${module.instance_profile.arn}');
      const moved = (mm['moved'] as { from: string; to: string }[]).map((x) => `${x.from} -> ${x.to}`);
      expect(moved).to.have.members([
        `\${aws_iam_role.${old}} -> \${module.instance_profile.aws_iam_role.this}`,
        `\${aws_iam_role_policy.${old}} -> \${module.instance_profile.aws_iam_role_policy.this}`,
        '${aws_iam_role_policy_attachment.session_manager} -> ${module.instance_profile.aws_iam_role_policy_attachment.session_manager}',
        `\${aws_iam_instance_profile.${old}} -> \${module.instance_profile.aws_iam_instance_profile.this}`,
      ]);
    });
  }
});

# Offline tests of the provider-free userdata module: each run renders a role and
# asserts on the cloud-config it produces. `terraform test` runs them without any
# provider or network access.

variables {
  aws_region = "eu-west-1"
  datacenter = "qa"
  join_tag   = { key = "hashiship-role", value = "qa-master" }
  secrets    = { source = "ssm", prefix = "/hashiship/qa" }
  fabio      = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
}

run "server_cloud_join_tls_acl" {
  command = apply

  variables {
    role             = "server"
    bootstrap_expect = 5
  }

  assert {
    condition     = startswith(output.cloud_config, "#cloud-config\n")
    error_message = "user data must start with #cloud-config"
  }
  assert {
    condition     = can(regex("bootstrap_expect += 5\n", output.cloud_config))
    error_message = "Consul and Nomad servers must expect 5 servers"
  }
  assert {
    condition     = strcontains(output.cloud_config, "retry_join              = [\"provider=aws tag_key=hashiship-role tag_value=qa-master\"]")
    error_message = "Consul must join through the cloud auto-join string"
  }
  assert {
    condition     = strcontains(output.cloud_config, "default_policy           = \"deny\"")
    error_message = "Consul ACLs must default to deny"
  }
  assert {
    condition     = strcontains(output.cloud_config, "cert_file              = \"/etc/nomad.d/tls/server.pem\"")
    error_message = "Nomad servers must use the server certificate"
  }
  assert {
    condition     = strcontains(output.cloud_config, "path: /etc/systemd/system/nomad.service") && !strcontains(output.cloud_config, "fabio.service")
    error_message = "servers run Consul and Nomad, not Fabio"
  }
  assert {
    condition     = output.secret_paths == ["/hashiship/qa/consul/gossip-key", "/hashiship/qa/consul/agent-token", "/hashiship/qa/tls/ca.pem", "/hashiship/qa/tls/consul-server.pem", "/hashiship/qa/tls/consul-server-key.pem", "/hashiship/qa/nomad/gossip-key", "/hashiship/qa/nomad/consul-token", "/hashiship/qa/tls/nomad-server.pem", "/hashiship/qa/tls/nomad-server-key.pem"]
    error_message = "a TLS+ACL server fetches exactly its gossip keys, tokens and certificates"
  }
  assert {
    # Only names of secrets: no gossip key value, no token value.
    condition     = !can(regex("encrypt *= *\"[A-Za-z0-9+/]{20,}", output.cloud_config)) && !can(regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output.cloud_config))
    error_message = "no secret value may appear in user data"
  }
  assert {
    condition     = length(output.user_data_base64) <= 16384
    error_message = "compressed user data must fit EC2's 16 KiB"
  }
}

run "client_static_join_plain" {
  command = apply

  variables {
    role           = "client"
    join_tag       = null
    join_addresses = ["10.0.1.10", "10.0.2.10", "10.0.3.10"]
    tls            = false
    acl            = false
    raw_exec       = true
    host_volumes   = [{ name = "data", path = "/srv/data" }, { name = "certs", path = "/etc/ssl/certs", read_only = true }]
  }

  assert {
    condition     = strcontains(output.cloud_config, "retry_join = [\"10.0.1.10\",\"10.0.2.10\",\"10.0.3.10\"]")
    error_message = "Nomad clients must join the static server addresses"
  }
  assert {
    condition     = !strcontains(output.cloud_config, "\n      tls {") && !strcontains(output.cloud_config, "\n      acl {")
    error_message = "no tls or acl block when both are off"
  }
  assert {
    condition     = strcontains(output.cloud_config, "plugin \"raw_exec\" {") && strcontains(output.cloud_config, "host_volume \"certs\" {\n          path      = \"/etc/ssl/certs\"\n          read_only = true")
    error_message = "raw_exec and host volumes must be rendered"
  }
  assert {
    condition     = strcontains(output.cloud_config, "path: /etc/fabio/fabio.properties") && strcontains(output.cloud_config, "FABIO_SHA256='0000000000000000000000000000000000000000000000000000000000000000'")
    error_message = "workers run Fabio, verified by its SHA-256"
  }
  assert {
    condition     = output.secret_names == ["consul/gossip-key"]
    error_message = "without TLS and ACLs a client only fetches the Consul gossip key"
  }
}

run "client_drain_on_termination" {
  command = apply

  variables {
    role  = "client"
    drain = { deadline = "2m" }
  }

  assert {
    condition     = strcontains(output.cloud_config, "  - path: /usr/local/sbin/hashiship-drain\n    owner: root:root\n    permissions: '0755'\n    content: |\n      #!/bin/bash\n")
    error_message = "the drain script must be written, executable"
  }
  assert {
    condition     = strcontains(output.cloud_config, "nomad node drain -self -enable -yes -deadline \"$DRAIN_DEADLINE\"") && strcontains(output.cloud_config, "complete-lifecycle-action")
    error_message = "the script must drain this node, then complete the lifecycle hook"
  }
  assert {
    condition     = strcontains(output.cloud_config, "      LIFECYCLE_HOOK='drain'\n      DRAIN_DEADLINE='2m'\n      ACL='true'\n      SECRET_SOURCE='ssm'\n      SECRET_PREFIX='/hashiship/qa'\n")
    error_message = "drain.env must carry the hook, the deadline and where the drain token is"
  }
  assert {
    condition     = strcontains(output.cloud_config, "      ExecStop=/usr/local/sbin/hashiship-drain shutdown\n      TimeoutStopSec=180\n") && strcontains(output.cloud_config, "path: /etc/systemd/system/hashiship-lifecycle.service")
    error_message = "the units must drain at shutdown (deadline + 60 s to stop) and watch the lifecycle state"
  }
  assert {
    condition     = endswith(output.cloud_config, "runcmd:\n  - [/usr/local/sbin/hashiship-boot, all]\n  - [systemctl, enable, --now, hashiship-drain.service, hashiship-lifecycle.service]\n")
    error_message = "the drain units start after the boot script"
  }
  assert {
    condition     = length(regexall("\nwrite_files:\n", output.cloud_config)) == 1 && length(regexall("\nruncmd:\n", output.cloud_config)) == 1
    error_message = "one write_files list and one runcmd list"
  }
  assert {
    condition     = length(output.user_data_base64) <= 16384
    error_message = "compressed user data must fit EC2's 16 KiB"
  }
}

run "rejects_drain_on_server" {
  command = plan

  variables {
    role  = "server"
    drain = {}
  }

  expect_failures = [output.cloud_config]
}

run "vault_kms_cloud_join" {
  command = apply

  variables {
    role             = "vault"
    vault_join_tag   = { key = "hashiship-role", value = "qa-vault" }
    vault_kms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = strcontains(output.cloud_config, "auto_join        = \"provider=aws tag_key=hashiship-role tag_value=qa-vault\"")
    error_message = "Vault raft must auto-join the Vault instances"
  }
  assert {
    condition     = strcontains(output.cloud_config, "seal \"awskms\" {")
    error_message = "Vault must auto-unseal with the KMS key"
  }
  assert {
    condition     = strcontains(output.cloud_config, "retry_join              = [\"provider=aws tag_key=hashiship-role tag_value=qa-master\"]")
    error_message = "Vault's Consul client joins the Consul servers"
  }
  assert {
    condition     = !strcontains(output.cloud_config, "nomad.hcl")
    error_message = "Vault nodes run no Nomad"
  }
}

run "rejects_even_bootstrap_expect" {
  command = plan

  variables {
    role             = "server"
    bootstrap_expect = 4
  }

  expect_failures = [var.bootstrap_expect]
}

run "rejects_unknown_role" {
  command = plan

  variables {
    role = "bastion"
  }

  expect_failures = [var.role]
}

run "rejects_unverified_secret_source" {
  command = plan

  variables {
    role    = "server"
    secrets = { source = "s3", prefix = "/hashiship/qa" }
  }

  expect_failures = [var.secrets]
}

locals {
  cloud_join       = var.join_tag != null
  vault_join_tag   = var.vault_join_tag != null ? var.vault_join_tag : (length(var.vault_join_addresses) == 0 ? var.join_tag : null)
  vault_join_addrs = var.vault_join_tag == null && length(var.vault_join_addresses) == 0 ? var.join_addresses : var.vault_join_addresses

  # Exactly the parameters of the templates, which `hashiship agent-config
  # --terraform-templates` generates from the same description as the CLI's files.
  params = {
    datacenter           = var.datacenter
    region               = var.region
    aws_region           = var.aws_region
    cloud_join           = local.cloud_join
    auto_join            = local.cloud_join ? "provider=aws tag_key=${var.join_tag.key} tag_value=${var.join_tag.value}" : ""
    join_addresses       = local.cloud_join ? [] : var.join_addresses
    vault_cloud_join     = local.vault_join_tag != null
    vault_auto_join      = local.vault_join_tag != null ? "provider=aws tag_key=${local.vault_join_tag.key} tag_value=${local.vault_join_tag.value}" : ""
    vault_join_addresses = local.vault_join_tag != null ? [] : local.vault_join_addrs
    bootstrap_expect     = var.bootstrap_expect
    tls                  = var.tls
    acl                  = var.acl
    raw_exec             = var.raw_exec
    java                 = var.java
    host_volumes         = [for v in var.host_volumes : { name = v.name, path = v.path, read_only = v.read_only }]
    vault_address        = var.vault_address != null ? var.vault_address : "${var.tls ? "https" : "http"}://vault.service.consul:8200"
    vault_awskms         = var.vault_kms_key_id != null
    vault_kms_key_id     = var.vault_kms_key_id != null ? var.vault_kms_key_id : ""
    secret_source        = var.secrets.source
    secret_prefix        = var.secrets.prefix
    consul_package       = var.packages.consul
    nomad_package        = var.packages.nomad
    vault_package        = var.packages.vault
    fabio_url            = var.fabio.url
    fabio_sha256         = var.fabio.sha256
  }

  generated = templatefile("${path.module}/templates/${var.role}.yaml.tftpl", local.params)

  # Drain on termination (workers, var.drain): four more files in write_files, and
  # their units enabled after the boot script. The generated part stays as it is.
  drain_seconds = var.drain == null ? 0 : tonumber(regex("^[0-9]+", var.drain.deadline)) * { s = 1, m = 60, h = 3600 }[regex("[smh]$", var.drain.deadline)]
  drain_files = var.drain == null ? [] : [
    {
      path = "/etc/hashiship/drain.env"
      mode = "0644"
      content = templatefile("${path.module}/templates/drain/drain.env.tftpl", {
        lifecycle_hook = var.drain.lifecycle_hook
        deadline       = var.drain.deadline
        acl            = var.acl
        tls            = var.tls
        region         = var.region
        aws_region     = var.aws_region
        secret_source  = var.secrets.source
        secret_prefix  = var.secrets.prefix
      })
    },
    { path = "/usr/local/sbin/hashiship-drain", mode = "0755", content = file("${path.module}/templates/drain/hashiship-drain") },
    { path = "/etc/systemd/system/hashiship-lifecycle.service", mode = "0644", content = file("${path.module}/templates/drain/hashiship-lifecycle.service") },
    {
      path    = "/etc/systemd/system/hashiship-drain.service"
      mode    = "0644"
      content = templatefile("${path.module}/templates/drain/hashiship-drain.service.tftpl", { timeout_seconds = local.drain_seconds + 60 })
    },
  ]
  drain_write_files = join("", [
    for f in local.drain_files :
    "  - path: ${f.path}\n    owner: root:root\n    permissions: '${f.mode}'\n    content: |\n      ${indent(6, trimsuffix(f.content, "\n"))}\n"
  ])
  cloud_config = var.drain == null ? local.generated : join("", [
    replace(local.generated, "\nruncmd:\n", "\n${local.drain_write_files}runcmd:\n"),
    "  - [systemctl, enable, --now, hashiship-drain.service, hashiship-lifecycle.service]\n",
  ])

  # The secrets this role fetches at boot, by name (see templates/secrets.json).
  secret_names = [
    for s in jsondecode(file("${path.module}/templates/secrets.json"))[var.role] : s.name
    if s.when == "always" || (s.when == "tls" && var.tls) || (s.when == "acl" && var.acl)
  ]
}

check "join" {
  assert {
    condition     = var.join_tag != null || length(var.join_addresses) > 0
    error_message = "Set join_tag (cloud auto-join) or join_addresses (static join)."
  }
}

variable "role" {
  type        = string
  description = "Machine role: \"server\" (master: Consul and Nomad servers), \"client\" (worker: Consul and Nomad clients, Fabio) or \"vault\" (Vault server with a Consul client)."

  validation {
    condition     = contains(["server", "client", "vault"], var.role)
    error_message = "role must be one of server, client, vault."
  }
}

variable "datacenter" {
  type        = string
  description = "Consul and Nomad datacenter name."
  default     = "dc1"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.datacenter))
    error_message = "datacenter must be lower-case letters, digits and dashes."
  }
}

variable "region" {
  type        = string
  description = "Nomad region name."
  default     = "global"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.region))
    error_message = "region must be lower-case letters, digits and dashes."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region the machines run in: used to read SSM parameters and, for Vault, the KMS seal."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "join_tag" {
  type = object({
    key   = string
    value = string
  })
  description = "Cloud auto-join: the EC2 tag (key and value) carried by the Consul and Nomad server instances. Null to join by join_addresses instead."
  default     = null

  validation {
    condition     = var.join_tag == null || can(regex("^[A-Za-z0-9._:/@+-]+$", "${var.join_tag.key}${var.join_tag.value}"))
    error_message = "join_tag key and value must be non-empty and contain no spaces or \"=\"."
  }
}

variable "join_addresses" {
  type        = list(string)
  description = "Static join: addresses of the Consul and Nomad servers, used when join_tag is null."
  default     = []

  validation {
    condition     = alltrue([for a in var.join_addresses : can(regex("^[A-Za-z0-9.:-]+$", a))])
    error_message = "join_addresses must be IP addresses or host names."
  }
}

variable "vault_join_tag" {
  type = object({
    key   = string
    value = string
  })
  description = "Cloud auto-join for Vault's raft storage: the EC2 tag of the Vault instances (role vault). Null to use vault_join_addresses, or join_tag when both are empty."
  default     = null

  validation {
    condition     = var.vault_join_tag == null || can(regex("^[A-Za-z0-9._:/@+-]+$", "${var.vault_join_tag.key}${var.vault_join_tag.value}"))
    error_message = "vault_join_tag key and value must be non-empty and contain no spaces or \"=\"."
  }
}

variable "vault_join_addresses" {
  type        = list(string)
  description = "Static join for Vault's raft storage: addresses of the Vault servers."
  default     = []

  validation {
    condition     = alltrue([for a in var.vault_join_addresses : can(regex("^[A-Za-z0-9.:-]+$", a))])
    error_message = "vault_join_addresses must be IP addresses or host names."
  }
}

variable "bootstrap_expect" {
  type        = number
  description = "Number of Consul and Nomad servers expected before the first leader election (role server)."
  default     = 3

  validation {
    condition     = var.bootstrap_expect >= 1 && floor(var.bootstrap_expect) == var.bootstrap_expect && var.bootstrap_expect % 2 == 1
    error_message = "bootstrap_expect must be odd (1, 3 or 5) so that a quorum exists."
  }
}

variable "tls" {
  type        = bool
  description = "TLS on every agent's RPC and HTTP (certificates fetched at boot from the secret store)."
  default     = true
}

variable "acl" {
  type        = bool
  description = "ACLs enabled with default deny (agent tokens fetched at boot from the secret store)."
  default     = true
}

variable "raw_exec" {
  type        = bool
  description = "Enable Nomad's raw_exec driver on clients (tasks run without isolation)."
  default     = false
}

variable "java" {
  type        = bool
  description = "Install a JRE on clients so that Nomad's java driver is available."
  default     = false
}

variable "host_volumes" {
  type = list(object({
    name      = string
    path      = string
    read_only = optional(bool, false)
  }))
  description = "Nomad client host volumes (role client)."
  default     = []

  validation {
    condition     = alltrue([for v in var.host_volumes : can(regex("^[a-z0-9][a-z0-9_-]*$", v.name)) && can(regex("^/[A-Za-z0-9._/-]*$", v.path))])
    error_message = "host_volumes need a lower-case name and an absolute path."
  }
}

variable "vault_address" {
  type        = string
  description = "Vault's address as Nomad agents reach it. Null for https://vault.service.consul:8200 (http:// without TLS)."
  default     = null

  validation {
    condition     = var.vault_address == null || can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]+)?$", var.vault_address))
    error_message = "vault_address must be http(s)://host[:port]."
  }
}

variable "vault_kms_key_id" {
  type        = string
  description = "KMS key id or ARN for Vault's awskms auto-unseal (role vault). Null for Shamir unseal keys."
  default     = null

  validation {
    condition     = var.vault_kms_key_id == null || can(regex("^[A-Za-z0-9:/_-]+$", var.vault_kms_key_id))
    error_message = "vault_kms_key_id must be a KMS key id, alias or ARN."
  }
}

variable "secrets" {
  type = object({
    source = string
    prefix = string
  })
  description = "Where the boot script fetches gossip keys, ACL tokens and TLS keys: source \"ssm\" (SSM Parameter Store SecureStrings named <prefix>/<name>) or \"file\" (files <prefix>/<name> on the machine). Only names pass through Terraform, never values."

  validation {
    condition     = contains(["ssm", "file"], var.secrets.source) && can(regex("^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$", var.secrets.prefix))
    error_message = "secrets.source must be ssm or file, and secrets.prefix an absolute path without a trailing slash."
  }
}

variable "packages" {
  type = object({
    consul = optional(string, "1.22.5-1")
    nomad  = optional(string, "1.11.3-1")
    vault  = optional(string, "1.21.0-1")
  })
  description = "Versions of HashiCorp's Debian packages to install from apt.releases.hashicorp.com."
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.packages) : can(regex("^[0-9][A-Za-z0-9.+~-]*$", v))])
    error_message = "packages must be Debian package versions such as 1.22.5-1."
  }
}

variable "fabio" {
  type = object({
    url    = optional(string, "https://github.com/fabiolb/fabio/releases/download/v1.7.2/fabio-1.7.2-linux_amd64")
    sha256 = optional(string, "")
  })
  description = "Fabio release binary and its SHA-256 (role client: the boot script refuses a binary that does not match)."
  default     = {}

  validation {
    condition     = can(regex("^https://[A-Za-z0-9._:/@+=,-]+$", var.fabio.url)) && can(regex("^([0-9a-f]{64})?$", var.fabio.sha256))
    error_message = "fabio.url must be an https:// address and fabio.sha256 64 lower-case hex digits."
  }
}

variable "drain" {
  type = object({
    lifecycle_hook = optional(string, "drain")
    deadline       = optional(string, "5m")
  })
  description = "Workers only: drain the Nomad node before the machine goes (Auto Scaling Group scale-in or refresh through the named terminating lifecycle hook, and any shutdown), waiting at most deadline. Null: no drain units."
  default     = null

  validation {
    condition     = var.drain == null || can(regex("^[0-9]+(s|m|h)$", var.drain.deadline))
    error_message = "drain.deadline must be a duration such as 90s, 5m or 1h."
  }

  validation {
    condition     = var.drain == null || can(regex("^[A-Za-z0-9._/-]{1,255}$", var.drain.lifecycle_hook))
    error_message = "drain.lifecycle_hook must be a lifecycle hook name (letters, digits, ._/-)."
  }
}

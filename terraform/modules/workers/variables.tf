variable "name" {
  type        = string
  description = "Cluster name, prefix of every resource (e.g. \"hashiship-qa\")."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.name))
    error_message = "name must be lower-case letters, digits and dashes."
  }
}

variable "min_size" {
  type        = number
  description = "Minimum number of workers in the Auto Scaling Group."
  default     = 2
}

variable "max_size" {
  type        = number
  description = "Maximum number of workers in the Auto Scaling Group."
  default     = 6
}

variable "desired_capacity" {
  type        = number
  description = "Number of workers to run now (between min_size and max_size)."
  default     = 2

  validation {
    condition     = var.desired_capacity >= 0
    error_message = "desired_capacity must not be negative."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the workers."
  default     = "t3.large"
}

variable "ami_id" {
  type        = string
  description = "AMI of the workers. Null for the latest official Debian 12 (bookworm) amd64 image."
  default     = null
}

variable "root_volume_size" {
  type        = number
  description = "Size in GiB of each worker's encrypted gp3 root volume (images, allocations)."
  default     = 60
}

variable "vpc_id" {
  type        = string
  description = "VPC the workers run in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the Auto Scaling Group spreads workers over."

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "Give at least one subnet."
  }
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group carried by every cluster member; Consul gossip, metrics and task ports are opened to it."
}

variable "load_balancer_security_group_id" {
  type        = string
  description = "Security group of the load balancer in front of Fabio; it may reach Fabio's proxy and health ports."
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the workers' Nomad API (4646) for alloc logs and exec."
  default     = []
}

variable "server_join_tag" {
  type = object({
    key   = string
    value = string
  })
  description = "EC2 tag of the masters (the servers module's join_tag output); Consul and Nomad clients auto-join through it."
}

variable "datacenter" {
  type        = string
  description = "Consul and Nomad datacenter name."
  default     = "dc1"
}

variable "region" {
  type        = string
  description = "Nomad region name."
  default     = "global"
}

variable "tls" {
  type        = bool
  description = "TLS on Consul and Nomad RPC and HTTP."
  default     = true
}

variable "acl" {
  type        = bool
  description = "Consul and Nomad ACLs, default deny."
  default     = true
}

variable "raw_exec" {
  type        = bool
  description = "Enable Nomad's raw_exec driver (tasks run without isolation)."
  default     = false
}

variable "java" {
  type        = bool
  description = "Install a JRE so that Nomad's java driver is available."
  default     = false
}

variable "host_volumes" {
  type = list(object({
    name      = string
    path      = string
    read_only = optional(bool, false)
  }))
  description = "Nomad client host volumes."
  default     = []
}

variable "vault_address" {
  type        = string
  description = "Vault's address as Nomad clients reach it. Null for https://vault.service.consul:8200 (needs DNS forwarding of .consul to Consul)."
  default     = null
}

variable "secrets_prefix" {
  type        = string
  description = "SSM Parameter Store path holding the gossip key, ACL tokens and TLS keys as SecureStrings (names only: Terraform never reads the values)."

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$", var.secrets_prefix))
    error_message = "secrets_prefix must be an absolute SSM path without a trailing slash."
  }
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the SSM SecureStrings. Null when they use the AWS-managed aws/ssm key."
  default     = null
}

variable "packages" {
  type = object({
    consul = optional(string, "1.22.5-1")
    nomad  = optional(string, "1.11.3-1")
  })
  description = "Versions of HashiCorp's Debian packages installed at boot."
  default     = {}
}

variable "fabio_url" {
  type        = string
  description = "Where workers download the Fabio binary."
  default     = "https://github.com/fabiolb/fabio/releases/download/v1.7.2/fabio-1.7.2-linux_amd64"
}

variable "fabio_sha256" {
  type        = string
  description = "SHA-256 of the Fabio binary at fabio_url (from the release's checksum file); the boot script refuses any other file."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.fabio_sha256))
    error_message = "fabio_sha256 must be 64 lower-case hex digits."
  }
}

variable "health_check_grace_period" {
  type        = number
  description = "Seconds after launch before the load balancer's health check counts (packages install at first boot)."
  default     = 300
}

variable "min_healthy_percentage" {
  type        = number
  description = "Share of workers kept in service while an instance refresh replaces them."
  default     = 90
}

variable "drain_deadline" {
  type        = string
  description = "How long a terminating worker's Nomad drain may take before its remaining allocations are stopped (nomad node drain -deadline), e.g. \"5m\"."
  default     = "5m"

  validation {
    condition     = can(regex("^[0-9]+(s|m|h)$", var.drain_deadline))
    error_message = "drain_deadline must be a duration such as 90s, 5m or 1h."
  }
}

variable "drain_heartbeat_timeout" {
  type        = number
  description = "Seconds a terminating worker may stay in Terminating:Wait to drain before the Auto Scaling Group terminates it anyway; longer than drain_deadline."
  default     = 600

  validation {
    condition     = var.drain_heartbeat_timeout >= 30 && var.drain_heartbeat_timeout <= 7200
    error_message = "drain_heartbeat_timeout must be 30-7200 seconds (the lifecycle hook's limits)."
  }
}

variable "session_manager" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore so operators reach workers with SSM Session Manager (no SSH port is opened)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

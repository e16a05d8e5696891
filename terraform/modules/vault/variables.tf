variable "name" {
  type        = string
  description = "Cluster name, prefix of every resource and of the Vault auto-join tag value (e.g. \"hashiship-qa\")."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.name))
    error_message = "name must be lower-case letters, digits and dashes."
  }
}

variable "node_count" {
  type        = number
  description = "Number of Vault servers in the raft cluster: 1 (QA), 3 or 5."
  default     = 3

  validation {
    condition     = contains([1, 3, 5], var.node_count)
    error_message = "node_count must be 1, 3 or 5."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the Vault servers."
  default     = "t3.small"
}

variable "ami_id" {
  type        = string
  description = "AMI of the Vault servers. Null for the latest official Debian 12 (bookworm) amd64 image."
  default     = null
}

variable "root_volume_size" {
  type        = number
  description = "Size in GiB of each Vault server's encrypted gp3 root volume (raft data lives there)."
  default     = 20
}

variable "vpc_id" {
  type        = string
  description = "VPC the Vault servers run in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets; Vault servers are spread over them in order."

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "Give at least one subnet."
  }
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group carried by every cluster member; Vault's API and Consul gossip are opened to it."
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach Vault's API and UI (8200)."
  default     = []
}

variable "server_join_tag" {
  type = object({
    key   = string
    value = string
  })
  description = "EC2 tag of the masters (the servers module's join_tag output); the Consul client beside Vault joins through it."
}

variable "join_tag_key" {
  type        = string
  description = "EC2 tag key for Vault's raft auto-join; the value is \"<name>-vault\"."
  default     = "hashiship-join"
}

variable "datacenter" {
  type        = string
  description = "Consul datacenter name (Vault registers as the \"vault\" service there) and Vault cluster name."
  default     = "dc1"
}

variable "tls" {
  type        = bool
  description = "TLS on Vault's listener and raft joins, and on the Consul client."
  default     = true
}

variable "acl" {
  type        = bool
  description = "Consul ACLs, default deny (Vault registers with a Consul token fetched at boot)."
  default     = true
}

variable "secrets_prefix" {
  type        = string
  description = "SSM Parameter Store path holding the Consul gossip key, tokens and Vault's TLS key as SecureStrings (names only: Terraform never reads the values)."

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

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the auto-unseal key is deleted; losing it makes Vault's data unreadable."
  default     = 30
}

variable "packages" {
  type = object({
    consul = optional(string, "1.22.5-1")
    vault  = optional(string, "1.21.0-1")
  })
  description = "Versions of HashiCorp's Debian packages installed at boot."
  default     = {}
}

variable "session_manager" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore so operators reach Vault servers with SSM Session Manager (no SSH port is opened)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

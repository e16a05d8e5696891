variable "name" {
  type        = string
  description = "Cluster name, prefix of every resource and of the auto-join tag value (e.g. \"hashiship-qa\")."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.name))
    error_message = "name must be lower-case letters, digits and dashes."
  }
}

variable "master_count" {
  type        = number
  description = "Number of master nodes (Consul and Nomad servers): 3 tolerates one failure, 5 tolerates two."
  default     = 3

  validation {
    condition     = contains([3, 5], var.master_count)
    error_message = "master_count must be 3 or 5."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the masters."
  default     = "t3.medium"
}

variable "ami_id" {
  type        = string
  description = "AMI of the masters. Null for the latest official Debian 12 (bookworm) amd64 image."
  default     = null
}

variable "root_volume_size" {
  type        = number
  description = "Size in GiB of each master's encrypted gp3 root volume (Consul and Nomad raft data live there)."
  default     = 40
}

variable "vpc_id" {
  type        = string
  description = "VPC the masters run in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets (routed to an internet gateway, for the Elastic IPs); masters are spread over them in order."

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "Give at least one subnet."
  }
}

variable "cluster_security_group_id" {
  type        = string
  description = "Security group carried by every cluster member (masters, workers, Vault); agent ports are opened to it."
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the Consul (8500/8501) and Nomad (4646) APIs and UIs, e.g. a bastion or VPN range."
  default     = []
}

variable "join_tag_key" {
  type        = string
  description = "EC2 tag key used for cloud auto-join; the value is \"<name>-server\"."
  default     = "hashiship-join"
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

variable "vault_address" {
  type        = string
  description = "Vault's address as the Nomad servers reach it. Null for https://vault.service.consul:8200 (needs DNS forwarding of .consul to Consul)."
  default     = null
}

variable "secrets_prefix" {
  type        = string
  description = "SSM Parameter Store path under which the gossip keys, ACL tokens and TLS keys are stored as SecureStrings (names only: Terraform never reads the values)."

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

variable "session_manager" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore so operators reach masters with SSM Session Manager (no SSH port is opened)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

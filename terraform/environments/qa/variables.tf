variable "aws_region" {
  type        = string
  description = "AWS region of the QA cluster."
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 range of the QA VPC."
  default     = "10.10.0.0/16"
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the Consul, Nomad and Vault APIs (bastion, VPN)."
  default     = []
}

variable "ingress_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the services through the load balancer."
  default     = ["0.0.0.0/0"]
}

variable "secrets_prefix" {
  type        = string
  description = "SSM Parameter Store path holding QA's gossip keys, ACL tokens and TLS keys (created out of band; see docs/cluster.md)."
  default     = "/hashiship/qa"
}

variable "fabio_sha256" {
  type        = string
  description = "SHA-256 of the Fabio release binary the workers install (from the release's checksum file)."
}

variable "worker_count" {
  type = object({
    min     = number
    max     = number
    desired = number
  })
  description = "Size of the workers' Auto Scaling Group."
  default     = { min = 2, max = 4, desired = 2 }
}

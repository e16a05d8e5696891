variable "aws_region" {
  type        = string
  description = "AWS region of the production cluster."
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 range of the production VPC."
  default     = "10.20.0.0/16"
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
  description = "SSM Parameter Store path holding production's gossip keys, ACL tokens and TLS keys (created out of band; see docs/cluster.md)."
  default     = "/hashiship/production"
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
  default     = { min = 3, max = 12, desired = 3 }
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of the public HTTPS listener; plain HTTP is redirected to it."
}

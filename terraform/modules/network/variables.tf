variable "name" {
  type        = string
  description = "Name prefix of every resource, e.g. \"hashiship-qa\"."
}

variable "cidr_block" {
  type        = string
  description = "The VPC's IPv4 range; a /16 is split into public and private /20 subnets."

  validation {
    condition     = can(cidrnetmask(var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR such as 10.10.0.0/16."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones to spread subnets over (one public and one private subnet each)."

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Use at least two availability zones."
  }
}

variable "nat_gateway_per_az" {
  type        = bool
  description = "One NAT gateway per availability zone (resilient, for production) instead of a single shared one (cheaper, for QA)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the role's and the instance profile's names, e.g. \"hashiship-qa-master-\"."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,32}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 characters allowed in IAM names."
  }
}

variable "policy_name" {
  type        = string
  description = "Name of the role's inline policy (it says what the policy grants)."
  default     = "auto-join-and-boot-secrets"
}

variable "secret_paths" {
  type        = list(string)
  description = "Full SSM parameter names the machine's boot script reads (the userdata module's secret_paths); the role may read exactly these."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key encrypting the SSM SecureStrings. Null when they use the AWS-managed aws/ssm key."
  default     = null
}

variable "statements" {
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  description = "Further statements only this role needs, besides auto-join and its boot secrets."
  default     = []
}

variable "session_manager" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore so operators reach the machines with SSM Session Manager (no SSH port is opened)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the role and the instance profile."
  default     = {}
}

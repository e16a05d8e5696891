variable "fabio_sha256" {
  type        = string
  description = "SHA-256 of the Fabio release binary."
}

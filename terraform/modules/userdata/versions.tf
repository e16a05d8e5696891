terraform {
  # Provider-free on purpose: it only renders text, so it can be initialised,
  # validated and tested without network access.
  required_version = ">= 1.6.0"
}

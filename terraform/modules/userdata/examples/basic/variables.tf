# This example takes no variables.

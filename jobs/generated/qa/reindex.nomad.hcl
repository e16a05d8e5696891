job "reindex" {
  namespace   = "catalog"
  region      = "global"
  datacenters = ["dc1"]
  type        = "batch"
  priority    = 50

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "f9497593ae48de671997ab0d43524de6b6a086bf94a87a0b09ae14afffac4ef6"
    hashiship_tool        = "hashiship"
  }

  group "reindex" {
    count = 1

    restart {
      attempts = 1
      interval = "10m"
      delay    = "30s"
      mode     = "fail"
    }

    reschedule {
      attempts       = 2
      interval       = "1h"
      delay          = "1m"
      delay_function = "constant"
      unlimited      = false
    }

    task "reindex" {
      driver = "exec"

      config {
        command = "/usr/local/bin/reindex"
        args    = ["--all", "--batch-size", "500"]
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = <<EOT
{{ with secret "secret/data/catalog/search" }}SEARCH_API_TOKEN={{ index .Data.data "token" | toJSON }}{{ end }}
SEARCH_URL={{ key "catalog/search/url" | toJSON }}
EOT
      }

      vault {
        role         = "hashiship-qa"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}

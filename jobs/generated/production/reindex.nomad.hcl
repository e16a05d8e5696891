job "reindex" {
  namespace   = "catalog"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  node_pool   = "default"
  type        = "batch"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "e626a98d6dfc3fedd2155588634c97010750e85afbeeb5e661b3efaa327e3e3b"
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
      driver = "docker"

      config {
        image        = "127.0.0.1:5002/catalog/reindex:1.4.0"
        command      = "/usr/local/bin/reindex"
        args         = ["--all", "--skus", "${NOMAD_TASK_DIR}/skus.txt", "--batch-size", "500"]
        network_mode = "host"
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
        role         = "hashiship-production-reindex"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu    = 500
        memory = 512
      }

      dispatch_payload {
        file = "skus.txt"
      }
    }
  }

  parameterized {
    payload = "optional"
  }
}

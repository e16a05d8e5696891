job "reindex" {
  namespace   = "catalog"
  region      = "global"
  datacenters = ["dc1"]
  node_pool   = "default"
  type        = "batch"
  priority    = 50

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "17587e5a38b4631284065010059ddb3da7f0ed05e9d24960c05f4661707ffa07"
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
        image        = "127.0.0.1:5001/catalog/reindex:1.4.0"
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
        role         = "hashiship-qa-reindex"
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

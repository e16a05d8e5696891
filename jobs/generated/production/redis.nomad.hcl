job "redis" {
  namespace   = "storefront"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "19c827141a1dcc8f429a369574b72ba00d617bb60be9ebe97791da9d04b363a7"
    hashiship_tool        = "hashiship"
  }

  group "cache" {
    count          = 1
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "10s"
      healthy_deadline  = "5m"
      progress_deadline = "15m"
      auto_revert       = true
      auto_promote      = false
    }

    ephemeral_disk {
      size    = 500
      sticky  = true
      migrate = true
    }

    network {
      port "redis" {}
    }

    service {
      name     = "redis"
      port     = "redis"
      provider = "consul"
      tags     = ["cache"]

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit           = 3
          grace           = "10s"
          ignore_warnings = false
        }
      }
    }

    task "redis" {
      driver = "docker"

      config {
        image        = "127.0.0.1:5002/hashiship/redis:7.0"
        args         = ["--port", "${NOMAD_PORT_redis}", "--maxmemory", "200mb", "--maxmemory-policy", "allkeys-lru", "--appendonly", "yes", "--dir", "/alloc/data"]
        ports        = ["redis"]
        network_mode = "host"
      }

      resources {
        cpu        = 200
        memory     = 256
        memory_max = 320
      }
    }
  }
}

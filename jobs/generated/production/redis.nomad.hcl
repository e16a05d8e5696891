job "redis" {
  namespace   = "storefront"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "b8083cc0a319ca91a5f066d5d2ae9d512b0aae40b9ae037850e069b875e149d7"
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
      port "redis" {
        to = 6379
      }
    }

    service {
      name     = "redis"
      port     = "redis"
      provider = "consul"
      tags     = ["cache"]

      check {
        type     = "tcp"
        port     = "redis"
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
        image = "127.0.0.1:5002/library/redis:7.2-alpine"
        args  = ["redis-server", "--maxmemory", "200mb", "--maxmemory-policy", "allkeys-lru", "--appendonly", "yes"]
        ports = ["redis"]
      }

      resources {
        cpu        = 200
        memory     = 256
        memory_max = 320
      }
    }
  }
}

job "fabio" {
  namespace   = "default"
  region      = "global"
  datacenters = ["dc1"]
  type        = "system"
  priority    = 90

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "7b88b239e9ec359cf7eb26c998e96a0d5101aa091bad9e28c3109c452e55079c"
    hashiship_tool        = "hashiship"
  }

  group "fabio" {
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "3s"
      healthy_deadline  = "2m"
      progress_deadline = "5m"
      auto_revert       = true
      auto_promote      = false
    }

    network {
      port "lb" {
        static = 9999
      }

      port "ui" {
        static = 9998
      }
    }

    service {
      name     = "fabio"
      port     = "lb"
      provider = "consul"
      tags     = ["router"]

      check {
        type     = "http"
        port     = "ui"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "fabio" {
      driver = "exec"

      config {
        command = "local/fabio"
        args    = ["-proxy.addr", ":9999", "-ui.addr", ":9998", "-registry.consul.addr", "127.0.0.1:8500"]
      }

      artifact {
        source      = "https://github.com/fabiolb/fabio/releases/download/v1.6.4/fabio-1.6.4-linux_amd64"
        destination = "local/fabio"
        mode        = "file"
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}

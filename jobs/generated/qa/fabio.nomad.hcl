job "fabio" {
  namespace   = "default"
  region      = "global"
  datacenters = ["dc1"]
  type        = "system"
  priority    = 90

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "00d7d79532d912d2d4219c30fb786b60066ab13f09e86372a93877d847649c99"
    hashiship_tool        = "hashiship"
  }

  group "fabio" {
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "10s"
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

job "fabio" {
  namespace   = "default"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "system"
  priority    = 90

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "9f551fa52fa4b4bd5c3ff87911e7d562a06de3853740949d97e990eb70f63ae3"
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
      progress_deadline = "15m"
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

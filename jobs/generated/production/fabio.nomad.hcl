job "fabio" {
  namespace   = "default"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "system"
  priority    = 90

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "7e92b07d7b72ab879deb84d5217df69179d6373911388a5d6adf2d04a683c167"
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
        name     = "fabio-http"
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

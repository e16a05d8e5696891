job "payments" {
  namespace   = "finance"
  region      = "global"
  datacenters = ["dc1"]
  type        = "service"
  priority    = 50

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "5dfe3aa0145c46d83a78f8d640282c5af51ca15ea54fcb72bb89c4292803a63f"
    hashiship_tool        = "hashiship"
    team                  = "payments"
  }

  update {
    max_parallel     = 1
    min_healthy_time = "3s"
    healthy_deadline = "3m"
  }

  group "api" {
    count          = 2
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 1
      health_check      = "checks"
      min_healthy_time  = "3s"
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      auto_revert       = true
      auto_promote      = true
    }

    network {
      mode = "bridge"

      port "mesh" {}

      port "metrics" {}

      dns {
        servers = ["10.20.0.2", "10.20.1.2"]
        options = ["timeout:2"]
      }
    }

    service {
      name        = "payments-api"
      port        = "8080"
      provider    = "consul"
      tags        = ["payments", "http"]
      canary_tags = ["payments", "http", "canary"]

      check {
        type                     = "http"
        path                     = "/health"
        interval                 = "10s"
        timeout                  = "2s"
        expose                   = true
        success_before_passing   = 2
        failures_before_critical = 3
      }

      connect {
        sidecar_service {
          port = "mesh"

          proxy {
            local_service_port = 8080

            expose {
              path {
                path            = "/metrics"
                protocol        = "http"
                local_path_port = 9102
                listener_port   = "metrics"
              }
            }

            upstreams {
              destination_name = "payments-ledger"
              local_bind_port  = 8082
            }

            config {
              protocol = "http"
            }
          }
        }

        sidecar_task {
          resources {
            cpu    = 100
            memory = 96
          }
        }
      }

      identity {
        aud = ["consul.io"]
        ttl = "1h"
      }
    }

    task "api" {
      driver = "docker"

      config {
        image = "127.0.0.1:5001/finance/payments-api:3.2.0"
      }

      env {
        DAILY_LIMIT    = "${secret.limits.daily}"
        LEDGER_URL     = "http://127.0.0.1:8082"
        LISTEN         = "127.0.0.1:8080"
        METRICS_LISTEN = "127.0.0.1:9102"
      }

      template {
        destination          = "local/currency.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = true
        data                 = "{{ with nomadVar \"nomad/jobs/payments/api\" }}CURRENCY={{ .currency }}{{ end }}\n"
        once                 = true
      }

      resources {
        cpu    = 300
        memory = 256
      }

      secret "limits" {
        provider = "nomad"
        path     = "nomad/jobs/payments/api/limits"
      }

      identity {
        env  = false
        file = true
      }

      identity {
        name          = "cards"
        aud           = ["cards.example.com"]
        change_mode   = "signal"
        change_signal = "SIGHUP"
        file          = true
        filepath      = "secrets/cards.jwt"
        ttl           = "1h"
      }
    }
  }

  group "ledger" {
    count          = 1
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "3s"
      healthy_deadline  = "3m"
      progress_deadline = "10m"
      auto_revert       = true
      auto_promote      = false
    }

    network {
      mode = "bridge"
    }

    service {
      name     = "payments-ledger"
      port     = "8082"
      provider = "consul"

      check {
        type      = "http"
        path      = "/ready"
        interval  = "10s"
        timeout   = "2s"
        expose    = true
        on_update = "ignore_warnings"
      }

      connect {
        sidecar_service {}
      }
    }

    task "ledger" {
      driver = "docker"

      config {
        image = "127.0.0.1:5001/finance/payments-ledger:1.9.1"
      }

      template {
        destination          = "local/ledger.toml"
        env                  = false
        change_mode          = "restart"
        perms                = "0640"
        splay                = "10s"
        error_on_missing_key = false
        data                 = <<EOT
[ledger]
listen = "127.0.0.1:8082"
retention_days = 400
EOT

        wait {
          min = "2s"
          max = "10s"
        }
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}

job "web" {
  namespace   = "storefront"
  region      = "global"
  datacenters = ["dc1"]
  type        = "service"
  priority    = 60

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "83e59cc3e173abfe74068bb0011673575231bd735ef13c66ef6fcf1b521e451c"
    hashiship_tool        = "hashiship"
    owner                 = "web-platform"
    team                  = "storefront"
  }

  constraint {
    attribute = "${attr.kernel.name}"
    operator  = "="
    value     = "linux"
  }

  group "web" {
    count          = 1
    shutdown_delay = "5s"

    affinity {
      attribute = "${node.class}"
      operator  = "="
      value     = "web"
      weight    = 60
    }

    spread {
      attribute = "${node.datacenter}"
      weight    = 100
    }

    update {
      max_parallel      = 1
      canary            = 1
      health_check      = "checks"
      min_healthy_time  = "3s"
      healthy_deadline  = "3m"
      progress_deadline = "10m"
      auto_revert       = true
      auto_promote      = true
    }

    migrate {
      max_parallel     = 1
      health_check     = "checks"
      min_healthy_time = "10s"
      healthy_deadline = "5m"
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      min     = 1
      max     = 3
      enabled = true
      type    = "horizontal"

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "cpu" {
          source = "nomad-apm"
          query  = "avg_cpu-allocated"

          strategy "target-value" {
            target = 70
          }
        }
      }
    }

    network {
      port "http" {}

      port "metrics" {}
    }

    service {
      name        = "web"
      port        = "http"
      provider    = "consul"
      tags        = ["storefront", "http", "urlprefix-www.qa.example.com/", "urlprefix-www.qa.example.com/api/ strip=/api"]
      canary_tags = ["storefront", "http", "urlprefix-www.qa.example.com/", "urlprefix-www.qa.example.com/api/ strip=/api", "canary"]

      meta {
        version = "2"
      }

      check {
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit           = 3
          grace           = "30s"
          ignore_warnings = false
        }
      }

      check {
        name     = "web-ready"
        type     = "http"
        path     = "/ready"
        method   = "GET"
        interval = "5s"
        timeout  = "1s"

        header {
          X-Health-Probe = ["consul"]
        }
      }
    }

    service {
      name        = "web-metrics"
      port        = "metrics"
      provider    = "consul"
      tags        = ["metrics"]
      canary_tags = ["metrics", "canary"]

      check {
        type     = "tcp"
        interval = "15s"
        timeout  = "2s"
      }
    }

    task "migrate" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = false
      }

      config {
        image        = "127.0.0.1:5001/storefront/web:2.14.0"
        command      = "/app/bin/migrate"
        args         = ["--wait-for-db", "30s"]
        network_mode = "host"
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/storefront/db\" }}DATABASE_PASSWORD={{ index .Data.data \"password\" | toJSON }}{{ end }}\n"
      }

      vault {
        role         = "hashiship-qa-web"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu    = 100
        memory = 128
      }
    }

    task "web" {
      driver       = "docker"
      kill_timeout = "20s"
      kill_signal  = "SIGTERM"

      config {
        image        = "127.0.0.1:5001/storefront/web:2.14.0"
        args         = ["--port", "${NOMAD_PORT_http}", "--metrics-port", "${NOMAD_PORT_metrics}"]
        ports        = ["http", "metrics"]
        network_mode = "host"
        cap_drop     = ["NET_RAW"]
        labels = {
          "com.example/team" = "storefront"
        }

        logging {
          type = "json-file"

          config {
            max-file = "3"
            max-size = "10m"
          }
        }
      }

      env {
        APP_ENV    = "qa"
        GREETING   = "Say \"hi\" — ünïcödé ✓"
        LOG_FORMAT = "json"
      }

      artifact {
        source      = "http://127.0.0.1:8500/v1/kv/artifacts/storefront/static-2.14.0.tar.gz?raw"
        destination = "local/static"

        options {
          checksum = "sha256:f99ec79b2295b06e55720f49d078532d6ce601cc098a1c807691e4521f5003f8"
        }
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = <<EOT
{{ with secret "secret/data/storefront/db" }}DATABASE_PASSWORD={{ index .Data.data "password" | toJSON }}{{ end }}
{{ with secret "secret/data/storefront/session" }}SESSION_KEY={{ index .Data.data "signing-key" | toJSON }}{{ end }}
FEATURE_FLAGS={{ key "storefront/web/feature-flags" | toJSON }}
EOT
      }

      template {
        destination          = "secrets/tls/web.pem"
        env                  = false
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"pki/issue/storefront\" \"common_name=web.service.consul\" \"ttl=72h\" }}{{ index .Data \"certificate\" }}{{ end }}"
      }

      template {
        destination          = "secrets/tls/web.key"
        env                  = false
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"pki/issue/storefront\" \"common_name=web.service.consul\" \"ttl=72h\" }}{{ index .Data \"private_key\" }}{{ end }}"
      }

      template {
        destination          = "local/banner.txt"
        env                  = false
        change_mode          = "restart"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ key \"storefront/web/banner\" }}"
      }

      template {
        destination          = "local/app.conf"
        env                  = false
        change_mode          = "signal"
        change_signal        = "SIGHUP"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = false
        data                 = <<EOT
# rendered by Nomad for ${NOMAD_ALLOC_ID}; %%{ not an HCL directive }
[server]
listen = "0.0.0.0:{{ env "NOMAD_PORT_http" }}"
{{ range service "redis" }}redis = "{{ .Address }}:{{ .Port }}"
{{ end }}
[paths]
root = "C:\\storefront\\static"
EOT
      }

      vault {
        role         = "hashiship-qa-web"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu        = 200
        memory     = 256
        memory_max = 384
      }

      logs {
        max_files     = 5
        max_file_size = 20
      }
    }

    task "log-shipper" {
      driver = "docker"

      lifecycle {
        hook    = "poststart"
        sidecar = true
      }

      config {
        image        = "127.0.0.1:5001/storefront/log-shipper:1.0.0"
        args         = ["--config", "/local/vector.toml"]
        network_mode = "host"
      }

      template {
        destination          = "local/vector.toml"
        env                  = false
        change_mode          = "restart"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = false
        data                 = <<EOT
[sources.alloc]
type = "file"
include = ["/alloc/logs/*.std*.*"]
EOT
      }

      resources {
        cpu    = 50
        memory = 64
      }
    }
  }

  ui {
    description = "The storefront web service behind Fabio."

    link {
      label = "Runbook"
      url   = "https://runbooks.example.com/storefront/web"
    }
  }
}

job "billing" {
  namespace   = "finance"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "f9b3915447e587e190b48030f1fb509b53a94ac1b76f64c3f20307394ff289a8"
    hashiship_tool        = "hashiship"
    team                  = "payments"
  }

  constraint {
    attribute = "${attr.driver.java.version}"
    operator  = "version"
    value     = ">= 17"
  }

  group "api" {
    count          = 3
    shutdown_delay = "5s"

    update {
      max_parallel      = 1
      canary            = 1
      health_check      = "checks"
      min_healthy_time  = "20s"
      healthy_deadline  = "4m"
      progress_deadline = "15m"
      auto_revert       = true
      auto_promote      = false
    }

    restart {
      attempts = 2
      interval = "2m"
      delay    = "20s"
      mode     = "fail"
    }

    network {
      port "http" {}

      port "grpc" {}
    }

    service {
      name        = "billing"
      port        = "http"
      provider    = "consul"
      tags        = ["payments", "urlprefix-api.example.com/billing/ strip=/billing"]
      canary_tags = ["payments", "urlprefix-api.example.com/billing/ strip=/billing", "canary"]

      check {
        type     = "http"
        path     = "/actuator/health/liveness"
        interval = "10s"
        timeout  = "3s"

        check_restart {
          limit           = 5
          grace           = "1m30s"
          ignore_warnings = true
        }
      }
    }

    service {
      name        = "billing-grpc"
      port        = "grpc"
      provider    = "consul"
      tags        = ["urlprefix-grpc.example.com/billing.v1.Billing/ proto=grpc"]
      canary_tags = ["urlprefix-grpc.example.com/billing.v1.Billing/ proto=grpc", "canary"]

      check {
        type         = "grpc"
        grpc_service = "billing.v1.Billing"
        grpc_use_tls = false
        interval     = "10s"
        timeout      = "3s"
      }
    }

    task "billing" {
      driver       = "java"
      kill_timeout = "45s"

      config {
        class       = "Billing"
        class_path  = "${NOMAD_TASK_DIR}/lib/*"
        jvm_options = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Dserver.port=${NOMAD_PORT_http}"]
        args        = ["--grpc.port=${NOMAD_PORT_grpc}"]
      }

      env {
        SPRING_PROFILES_ACTIVE = "nomad"
      }

      artifact {
        source      = "http://127.0.0.1:8500/v1/kv/artifacts/billing/billing-4.2.1.jar?raw"
        destination = "local/lib/"

        options {
          checksum = "sha256:18a7a59d177d981b8386c2d01a182149ab02db87b68347827d99b1ed0c440149"
        }
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/billing/stripe\" }}STRIPE_API_KEY={{ index .Data.data \"api-key\" | toJSON }}{{ end }}\n"
      }

      template {
        destination          = "secrets/keystore.p12"
        env                  = false
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/billing/tls\" }}{{ index .Data.data \"keystore\" }}{{ end }}"
      }

      vault {
        role         = "billing-production"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu        = 1000
        memory     = 1024
        memory_max = 1536
      }
    }
  }
}

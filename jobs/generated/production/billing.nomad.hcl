job "billing" {
  namespace   = "finance"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "1f92bc4f88ef1beb3793e5baf7f374bc4e20fdc90c661245e4e5d68bb74527ae"
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
        port     = "http"
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
        port         = "grpc"
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
        jar_path    = "local/billing-4.2.1.jar"
        jvm_options = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Dserver.port=${NOMAD_PORT_http}"]
        args        = ["--grpc.port=${NOMAD_PORT_grpc}"]
      }

      env {
        SPRING_PROFILES_ACTIVE = "nomad"
      }

      artifact {
        source      = "https://artifacts.example.com/billing/billing-4.2.1.jar"
        destination = "local/"

        options {
          checksum = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
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

job "kafka" {
  namespace   = "streaming"
  region      = "global"
  datacenters = ["dc1"]
  type        = "service"
  priority    = 75

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "90d908ff158e66ea5471884c56100ee01931065247e35f10d00c52f846b05644"
    hashiship_tool        = "hashiship"
  }

  group "brokers" {
    count          = 3
    shutdown_delay = "5s"

    constraint {
      attribute = ""
      operator  = "distinct_hosts"
      value     = "true"
    }

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "3s"
      healthy_deadline  = "6m"
      progress_deadline = "15m"
      auto_revert       = true
      auto_promote      = false
    }

    volume "logs" {
      type      = "host"
      source    = "kafka-logs"
      read_only = false
      per_alloc = false
    }

    network {
      port "broker" {
        static = 9092
      }

      port "controller" {
        static = 9093
      }
    }

    service {
      name     = "kafka"
      port     = "broker"
      provider = "nomad"

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "kafka" {
      driver       = "docker"
      kill_timeout = "2m"

      config {
        image    = "127.0.0.1:5001/apache/kafka:3.8.0"
        ports    = ["broker", "controller"]
        hostname = "kafka-${NOMAD_ALLOC_INDEX}"

        ulimit {
          nofile = "100000:100000"
        }
      }

      env {
        KAFKA_CONTROLLER_LISTENER_NAMES = "CONTROLLER"
        KAFKA_LISTENERS                 = "PLAINTEXT://:9092,CONTROLLER://:9093"
        KAFKA_LOG_DIRS                  = "/var/lib/kafka/data"
        KAFKA_PROCESS_ROLES             = "broker,controller"
      }

      template {
        destination          = "local/kafka.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = false
        data                 = <<EOT
KAFKA_NODE_ID={{ env "NOMAD_ALLOC_INDEX" | parseInt | add 1 }}
KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{{ env "NOMAD_HOST_ADDR_broker" }}
KAFKA_CONTROLLER_QUORUM_VOTERS={{ range $i, $s := nomadService "kafka" }}{{ if $i }},{{ end }}{{ add $i 1 }}@{{ $s.Address }}:9093{{ end }}
EOT
      }

      volume_mount {
        volume      = "logs"
        destination = "/var/lib/kafka/data"
        read_only   = false
      }

      resources {
        cpu    = 1000
        memory = 1024
      }
    }
  }
}

job "mongodb" {
  namespace   = "catalog"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 80

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "0b1b6e66c46f29b11ed44b442dd634660608406bfe144fa4b6bcf65e7b0620bc"
    hashiship_tool        = "hashiship"
  }

  group "rs0" {
    count          = 3
    shutdown_delay = "5s"

    constraint {
      attribute = ""
      operator  = "distinct_hosts"
      value     = "true"
    }

    spread {
      attribute = "${node.datacenter}"
      weight    = 100
    }

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "1m"
      healthy_deadline  = "8m"
      progress_deadline = "15m"
      auto_revert       = false
      auto_promote      = false
    }

    volume "data" {
      type            = "csi"
      source          = "mongodb-data"
      read_only       = false
      access_mode     = "single-node-writer"
      attachment_mode = "file-system"
      per_alloc       = true
    }

    network {
      port "mongo" {
        static = 27017
      }
    }

    service {
      name     = "mongodb"
      port     = "mongo"
      provider = "consul"
      tags     = ["replica-set-rs0"]

      meta {
        replica_set = "rs0"
      }

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "mongod" {
      driver       = "docker"
      kill_timeout = "1m"

      config {
        image = "127.0.0.1:5002/library/mongo:7.0.14"
        args  = ["--replSet", "rs0", "--bind_ip_all", "--keyFile", "/secrets/keyfile"]
        ports = ["mongo"]

        ulimit {
          nofile = "64000:64000"
          nproc  = "64000:64000"
        }
      }

      env {
        MONGO_INITDB_ROOT_USERNAME = "admin"
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/mongodb/root\" }}MONGO_INITDB_ROOT_PASSWORD={{ index .Data.data \"password\" | toJSON }}{{ end }}\n"
      }

      template {
        destination          = "secrets/keyfile"
        env                  = false
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/mongodb/replica-set\" }}{{ index .Data.data \"keyfile\" }}{{ end }}"
      }

      vault {
        role         = "hashiship-production-mongodb"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      volume_mount {
        volume      = "data"
        destination = "/data/db"
        read_only   = false
      }

      resources {
        cpu    = 1000
        memory = 2048
      }
    }
  }
}

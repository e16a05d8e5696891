job "mysql" {
  namespace   = "storefront"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "service"
  priority    = 80

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "f1ebd045292e450b8ef15e6543bca42058f5ff1ac0a1d908b29ee7f7bc9d460b"
    hashiship_tool        = "hashiship"
  }

  group "db" {
    count          = 1
    shutdown_delay = "5s"

    constraint {
      attribute = "${meta.storage}"
      operator  = "="
      value     = "mysql"
    }

    update {
      max_parallel      = 1
      canary            = 0
      health_check      = "checks"
      min_healthy_time  = "30s"
      healthy_deadline  = "5m"
      progress_deadline = "15m"
      auto_revert       = false
      auto_promote      = false
    }

    restart {
      attempts = 10
      interval = "30m"
      delay    = "30s"
      mode     = "delay"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    volume "data" {
      type      = "host"
      source    = "mysql-data"
      read_only = false
      per_alloc = false
    }

    network {
      port "db" {
        static = 3306
      }
    }

    service {
      name     = "mysql"
      port     = "db"
      provider = "consul"
      task     = "mysql"
      tags     = ["db", "primary"]

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }

      check {
        name     = "mysql-ping"
        type     = "script"
        command  = "/usr/bin/mariadb"
        args     = ["--host=127.0.0.1", "--user=storefront", "--execute=SELECT 1"]
        task     = "mysql"
        interval = "30s"
        timeout  = "5s"

        check_restart {
          limit           = 3
          grace           = "2m"
          ignore_warnings = false
        }
      }
    }

    task "mysql" {
      driver       = "docker"
      kill_timeout = "1m"

      config {
        image        = "127.0.0.1:5002/hashiship/mariadb:10.11"
        args         = ["--innodb-buffer-pool-size=512M"]
        ports        = ["db"]
        network_mode = "host"
      }

      env {
        MARIADB_DATABASE = "storefront"
        MARIADB_USER     = "storefront"
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/mysql/root\" }}MARIADB_ROOT_PASSWORD={{ index .Data.data \"password\" | toJSON }}{{ end }}\n"
      }

      vault {
        role         = "hashiship-production-mysql"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/mysql"
        read_only   = false
      }

      resources {
        cpu    = 1000
        memory = 1024
      }
    }

    disconnect {
      lost_after = "1h"
      replace    = false
    }
  }
}

job "reports" {
  namespace   = "finance-reports"
  region      = "eu"
  datacenters = ["eu-west-1a", "eu-west-1b"]
  type        = "batch"
  priority    = 50

  meta {
    environment           = "production"
    hashiship_environment = "production"
    hashiship_spec_hash   = "9924a19794fbeef1748cae5ef0de0b4ae886e735472571c996f088d56e9b961c"
    hashiship_tool        = "hashiship"
  }

  periodic {
    crons            = ["15 3 * * *"]
    time_zone        = "Europe/Berlin"
    prohibit_overlap = true
    enabled          = true
  }

  group "nightly" {
    count = 1

    task "sales-report" {
      driver = "docker"
      user   = "reports"

      config {
        image        = "127.0.0.1:5002/finance/sales-report:3.1.0"
        command      = "/opt/reports/bin/sales-report"
        args         = ["--since", "24h", "--format", "csv"]
        network_mode = "host"
      }

      template {
        destination          = "secrets/hashiship.env"
        env                  = true
        change_mode          = "restart"
        perms                = "0400"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ with secret \"secret/data/finance/smtp\" }}SMTP_PASSWORD={{ index .Data.data \"password\" | toJSON }}{{ end }}\n"
      }

      template {
        destination          = "local/recipients.txt"
        env                  = false
        change_mode          = "restart"
        perms                = "0644"
        splay                = "5s"
        error_on_missing_key = false
        data                 = "{{ key \"finance/reports/recipients\" }}"
      }

      vault {
        role         = "hashiship-production-reports"
        env          = false
        disable_file = false
        change_mode  = "restart"
      }

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}

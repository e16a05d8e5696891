job "reports" {
  namespace   = "finance"
  region      = "global"
  datacenters = ["dc1"]
  type        = "batch"
  priority    = 50

  meta {
    environment           = "qa"
    hashiship_environment = "qa"
    hashiship_spec_hash   = "be0391e8ccd6648ab1eee43ea7f02c64f3ba666e4b02322c3685818205807a7b"
    hashiship_tool        = "hashiship"
  }

  periodic {
    crons            = ["0 * * * *"]
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
        image        = "127.0.0.1:5001/finance/sales-report:3.1.0"
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
        role         = "hashiship-qa-reports"
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

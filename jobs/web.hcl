# A service job: a small HTTP server on a dynamic port chosen by the scheduler.
#   nomadic job run jobs/web.hcl
#   nomadic job status web          # shows the allocation
#   curl http://127.0.0.1:<port>/   # the port is in `nomadic alloc status <alloc-id>`
job "web" {
  datacenters = ["*"]

  group "web" {
    count = 1

    network {
      port "http" {}
    }

    task "server" {
      driver = "raw_exec"

      config {
        command = "python3"
        args    = ["-m", "http.server", "${NOMAD_PORT_http}", "--bind", "${NOMAD_IP_http}", "--directory", "${NOMAD_TASK_DIR}"]
      }

      env {
        PYTHONUNBUFFERED = "1"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}

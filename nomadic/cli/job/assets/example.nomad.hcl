# This declares a job named "example". There can be exactly one job declaration per job file.
job "example" {
  # "datacenters" restricts the job to those datacenters; "*" (the default) allows any.
  # datacenters = ["*"]

  # The "type" selects the scheduler: "service" for long-lived services, "batch" for jobs
  # that run to completion, "system" for one copy on every node.
  type = "service"

  # The "update" block sets the job's update strategy: how many allocations change at a time
  # and how long a new one must stay healthy before the next change.
  update {
    max_parallel      = 1
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = false
    canary            = 0
  }

  # The "migrate" block controls how allocations move off a draining node.
  migrate {
    max_parallel     = 1
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "5m"
  }

  # The "group" block defines tasks that are placed together on the same node.
  group "web" {
    # "count" is the number of instances of this group to run.
    count = 1

    # The "network" block asks for ports: "http" gets a dynamic port at placement time.
    network {
      port "http" {}
    }

    # The "service" block registers the group in Nomad's service catalog.
    service {
      name     = "web"
      tags     = ["global", "web"]
      port     = "http"
      provider = "nomad"
    }

    # The "restart" block says how the client restarts failed tasks.
    restart {
      attempts = 2
      interval = "30m"
      delay    = "15s"
      mode     = "fail"
    }

    # The "ephemeral_disk" block is the scratch disk shared by the group's tasks, in MB.
    ephemeral_disk {
      size = 300
    }

    # The "task" block is one unit of work: here a small web server run by raw_exec.
    task "server" {
      driver = "raw_exec"

      # "config" is the driver's configuration. ${NOMAD_PORT_http} and ${NOMAD_IP_http} are
      # filled in at run time with the port and address Nomad assigned.
      config {
        command = "python3"
        args    = ["-m", "http.server", "${NOMAD_PORT_http}", "--bind", "${NOMAD_IP_http}"]
      }

      # How long to wait after deregistering the service before killing the task.
      shutdown_delay = "5s"

      # The resources the task needs: CPU in MHz, memory in MB.
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}

# A batch job: runs once, prints a line, and completes.
#   nomadic job run jobs/hello.hcl
#   nomadic alloc logs <alloc-id>
job "hello" {
  type        = "batch"
  datacenters = ["*"]

  group "hello" {
    task "hello" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "echo \"Hello from nomadic: alloc ${NOMAD_ALLOC_ID} on $(hostname)\""]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}

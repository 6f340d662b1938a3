#!/usr/bin/env bash
# docker driver tests: docker.io and busybox-static from Debian, a running dockerd, and a local
# image built offline (no registry is reachable in CI): `docker import` of a rootfs holding
# busybox-static and its applet symlinks, tagged nomadic/busybox:test. Idempotent: installs,
# starts and builds only what is missing.
set -euo pipefail

IMAGE="${NOMADIC_DOCKER_TEST_IMAGE:-nomadic/busybox:test}"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ldd /bin/busybox 2>&1 | grep -q "not a dynamic" \
  || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! docker info >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "dockerd did not answer within 60s; its log:" >&2
      tail -n 50 /var/log/dockerd.log >&2
      exit 1
    fi
    sleep 0.2
  done
fi
echo "dockerd $(docker version --format '{{.Server.Version}}') is up"

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,root}
  cp /bin/busybox "$work/bin/busybox"
  chroot "$work" /bin/busybox --install -s 2>/dev/null \
    || for applet in $(/bin/busybox --list); do ln -sf /bin/busybox "$work/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$work/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$work/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/etc/group"
  tar -C "$work" -c . | docker import \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
echo "docker test image $IMAGE ready"

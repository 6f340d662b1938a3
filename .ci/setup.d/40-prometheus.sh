#!/usr/bin/env bash
# metrics tests: Debian's prometheus package, for its server binary (tests start their own
# process on a free port with a generated config, scraping a loopback cluster) and promtool
# (`promtool check metrics` on our exposition). The packaged service is not started or used.
# Idempotent: installs only when a binary is missing.
set -euo pipefail

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  apt-get update -qq
  # policy-rc.d keeps dpkg from starting the packaged service (tests run their own server).
  had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ "$had_policy" = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  [ "$had_policy" = 0 ] && rm -f /usr/sbin/policy-rc.d
fi
prometheus --version 2>&1 | head -n 1
promtool --version 2>&1 | head -n 1

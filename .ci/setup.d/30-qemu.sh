#!/usr/bin/env bash
# qemu driver tests: qemu-system-x86, busybox-static and cpio from Debian, plus a tiny bootable
# guest built offline into /var/cache/nomadic/qemu (the tests look there, or in
# $NOMADIC_QEMU_ASSETS): vmlinuz from Debian's cloud kernel package (unpacked with dpkg-deb),
# initramfs.cpio.gz (busybox + an init driven by the kernel command line), and disk.img (a
# small raw disk for image_path). Idempotent: does nothing when everything is there.
set -euo pipefail

ASSETS="${NOMADIC_QEMU_ASSETS:-/var/cache/nomadic/qemu}"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

mkdir -p "$ASSETS"
if [ ! -s "$ASSETS/vmlinuz" ] || [ ! -s "$ASSETS/modules/button.ko" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # the newest cloud kernel image the metapackage points at (small, boots fast under TCG)
  pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
  if [ -z "$pkg" ]; then
    apt-get update -qq
    pkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
  fi
  (cd "$work" && apt-get download -qq "$pkg")
  dpkg-deb -x "$work"/linux-image-*.deb "$work/root"
  # evdev + the ACPI button driver: the guest sees qemu's system_powerdown as a key press
  mkdir -p "$ASSETS/modules"
  for mod in input/evdev.ko acpi/button.ko; do
    cp "$work"/root/lib/modules/*/kernel/drivers/"$mod" "$ASSETS/modules/"
  done
  cp "$work"/root/boot/vmlinuz-* "$ASSETS/vmlinuz.tmp"
  mv "$ASSETS/vmlinuz.tmp" "$ASSETS/vmlinuz"
fi

if [ ! -s "$ASSETS/initramfs.cpio.gz" ]; then
  work="$(mktemp -d)"
  mkdir -p "$work"/{bin,proc,sys,dev,etc}
  cp /bin/busybox "$work/bin/busybox"
  cp "$ASSETS"/modules/*.ko "$work/"
  # /bin/outb D: a 160-byte static x86-64 program writing the digit D to port 0xf4, where
  # qemu's isa-debug-exit device turns it into qemu's exit code (D << 1) | 1.
  python3 - "$work/bin/outb" <<'PY'
import struct, sys
code = bytes.fromhex(
    "bff4000000be01000000ba01000000b8ad0000000f05"  # ioperm(0xf4, 1, 1)
    "488b5c24100fb6032c3066baf400ee"  # al = argv[1][0] - '0'; out 0xf4, al
    "b83c00000031ff0f05"  # exit(0)
)
entry = 0x400000 + 64 + 56
ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
size = 64 + 56 + len(code)
phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, size, size, 0x1000)
with open(sys.argv[1], "wb") as f:
    f.write(ehdr + phdr + code)
PY
  chmod +x "$work/bin/outb"
  # The guest's init, driven by kernel parameters that land in its environment:
  #   nomadic_mode=echo nomadic_text=a_b  print "a b" on the console, power off (exit 0)
  #   nomadic_mode=exit nomadic_code=N     exit qemu with code N (odd; needs isa-debug-exit)
  #   nomadic_mode=sleep                   print "ready", power off on the ACPI power button
  cat > "$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
case "$nomadic_mode" in
  echo)
    echo "$nomadic_text" | tr _ ' '
    poweroff -f ;;
  exit)
    /bin/outb $(( (nomadic_code - 1) / 2 ))
    poweroff -f ;;
  *)
    insmod /evdev.ko; insmod /button.ko
    event="$(awk '/Name="Power Button"/{p=1} p && /Handlers=/{for(i=1;i<=NF;i++) if($i ~ /^event/){print $i; exit}}' /proc/bus/input/devices)"
    # any key event from the power button (qemu's system_powerdown) powers the guest off
    # (opened before "ready" is printed, so no press after it can be missed)
    if [ -n "$event" ]; then
      exec 3<"/dev/input/$event"
      (dd bs=24 count=1 <&3 >/dev/null 2>&1; poweroff -f) &
    fi
    echo "nomadic guest ready"
    while true; do sleep 3600; done ;;
esac
INIT
  chmod +x "$work/init"
  (cd "$work" && find . | cpio -o -H newc --quiet | gzip -9) > "$ASSETS/initramfs.cpio.gz.tmp"
  mv "$ASSETS/initramfs.cpio.gz.tmp" "$ASSETS/initramfs.cpio.gz"
  rm -rf "$work"
fi

[ -s "$ASSETS/disk.img" ] || truncate -s 1M "$ASSETS/disk.img"
echo "qemu assets ready in $ASSETS: $(ls "$ASSETS" | tr '\n' ' ')"

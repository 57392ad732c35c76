#!/usr/bin/env bash
# What the test suites need besides Node: the system tools they run for real (nginx,
# Prometheus and promtool, getconf, iproute2's ip for the scale-out lab), and root, for
# that lab's network namespaces.
# `npm test` runs this before anything else (pretest), and .ci/run runs `npm test`, so a
# bare machine and CI take the same path: with apt-get, the missing Debian packages are
# installed, saying which; otherwise one line names what to install, exit 1.
set -euo pipefail

# tool:Debian package
NEEDS=(nginx:nginx getconf:libc-bin ip:iproute2 prometheus:prometheus promtool:prometheus)

if [ "$(id -u)" -ne 0 ]; then
  echo "npm test needs root: the scale-out suite makes network namespaces and a bridge (run it as root, e.g. in a container or VM)" >&2
  exit 1
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

tools=() packages=()
for need in "${NEEDS[@]}"; do
  tool=${need%%:*} package=${need#*:}
  have "$tool" && continue
  tools+=("$tool")
  [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
done
[ ${#tools[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing ${packages[*]} from Debian's packages (apt-get install -y ${packages[*]}) for ${tools[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  exit 0
fi
echo "npm test needs ${tools[*]}, which this machine lacks: install first (Debian/Ubuntu: sudo apt-get install -y ${packages[*]}), then run npm test again" >&2
exit 1

#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test (idempotent: a no-op when it is there).
# playwright-core drives it with executablePath /usr/bin/chromium; `npx playwright install` cannot
# download browsers on these machines. Needs root (CI runs as root) or sudo.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
echo "simplerl: installing Debian chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version >&2

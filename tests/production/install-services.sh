#!/bin/sh
# PostgreSQL and Redis from Debian's packages, for the production tier (tests/production).
# Installs only what is missing; needs root (CI runs as root) and Debian's package registry.
set -eu
missing=""
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$missing postgresql"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "The production tier needs$missing: install them (as root: sh $0)." >&2
    exit 1
fi
echo "Installing$missing from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
# Debian's postinst scripts would start the servers as services: the tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends $missing > /tmp/vimmerse-apt.log 2>&1 || {
    apt-get update -q > /tmp/vimmerse-apt.log 2>&1
    apt-get install -y -q --no-install-recommends $missing >> /tmp/vimmerse-apt.log 2>&1
} || { tail -n 20 /tmp/vimmerse-apt.log; exit 1; }

#!/usr/bin/env bash
# Installs whatever is missing, and nothing that is already there (so it is quick the second
# time). `setup.sh build`: what `make build` and `make demo` need; `setup.sh export`: also what
# `make test-export` needs (OpenSSL's headers, PostgreSQL, the en_US.UTF-8 locale); `setup.sh
# test`: also what the rest of `make test` needs. See ../shared/TOOLCHAIN.md for why each step
# is done this way.
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-test}
say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must match the crate's pinned wasm-bindgen exactly. No --locked: the registry mirror
# lacks one locked transitive version.
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  say "installing wasm-bindgen-cli 0.2.130 (about 2.5 minutes)"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi

# npm dev tools: wasm-opt (binaryen), esbuild, TypeScript, workerd, Deno, Bun, playwright-core,
# the Zitadel client. Reinstalled only when package-lock.json changes.
stamp=node_modules/.setup-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dev tools"
  # npm ci would refuse the lock: the registry mirror lacks the other platforms' optional packages.
  npm install --no-save --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

[ "$level" = build ] && exit 0

# OpenSSL's headers for the exporter's TLS (native-tls), and the openssl command for its tests.
if ! pkg-config --exists openssl 2>/dev/null || ! command -v openssl >/dev/null; then
  say "installing Debian's libssl-dev, pkg-config and openssl"
  apt_install libssl-dev pkg-config openssl
fi

# PostgreSQL for the exporter's tests (make test-export): Debian's server package.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing Debian's postgresql (the exporter's tests start a private cluster)"
  apt_install postgresql
fi

# The locales the exporter's collation test creates databases in (tests/export/export-test.mjs,
# "The source's order"): en_US.UTF-8 from Debian's `locales`, generated once. ICU collations come
# with Debian's PostgreSQL (built --with-icu); C needs nothing.
if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
  say "generating the en_US.UTF-8 locale (Debian's locales)"
  if ! command -v locale-gen >/dev/null; then apt_install locales; fi
  as_root sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
  grep -qx 'en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | as_root tee -a /etc/locale.gen >/dev/null
  as_root locale-gen >/dev/null
fi

[ "$level" = export ] && exit 0

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (about 2 minutes)"
  cargo install wasm-pack --version 0.15.1
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing Debian's chromium and chromium-driver"
  apt_install chromium chromium-driver
fi

# Firefox for the browser tests: Debian's firefox-esr, driven by geckodriver (crates.io; Debian
# has no package) for wasm-pack, and by puppeteer-core over WebDriver BiDi for the others.
if ! command -v firefox-esr >/dev/null; then
  say "installing Debian's firefox-esr"
  apt_install firefox-esr
fi
if ! command -v geckodriver >/dev/null; then
  say "installing geckodriver 0.37.1 (about 3 minutes)"
  cargo install geckodriver --version 0.37.1 --locked
fi


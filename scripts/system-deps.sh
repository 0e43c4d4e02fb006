#!/bin/sh
# Install the few Debian packages the project needs when they are missing (PDF tools, fonts, browser).
# Only runs apt-get when we are root on a Debian-like system; otherwise it says what to install.
set -u
missing=""
command -v pdfsig >/dev/null 2>&1 || missing="$missing poppler-utils"
# Without harfbuzz-subset WeasyPrint falls back to fontTools: 4x slower and the font timestamps break identical output.
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing="$missing libharfbuzz-subset0"
[ -f /usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf ] || missing="$missing fonts-urw-base35"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# SAML single sign-on: pysaml2 signs and verifies with the xmlsec1 program.
command -v xmlsec1 >/dev/null 2>&1 || missing="$missing xmlsec1"
# The deployment test (make test-deploy) puts nginx in front of two app instances.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
  { echo "apt-get failed for:$missing"; exit 1; }
else
  echo "please install these Debian packages:$missing (e.g. sudo apt-get install$missing)"
fi

#!/bin/sh
# The image's entrypoint: resolve NAME_FILE variables, then become the service (exec: dotnet is
# PID 1 and gets SIGTERM for a graceful shutdown).
#
# NAME_FILE=/run/secrets/x sets NAME to the contents of that file (trailing newlines dropped) and
# unsets NAME_FILE, the convention of the official postgres and rabbitmq images. Secrets such as
# Encryption__MasterKey then arrive as mounted files and never appear in the compose file, the
# image or `docker inspect`. A NAME_FILE that cannot be read stops the container: starting without
# a required secret would only fail later and less clearly.
set -eu

for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_FILE=.*/\1/p'); do
  eval "file=\${${name}_FILE}"
  if [ ! -r "$file" ]; then
    echo "cue-entrypoint: ${name}_FILE names $file, which this user ($(id -u)) cannot read" >&2
    exit 1
  fi
  value="$(cat "$file")"
  export "$name=$value"
  unset "${name}_FILE"
done
unset name file value 2>/dev/null || true

exec dotnet "/app/$CUE_DLL" "$@"

#!/usr/bin/env bash
# Fetches the GitHub descriptions the tests check against: GitHub's REST API
# description (@octokit/openapi) and the webhook examples and schemas
# (@octokit/webhooks-examples, @octokit/webhooks-schemas). Each tarball is
# verified against the integrity hash the npm registry publishes for it, then
# extracted into a cache directory outside the repository, so a fresh clone
# needs nothing checked in and a second run costs nothing.
#
# The Go side (internal/githubtest) looks in the same place:
#   $TUGBOAT_TESTDATA, else ${XDG_CACHE_HOME:-$HOME/.cache}/tugboat/testdata
set -euo pipefail

dest="${TUGBOAT_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/tugboat/testdata}"

packages=(
  "@octokit/openapi@23.0.2"
  "@octokit/webhooks-examples@7.6.1"
  "@octokit/webhooks-schemas@7.6.1"
)

# dir_for maps "@scope/name@1.2.3" to the directory it is extracted into.
dir_for() {
  local spec="$1" name ver
  name="${spec%@*}"
  ver="${spec##*@}"
  name="${name#@}"
  echo "$dest/${name//\//-}-$ver"
}

fetch() {
  local spec="$1" out tmp tarball want got
  out="$(dir_for "$spec")"
  # The marker is written last, so an interrupted run is redone, never trusted.
  if [[ -f "$out/.verified" ]]; then
    return 0
  fi
  tmp="$work/${spec//[@\/]/_}"
  mkdir -p "$tmp"
  want="$(npm view "$spec" dist.integrity)"
  if [[ "$want" != sha512-* ]]; then
    echo "testdata: $spec: registry gave no sha512 integrity (got '$want')" >&2
    return 1
  fi
  tarball="$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)"
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tarball" | base64 -w0)"
  if [[ "$got" != "$want" ]]; then
    echo "testdata: $spec: integrity mismatch: registry says $want, tarball is $got" >&2
    return 1
  fi
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  tar -xzf "$tmp/$tarball" -C "$out.partial" --strip-components=1
  rm -rf "$out"
  mv "$out.partial" "$out"
  echo "$want" > "$out/.verified"
  echo "testdata: $spec verified and extracted to $out"
}

mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for p in "${packages[@]}"; do
  fetch "$p"
done

#!/usr/bin/env bash
# Fetch the official SARIF 2.1.0 JSON schema (sarif-2.1.0-rtm.5.json, as shipped in the npm
# package @microsoft/jest-sarif) into DIR and print its path.
# Usage: .ci/fetch_sarif_schema.sh DIR   (then: export LRLINT_SARIF_SCHEMA="$(...)")
set -euo pipefail
dir="${1:?usage: $0 DIR}"
mkdir -p "$dir"
cd "$dir"
tarball="$(npm pack @microsoft/jest-sarif --silent 2>/dev/null | tail -n 1)"
member="$(tar tzf "$tarball" | grep -E '(^|/)sarif-2\.1\.0-rtm\.5\.json$' | head -n 1)"
[ -n "$member" ] || { echo "sarif-2.1.0-rtm.5.json not found in $tarball" >&2; exit 1; }
tar xzf "$tarball" "$member"
path="$(cd "$(dirname "$member")" && pwd)/$(basename "$member")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "2.1.0" in json.dumps(d.get("properties",{}).get("version",{}))' "$path" \
  || { echo "unexpected schema content in $path" >&2; exit 1; }
echo "$path"

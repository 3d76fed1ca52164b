#!/usr/bin/env bash
# Prints an access token from the demo IdP (./samples/quickstart/idp.sh) for one of its people:
#   ALICE=$(./samples/quickstart/token.sh alice)
set -euo pipefail
who="${1:?usage: token.sh alice|bob|carol|admin}"
curl -fsS -u "$who:$who-demo-secret" -d grant_type=client_credentials -d resource=urn:airlock \
  http://127.0.0.1:9400/token | sed -E 's/.*"access_token":"([^"]+)".*/\1/'

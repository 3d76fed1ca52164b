#!/usr/bin/env bash
# A demo OpenID Connect provider for trying approvals with the quick-start: npm's oidc-provider
# on http://127.0.0.1:9400, issuing access tokens (client credentials) to five people:
#   alice, bob   groups finance-approvers   (they may approve refunds and price changes)
#   carol        groups people              (she may not)
#   admin        groups airlock-admins      (the admin API's admin role)
#   audrey       groups auditors            (the admin API's auditor role: reads, changes nothing)
# The secret of each is "<name>-demo-secret". For trying things out on one machine only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
idp="$root/tests/fixtures/oidc"
if [ ! -d "$idp/node_modules/oidc-provider" ]; then
  (cd "$idp" && npm ci --no-audit --no-fund --loglevel=error)
fi

export AIRLOCK_TEST_PORT=9400
export AIRLOCK_TEST_DETACHED=1
export AIRLOCK_TEST_CLIENTS='[
  {"id":"alice","secret":"alice-demo-secret","groups":["finance-approvers","people"]},
  {"id":"bob","secret":"bob-demo-secret","groups":["finance-approvers","people"]},
  {"id":"carol","secret":"carol-demo-secret","groups":["people"]},
  {"id":"admin","secret":"admin-demo-secret","groups":["airlock-admins"]},
  {"id":"audrey","secret":"audrey-demo-secret","groups":["auditors"]}]'
cd "$idp"
exec node provider.mjs

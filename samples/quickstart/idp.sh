#!/usr/bin/env bash
# A demo OpenID Connect provider for trying approvals with the quick-start: npm's oidc-provider
# on http://127.0.0.1:9400, issuing access tokens (client credentials) to five people:
#   alice, bob   groups finance-approvers   (they may approve refunds and price changes)
#   carol        groups people              (she may not)
#   admin        groups airlock-admins      (the admin API's admin role)
#   audrey       groups auditors            (the admin API's auditor role: reads, changes nothing)
# The secret of each is "<name>-demo-secret". The same people can sign in at a terminal with
# `./airlock login --admin-url http://127.0.0.1:8081` (the device grant, public client
# airlock-cli), and in a browser at the console, http://127.0.0.1:8081/ (the authorization code
# flow, client airlock-console, secret "console-demo-secret", as run.sh sets it): the provider's
# sign-in page takes their name and any password.
# For trying things out on one machine only.
#
# npm's oidc-provider 9 supports Node.js 22 LTS and later LTS releases. It also runs on Node.js
# 20.18 and later (the tests run there), where it prints "Unsupported runtime" at start.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

# The provider uses URL.parse (Node.js 22, back-ported to 20.18): fail here with a clear message
# rather than on the first token request.
if ! node -e 'process.exit(typeof URL.parse === "function" ? 0 : 1)' 2>/dev/null; then
  echo "idp.sh: the demo identity provider needs Node.js 22 LTS or later (20.18 or later works too); this is $(node --version 2>/dev/null || echo 'no node')." >&2
  exit 1
fi
if [ "$(node -p 'process.release.lts ? process.versions.node.split(".")[0] : 0')" -lt 22 ]; then
  echo "idp.sh: Node.js $(node --version) works for this demo; oidc-provider's \"Unsupported runtime\" warning below asks for 22 LTS and can be ignored here." >&2
fi
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
export AIRLOCK_TEST_DEVICE_FLOW='{"clientId":"airlock-cli","people":{
  "alice":["finance-approvers","people"],"bob":["finance-approvers","people"],"carol":["people"],
  "admin":["airlock-admins"],"audrey":["auditors"]}}'
# The console's sign-in: the people above (same groups) and the console's client, whose redirect
# URIs are the quick-start's admin listener.
export AIRLOCK_TEST_PEOPLE='{
  "alice":["finance-approvers","people"],"bob":["finance-approvers","people"],"carol":["people"],
  "admin":["airlock-admins"],"audrey":["auditors"]}'
export AIRLOCK_TEST_CONSOLE_CLIENTS='[{"id":"airlock-console","secret":"console-demo-secret",
  "redirect_uris":["http://127.0.0.1:8081/signin-oidc"],
  "post_logout_redirect_uris":["http://127.0.0.1:8081/signout-callback-oidc"]}]'
cd "$idp"
exec node provider.mjs

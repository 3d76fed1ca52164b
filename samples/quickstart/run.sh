#!/usr/bin/env bash
# Runs the quick-start: the sample billing API on 127.0.0.1:9090 and Airlock in front of it
# (proxy 127.0.0.1:8080, admin 127.0.0.1:8081), with the embedded SQLite store. Ctrl+C stops both.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# Only what the quick-start runs (the gateway and the sample API, not the tests), and only when
# something changed since the last build: a second start takes a few seconds.
eng/build-if-changed.sh src/Airlock/Airlock.csproj samples/Billing/Billing.csproj

# The billing API's own credential. Only the gateway holds it; agents never see it.
export BILLING_API_TOKEN="${BILLING_API_TOKEN:-quickstart-billing-token}"
# The key behind masking's keyed hashes: the same customer id always hashes the same way.
export MASKING_HASH_KEY="${MASKING_HASH_KEY:-quickstart-masking-key-change-me}"
# The console's client secret at the demo IdP (idp.sh registers airlock-console with it).
export AIRLOCK_CONSOLE_SECRET="${AIRLOCK_CONSOLE_SECRET:-console-demo-secret}"

# The key that signs audit checkpoints, made once on first run. A real deployment keeps the
# private key out of the store's reach and gives the public key (audit-key.pub.pem) to auditors.
if [ ! -f samples/quickstart/audit-key.pem ]; then
  dotnet src/Airlock/bin/Release/net10.0/airlock.dll audit keygen --out samples/quickstart/audit-key.pem
fi

dotnet samples/Billing/bin/Release/net10.0/Billing.dll --urls http://127.0.0.1:9090 &
billing=$!
trap 'kill "$billing" 2>/dev/null || true' EXIT

dotnet src/Airlock/bin/Release/net10.0/airlock.dll serve --config samples/quickstart/airlock.yaml

#!/bin/bash
# barman-cloud's options for the cluster's store, as the barman-cloud plugin passes them
# (cloudnative-pg/barman-cloud pkg/command/commandbuilder.go: --cloud-provider, --endpoint-url,
# --credential for an Azure identity); the keys, if any, are in the environment.
barman_options=(--cloud-provider "$CLOUD_PROVIDER")
if [ -n "${ENDPOINT_URL:-}" ]; then
  barman_options+=(--endpoint-url "$ENDPOINT_URL")
fi
if [ -n "${AZURE_CREDENTIAL:-}" ]; then
  barman_options+=(--credential "$AZURE_CREDENTIAL")
fi

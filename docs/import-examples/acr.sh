# A nightly ACR task: acr purge in two repositories, keeping the newest 2
# builds older than a week, and untagged manifests deleted.
az acr task create --name nightlyPurge \
  --cmd "acr purge --filter 'shop/web:^build-' --filter 'shop/api:.*' --ago 7d --keep 2 --untagged" \
  --schedule "0 3 * * *" --registry shopregistry --context /dev/null

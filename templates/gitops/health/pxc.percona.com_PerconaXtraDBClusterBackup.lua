-- Percona XtraDB Cluster operator 1.20 (pkg/apis/pxc/v1/pxc_backup_types.go PXCBackupState).
-- Healthy once taken up, as the Flux check: a long backup must not hold the sync.
local hs = {status = "Progressing", message = "Waiting for the backup to start"}
if obj.status == nil or obj.status.state == nil or obj.status.state == "" then
  return hs
end
local state = obj.status.state
hs.message = state
if state == "Starting" or state == "Running" or state == "Succeeded" then
  hs.status = "Healthy"
elseif state == "Failed" then
  hs.status = "Degraded"
end
return hs

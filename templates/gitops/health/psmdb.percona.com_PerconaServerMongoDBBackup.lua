-- Percona Server for MongoDB operator 1.22 (perconaservermongodbbackup_types.go BackupState).
-- Healthy once taken up, as the Flux check: a long backup must not hold the sync.
local hs = {status = "Progressing", message = "Waiting for the backup to start"}
if obj.status == nil or obj.status.state == nil or obj.status.state == "" then
  return hs
end
local state = obj.status.state
hs.message = obj.status.error or state
if state == "requested" or state == "running" or state == "ready" then
  hs.status = "Healthy"
elseif state == "error" then
  hs.status = "Degraded"
end
return hs

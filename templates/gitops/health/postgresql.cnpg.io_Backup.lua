-- CloudNativePG 1.30 (api/v1/backup_types.go BackupPhase). An on-demand backup is Healthy once
-- taken up: waiting for a long backup to finish would hold the sync.
local hs = {status = "Progressing", message = "Waiting for the backup to start"}
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local phase = obj.status.phase
hs.message = obj.status.error or phase
if phase == "started" or phase == "running" or phase == "finalizing" or phase == "completed" then
  hs.status = "Healthy"
elseif phase == "failed" or phase == "walArchivingFailing" or phase == "invalid backup definition" then
  hs.status = "Degraded"
end
return hs

-- CloudNativePG 1.30 ScheduledBackup (api/v1/scheduledbackup_types.go): lastCheckTime once the
-- schedule is taken in; error when it cannot be.
local hs = {status = "Progressing", message = "Waiting for the schedule to be taken in"}
if obj.status == nil then
  return hs
end
if obj.status.error ~= nil and obj.status.error ~= "" then
  hs.status = "Degraded"
  hs.message = obj.status.error
elseif obj.status.lastCheckTime ~= nil then
  hs.status = "Healthy"
  hs.message = ""
end
return hs

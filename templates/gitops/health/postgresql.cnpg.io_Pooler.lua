-- CloudNativePG 1.30 Pooler (api/v1/pooler_types.go): phase "active", "paused" (on purpose),
-- "failed"; "inactive" waits for its cluster.
local hs = {status = "Progressing", message = "Waiting for the pooler"}
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local phase = obj.status.phase
hs.message = phase
if phase == "failed" then
  hs.status = "Degraded"
  if obj.status.error ~= nil then hs.message = obj.status.error end
elseif phase == "active" then
  hs.status = "Healthy"
elseif phase == "paused" then
  hs.status = "Suspended"
end
return hs

-- CloudNativePG 1.30 Database (api/v1/database_types.go DatabaseStatus): applied, message,
-- observedGeneration.
local hs = {status = "Progressing", message = "Waiting for the database"}
if obj.status == nil then
  return hs
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration ~= obj.metadata.generation then
  return hs
end
if obj.status.applied == false then
  hs.status = "Degraded"
  hs.message = obj.status.message or "Not applied"
elseif obj.status.applied == true then
  hs.status = "Healthy"
  hs.message = ""
end
return hs

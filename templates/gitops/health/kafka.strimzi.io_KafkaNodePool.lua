-- Strimzi 1.2 KafkaNodePool (api/.../nodepool/KafkaNodePoolStatus.java): ready once it reports
-- the replicas its spec asks for; it has no Ready condition of its own.
local hs = {status = "Progressing", message = "Waiting for the node pool"}
if obj.status == nil then
  return hs
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration ~= obj.metadata.generation then
  return hs
end
if obj.status.replicas ~= nil and obj.spec ~= nil and obj.status.replicas == obj.spec.replicas then
  hs.status = "Healthy"
  hs.message = ""
elseif obj.status.replicas ~= nil then
  hs.message = obj.status.replicas .. " of " .. (obj.spec and obj.spec.replicas or "?") .. " replicas"
end
return hs

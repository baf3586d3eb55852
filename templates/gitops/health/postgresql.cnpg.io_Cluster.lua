-- CloudNativePG 1.30 Cluster (api/v1/cluster_types.go). Ready is the operator's own "Ready"
-- condition; a planned operation (a major upgrade, a switchover, new settings) is progress, not
-- a failure: only the phases that wait for a person are Degraded.
local hs = {status = "Progressing", message = "Waiting for the cluster"}
local stuck = {
  ["Cluster is unrecoverable and needs manual intervention"] = true,
  ["Unable to create required cluster objects"] = true,
  ["Cluster cannot proceed to reconciliation due to an unknown plugin being required"] = true,
  ["Cluster has incomplete or invalid image catalog"] = true,
  ["Cluster cannot execute instance online upgrade due to missing architecture binary"] = true,
}
if obj.status == nil then
  return hs
end
local phase = obj.status.phase or ""
if obj.status.phaseReason ~= nil and obj.status.phaseReason ~= "" then
  hs.message = phase .. ": " .. obj.status.phaseReason
elseif phase ~= "" then
  hs.message = phase
end
for _, condition in ipairs(obj.status.conditions or {}) do
  if condition.type == "cnpg.io/hibernation" and condition.status == "True" then
    hs.status = "Suspended"
    hs.message = condition.message or "Hibernated"
    return hs
  end
end
if stuck[phase] then
  hs.status = "Degraded"
  return hs
end
for _, condition in ipairs(obj.status.conditions or {}) do
  if condition.type == "Ready" and condition.status == "True" then
    hs.status = "Healthy"
    return hs
  end
end
return hs

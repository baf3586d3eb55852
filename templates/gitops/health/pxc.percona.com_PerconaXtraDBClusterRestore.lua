-- Percona XtraDB Cluster operator 1.20 (pkg/apis/pxc/v1/pxc_prestore_types.go RestoreState):
-- "Succeeded", "Failed"; the other states are on their way.
local hs = {status = "Progressing", message = "Waiting for the restore"}
if obj.status == nil or obj.status.state == nil then
  return hs
end
hs.message = obj.status.comments or obj.status.state
if obj.status.state == "Succeeded" then
  hs.status = "Healthy"
elseif obj.status.state == "Failed" then
  hs.status = "Degraded"
end
return hs

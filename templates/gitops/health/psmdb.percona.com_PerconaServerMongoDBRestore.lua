-- Percona Server for MongoDB operator 1.22 (pkg/apis/psmdb/v1/perconaservermongodbrestore_types.go
-- RestoreState): "ready" when done, "error" or "rejected" when it failed.
local hs = {status = "Progressing", message = "Waiting for the restore"}
if obj.status == nil or obj.status.state == nil then
  return hs
end
hs.message = obj.status.error or obj.status.state
if obj.status.state == "ready" then
  hs.status = "Healthy"
elseif obj.status.state == "error" or obj.status.state == "rejected" then
  hs.status = "Degraded"
end
return hs

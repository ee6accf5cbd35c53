-- Argo CD health check for connect.ebs.io/Department (kstatus conditions Ready, Reconciling, Stalled).
-- Source of truth: deploy/argocd/health/connect.ebs.io_Department.lua (embedded by generate.sh).
local hs = {}

local function findCondition(conditions, condType)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == condType then
      return c
    end
  end
  return nil
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the department"
  return hs
end

local ready = findCondition(status.conditions, "Ready")
local reconciling = findCondition(status.conditions, "Reconciling")
local stalled = findCondition(status.conditions, "Stalled")

local observed = status.observedGeneration
if ready ~= nil and ready.observedGeneration ~= nil then
  observed = ready.observedGeneration
end
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Stalled: " .. tostring(stalled.reason))
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, "Reconciling")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Department is ready")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "Waiting for the department to become ready")
return hs

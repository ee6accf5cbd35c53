-- Argo CD health check for connect.ebs.io/ManagedConnector (kstatus conditions Ready, Reconciling, Stalled).
-- Source of truth: deploy/argocd/health/connect.ebs.io_ManagedConnector.lua (embedded by generate.sh).
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
  hs.message = "Waiting for the operator to reconcile the connector"
  return hs
end

local ready = findCondition(status.conditions, "Ready")
local reconciling = findCondition(status.conditions, "Reconciling")
local stalled = findCondition(status.conditions, "Stalled")

-- The generation the operator last looked at: the Ready condition's, else status.observedGeneration.
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

if status.connectorState == "FAILED" then
  hs.status = "Degraded"
  local fallback = "Connector is FAILED in Confluent Cloud"
  if ready ~= nil and ready.status ~= "True" then
    hs.message = messageOf(ready, fallback)
  else
    hs.message = fallback
  end
  return hs
end

-- The Department is suspended: the operator changes nothing, so "Progressing" would last as long as the suspension.
-- Failures observed meanwhile are still Degraded (above); everything else is Suspended.
local suspended = findCondition(status.conditions, "Suspended")
if suspended ~= nil and suspended.status == "True" then
  hs.status = "Suspended"
  hs.message = messageOf(suspended, "The connector's Department is suspended")
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, "Reconciling")
  return hs
end

if ready ~= nil and ready.status == "True" then
  local desired = nil
  if obj.spec ~= nil then
    desired = obj.spec.state
  end
  if desired == "Paused" and (ready.reason == "Paused" or status.connectorState == "PAUSED") then
    hs.status = "Suspended"
    hs.message = messageOf(ready, "Connector is paused")
    return hs
  end
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Connector is running")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "Waiting for the connector to become ready")
return hs

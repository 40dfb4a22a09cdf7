/**
 * The Redis half of the HybridRateLimiter and the state write, as ONE script so a message
 * costs one round trip. It repeats `takeToken` (hybrid-rate-limiter.ts) and `resolveValue`
 * (value-resolver.ts) line for line; the unit and integration tests hold the two to the same results.
 *
 * KEYS[1] state hash       field = variable, value = "version|changedAtMs|value|writer"
 * KEYS[2] user bucket      string "tokens|atMs"
 * KEYS[3] global bucket    string "tokens|atMs"
 * ARGV[1] user             ARGV[2] instance id     ARGV[3] changes channel   ARGV[4] key ttl ms
 * ARGV[5] user rate /s     ARGV[6] user burst      ARGV[7] global rate /s    ARGV[8] global burst
 * ARGV[9] assignment count, then per assignment ASSIGNMENT_FIELDS values:
 *   variable, spec ('a' absolute | 'r' relative), number, whole (1: int/enum/bool), min, max,
 *   value to start from when Redis has none (the default, or a value written while Redis was
 *   away), cooldown ms, minimum version (the caller's last known version + 1)
 *
 * Returns {'0', code, waitMs, variable, sinceMs, cooldownMs} when refused, or
 * {'1', publishedAtMs, variable1, value1, version1, variable2, …} when accepted (all strings:
 * Redis truncates Lua numbers to integers). Time is Redis TIME, shared by every instance.
 */
export const ASSIGNMENT_FIELDS = 9;

export const REDIS_COMMIT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local user = ARGV[1]
local ttl = tonumber(ARGV[4])

local function fmt(number)
  return string.format('%.17g', number)
end

-- Same steps as takeToken(): refill, then take one token when there is one.
local function take(key, rate, burst)
  local tokens = burst
  local at = now
  local stored = redis.call('GET', key)
  if stored then
    local t, a = string.match(stored, '^([^|]+)|(.+)$')
    tokens = tonumber(t)
    at = tonumber(a)
  end
  local elapsed = 0
  if now > at then elapsed = now - at end
  tokens = math.min(burst, tokens + (elapsed * rate) / 1000)
  if tokens >= 1 then
    return 0, tokens - 1
  end
  return math.max(1, math.ceil(((1 - tokens) * 1000) / rate)), tokens
end

-- A bucket untouched until it is full again equals a missing one, so it may expire then.
local function keep(key, tokens, rate, burst)
  local full = math.ceil((burst - tokens) * 1000 / rate) + 1000
  if full > ttl then full = ttl end
  redis.call('SET', key, fmt(tokens) .. '|' .. fmt(now), 'PX', full)
end

local userRate = tonumber(ARGV[5])
local userBurst = tonumber(ARGV[6])
local wait, tokens = take(KEYS[2], userRate, userBurst)
if wait > 0 then
  return {'0', 'rate_limited_user', fmt(wait), '', '', ''}
end
keep(KEYS[2], tokens, userRate, userBurst)

local count = tonumber(ARGV[9])
local names = {}
for index = 1, count do
  names[index] = ARGV[10 + (index - 1) * ${ASSIGNMENT_FIELDS}]
end
local stored = redis.call('HMGET', KEYS[1], unpack(names))
local states = {}
for index = 1, count do
  local raw = stored[index]
  if raw then
    local version, changedAt, value, writer = string.match(raw, '^(%d+)|([^|]+)|([^|]+)|(.*)$')
    states[names[index]] = { version = tonumber(version), changedAt = tonumber(changedAt), value = tonumber(value) }
  end
end

for index = 1, count do
  local base = 10 + (index - 1) * ${ASSIGNMENT_FIELDS}
  local cooldown = tonumber(ARGV[base + 7])
  local state = states[names[index]]
  if cooldown > 0 and state then
    local since = now - state.changedAt
    if since < cooldown then
      return {'0', 'cooldown', fmt(math.max(1, math.ceil(cooldown - since))), names[index], fmt(since), ARGV[base + 7]}
    end
  end
end

local globalRate = tonumber(ARGV[7])
local globalBurst = tonumber(ARGV[8])
wait, tokens = take(KEYS[3], globalRate, globalBurst)
if wait > 0 then
  return {'0', 'rate_limited_global', fmt(wait), '', '', ''}
end
keep(KEYS[3], tokens, globalRate, globalBurst)

local nowText = fmt(now)
local result = {'1', nowText}
local published = {}
local fields = {}
for index = 1, count do
  local base = 10 + (index - 1) * ${ASSIGNMENT_FIELDS}
  local name = names[index]
  local state = states[name]
  local current = tonumber(ARGV[base + 6])
  local version = 0
  if state then
    current = state.value
    version = state.version
  end
  -- Same steps as resolveValue(): absolute values arrive checked; relative ones add to the
  -- current value and stop at the bounds, whole kinds round half up and stay in bounds.
  local value = tonumber(ARGV[base + 2])
  if ARGV[base + 1] == 'r' then
    if current ~= current or current == math.huge or current == -math.huge then current = tonumber(ARGV[base + 6]) end
    local low = tonumber(ARGV[base + 4])
    local high = tonumber(ARGV[base + 5])
    local nextValue = current + value
    if not (nextValue >= low) then
      nextValue = low
    elseif nextValue > high then
      nextValue = high
    end
    if ARGV[base + 3] == '1' then
      nextValue = math.floor(nextValue + 0.5)
      if nextValue < low then
        nextValue = low
      elseif nextValue > high then
        nextValue = high
      end
    end
    value = nextValue + 0
  end
  version = math.max(version + 1, tonumber(ARGV[base + 8]))
  states[name] = { version = version, changedAt = now, value = value }
  local valueText = fmt(value)
  local versionText = string.format('%d', version)
  fields[#fields + 1] = name
  fields[#fields + 1] = versionText .. '|' .. nowText .. '|' .. valueText .. '|' .. user
  result[#result + 1] = name
  result[#result + 1] = valueText
  result[#result + 1] = versionText
  published[#published + 1] = { name, valueText, versionText }
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PUBLISH', ARGV[3], cjson.encode({ i = ARGV[2], t = nowText, w = user, c = published }))
return result
`;

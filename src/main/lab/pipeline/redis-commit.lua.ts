/**
 * The Redis half of the HybridRateLimiter and the state write, as ONE script so a message
 * costs one round trip. It repeats `takeToken` (hybrid-rate-limiter.ts) and `resolveValue`
 * (value-resolver.ts) step for step; the unit and integration tests hold the two to the same
 * results. Time is Redis TIME, shared by every instance. Kept lean (few redis.call, numbers
 * handed to Redis to format) because it runs once per chat message.
 *
 * KEYS[1] state hash     fields <variable> value, <variable>:v version, <variable>:t changed at (ms), <variable>:w writer
 * KEYS[2] user bucket    string: the ms at which the bucket is full again; expires then
 * KEYS[3] global bucket  the same, for everyone together
 * ARGV[1] user      ARGV[2] head of the published JSON: {"i":<instance id>,"w":<user>
 * ARGV[3] changes channel   ARGV[4] key ttl ms
 * ARGV[5] user token interval ms (1000/rate)    ARGV[6] user burst
 * ARGV[7] global token interval ms              ARGV[8] global burst
 * ARGV[9] assignment count, then per assignment ASSIGNMENT_FIELDS values:
 *   variable, its ':v', ':t' and ':w' field names (built once in JavaScript: string building is
 *   the dearest thing a script does), spec ('a' absolute | 'r' relative), number as written,
 *   whole (1: int/enum/bool), min, max, value to start from when Redis has none (the default,
 *   or a value written while Redis was away), cooldown ms, minimum version (the caller's last
 *   known version + 1)
 *
 * Returns {0, code, waitMs, variable, sinceMs} when refused, or
 * {1, seconds, microseconds, value1, version1, value2, version2, …} when accepted
 * (values as text: Redis would truncate a Lua number reply to an integer).
 * Publishes {"i":…,"w":…,"t":[seconds,microseconds],"c":[[variable,"value",version],…]}.
 */
export const ASSIGNMENT_FIELDS = 12;

export const REDIS_COMMIT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local ttl = tonumber(ARGV[4])

-- Same steps as takeToken(): 0 when a token was taken, else the ms until the next one.
local function take(key, interval, burst)
  local fullAt = tonumber(redis.call('GET', key)) or now
  if fullAt < now then fullAt = now end
  local nextFullAt = fullAt + interval
  local excess = nextFullAt - now - burst * interval
  if excess > 0.001 then
    return math.max(1, math.ceil(excess))
  end
  -- Once full again the bucket equals a missing one, so it may expire right then.
  local life = math.ceil(nextFullAt - now)
  if life > ttl then life = ttl end
  if life < 1 then life = 1 end
  redis.call('SET', key, nextFullAt, 'PX', life)
  return 0
end

local wait = take(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]))
if wait > 0 then
  return {0, 'rate_limited_user', wait, '', 0}
end

local count = tonumber(ARGV[9])
local fields = {}
for index = 1, count do
  local base = 10 + (index - 1) * ${ASSIGNMENT_FIELDS}
  fields[#fields + 1] = ARGV[base]
  fields[#fields + 1] = ARGV[base + 1]
  fields[#fields + 1] = ARGV[base + 2]
end
local stored = redis.call('HMGET', KEYS[1], unpack(fields))

for index = 1, count do
  local base = 10 + (index - 1) * ${ASSIGNMENT_FIELDS}
  local cooldown = tonumber(ARGV[base + 10])
  local changedAt = tonumber(stored[index * 3])
  if cooldown > 0 and changedAt then
    local since = now - changedAt
    if since < cooldown then
      return {0, 'cooldown', math.max(1, math.ceil(cooldown - since)), ARGV[base], math.floor(since + 0.5)}
    end
  end
end

wait = take(KEYS[3], tonumber(ARGV[7]), tonumber(ARGV[8]))
if wait > 0 then
  return {0, 'rate_limited_global', wait, '', 0}
end

local result = {1, time[1], time[2]}
local published = {}
local writes = {}
local latestValue = {}
local latestVersion = {}
for index = 1, count do
  local base = 10 + (index - 1) * ${ASSIGNMENT_FIELDS}
  local name = ARGV[base]
  local current = tonumber(stored[index * 3 - 2]) or tonumber(ARGV[base + 9])
  local version = tonumber(stored[index * 3 - 1]) or 0
  -- A message may name a variable twice: the second assignment builds on the first.
  if latestVersion[name] then
    current = latestValue[name]
    version = latestVersion[name]
  end
  local valueText = ARGV[base + 5]
  local value = tonumber(valueText)
  if ARGV[base + 4] == 'r' then
    -- Same steps as resolveValue(): add to the current value and stop at the bounds; whole
    -- kinds round half up and stay in bounds.
    if current ~= current or current == math.huge or current == -math.huge then current = tonumber(ARGV[base + 9]) end
    local low = tonumber(ARGV[base + 7])
    local high = tonumber(ARGV[base + 8])
    local nextValue = current + value
    if not (nextValue >= low) then
      nextValue = low
    elseif nextValue > high then
      nextValue = high
    end
    if ARGV[base + 6] == '1' then
      nextValue = math.floor(nextValue + 0.5)
      if nextValue < low then
        nextValue = low
      elseif nextValue > high then
        nextValue = high
      end
    end
    value = nextValue + 0
    valueText = string.format('%.17g', value)
  end
  version = math.max(version + 1, tonumber(ARGV[base + 11]))
  latestValue[name] = value
  latestVersion[name] = version
  writes[#writes + 1] = name
  writes[#writes + 1] = valueText
  writes[#writes + 1] = ARGV[base + 1]
  writes[#writes + 1] = version
  writes[#writes + 1] = ARGV[base + 2]
  writes[#writes + 1] = now
  writes[#writes + 1] = ARGV[base + 3]
  writes[#writes + 1] = ARGV[1]
  result[#result + 1] = valueText
  result[#result + 1] = version
  published[#published + 1] = '["' .. name .. '","' .. valueText .. '",' .. version .. ']'
end
redis.call('HSET', KEYS[1], unpack(writes))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[2] .. ',"t":[' .. time[1] .. ',' .. time[2] .. '],"c":[' .. table.concat(published, ',') .. ']}')
return result
`;

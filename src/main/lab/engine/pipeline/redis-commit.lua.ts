import type { RigConfig } from '../../../../shared/rig';
import { isWholeKind, lowerBound, upperBound } from '../../common/value-resolver';

/**
 * The Redis half of the HybridRateLimiter and the state write, as ONE script so a message
 * costs one round trip. It repeats `takeToken` (hybrid-rate-limiter.ts) and `resolveValue`
 * (value-resolver.ts) step for step; the unit and integration tests hold the two to the same
 * results. Time is Redis TIME, shared by every instance.
 *
 * It runs once per chat message, so it is kept lean: the rig's limits and variables are written
 * into the script as constants (RIG_LINE below, filled by `redisCommitScript`) instead of being
 * sent with every call, numbers are handed to Redis to format, and nothing is JSON-encoded. An
 * accepted message costs six redis.call()s (TIME, GET + SET of the user's bucket, HMGET, HSET,
 * PUBLISH): the global bucket is a field of the state hash (read and written with the variables),
 * and the hash's expiry is refreshed once per TTL_REFRESH_FRACTION of the TTL, not on every call.
 * The script depends on the rig only, never on the run, so Redis caches one script per rig.
 *
 * KEYS[1] state hash     fields <variable> value, <variable>:v version, <variable>:t changed at (ms),
 *                        <variable>:w writer; @g the global bucket (ms at which it is full again);
 *                        @e when the hash's expiry was last refreshed (ms)
 * KEYS[2] user bucket    string: the ms at which the bucket is full again; expires then
 * ARGV[1] user   ARGV[2] head of the published JSON: {"i":<instance id>,"w":<user>
 * ARGV[3] changes channel   ARGV[4] key ttl ms
 * ARGV[5] lease: Redis time (ms) after which this call must do nothing. The caller decides a
 *   message in process only once the lease is over, so a call that reaches a frozen Redis and
 *   runs when it wakes cannot apply the message a second time.
 * ARGV[6] assignment count, then per assignment ASSIGNMENT_FIELDS values: variable, spec
 *   ('a' absolute | 'r' relative), number as written, the caller's last known value, the
 *   caller's last known version + 1 (when Redis holds an older version, as after a stretch in
 *   which the caller stood in for Redis, the caller's value is the current one)
 *
 * Returns {1, seconds, microseconds, value1, version1, value2, version2, …} when accepted
 * (values as text: Redis would truncate a Lua number reply to an integer),
 * {0, code, waitMs, variable, sinceMs, seconds, microseconds} when refused, or
 * {2, seconds, microseconds} when the lease was over (nothing done).
 * Publishes (PUBLISH, or SPUBLISH on the run's slot of a Redis 7 Cluster) {"i":…,"w":…,"t":[seconds,microseconds],"c":[[variable,"value",version],…]}, stamped
 * with the script's TIME (the script's own few µs count toward propagation).
 */
export const ASSIGNMENT_FIELDS = 5;

/** The hash's expiry is refreshed when this fraction of the TTL has passed since the last refresh. */
export const TTL_REFRESH_FRACTION = 0.25;

/** The line of REDIS_COMMIT_SCRIPT that `redisCommitScript` replaces with the rig's constants. */
export const RIG_LINE = '-- rig constants --';

export const REDIS_COMMIT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
if now > tonumber(ARGV[5]) then
  return {2, time[1], time[2]}
end
local ttl = tonumber(ARGV[4])
${RIG_LINE}

-- Same steps as takeToken(): the ms until the next token (0 when one was taken) and the
-- bucket's new full-again moment.
local function take(fullAt, interval, burst)
  if fullAt == nil or fullAt < now then fullAt = now end
  local nextFullAt = fullAt + interval
  local excess = nextFullAt - now - burst * interval
  if excess > 0.001 then
    return math.max(1, math.ceil(excess)), nil
  end
  return 0, nextFullAt
end

local wait, userFullAt = take(tonumber(redis.call('GET', KEYS[2])), USER_INTERVAL, USER_BURST)
if wait > 0 then
  return {0, 'rate_limited_user', wait, '', 0, time[1], time[2]}
end
-- Once full again the bucket equals a missing one, so it may expire right then.
local life = math.ceil(userFullAt - now)
if life > ttl then life = ttl end
if life < 1 then life = 1 end
redis.call('SET', KEYS[2], userFullAt, 'PX', life)

local count = tonumber(ARGV[6])
local fields = {'@g', '@e'}
for index = 1, count do
  local name = ARGV[7 + (index - 1) * ${ASSIGNMENT_FIELDS}]
  local _, _, _, _, versionField, timeField = variable(name)
  fields[#fields + 1] = name
  fields[#fields + 1] = versionField
  fields[#fields + 1] = timeField
end
local stored = redis.call('HMGET', KEYS[1], unpack(fields))

for index = 1, count do
  local name = ARGV[7 + (index - 1) * ${ASSIGNMENT_FIELDS}]
  local _, _, _, cooldown = variable(name)
  local changedAt = tonumber(stored[index * 3 + 2])
  if cooldown > 0 and changedAt then
    local since = now - changedAt
    if since < cooldown then
      return {0, 'cooldown', math.max(1, math.ceil(cooldown - since)), name, math.floor(since + 0.5), time[1], time[2]}
    end
  end
end

local globalFullAt
wait, globalFullAt = take(tonumber(stored[1]), GLOBAL_INTERVAL, GLOBAL_BURST)
if wait > 0 then
  return {0, 'rate_limited_global', wait, '', 0, time[1], time[2]}
end

local result = {1, time[1], time[2]}
local published = {}
local writes = {'@g', globalFullAt}
local latestValue = {}
local latestVersion = {}
for index = 1, count do
  local base = 7 + (index - 1) * ${ASSIGNMENT_FIELDS}
  local name = ARGV[base]
  local whole, low, high, _, versionField, timeField, writerField = variable(name)
  local callerValue = tonumber(ARGV[base + 3])
  local minimumVersion = tonumber(ARGV[base + 4])
  local current = tonumber(stored[index * 3])
  local version = tonumber(stored[index * 3 + 1]) or 0
  -- Redis missed changes the caller made while it stood in for Redis: the caller's value is newer.
  if current == nil or version < minimumVersion - 1 then current = callerValue end
  -- A message may name a variable twice: the second assignment builds on the first.
  if latestVersion[name] then
    current = latestValue[name]
    version = latestVersion[name]
  end
  local valueText = ARGV[base + 2]
  local value = tonumber(valueText)
  if ARGV[base + 1] == 'r' then
    -- Same steps as resolveValue(): add to the current value and stop at the bounds; whole
    -- kinds round half up and stay in bounds.
    if current ~= current or current == math.huge or current == -math.huge then current = callerValue end
    local nextValue = current + value
    if not (nextValue >= low) then
      nextValue = low
    elseif nextValue > high then
      nextValue = high
    end
    if whole then
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
  version = math.max(version + 1, minimumVersion)
  latestValue[name] = value
  latestVersion[name] = version
  writes[#writes + 1] = name
  writes[#writes + 1] = valueText
  writes[#writes + 1] = versionField
  writes[#writes + 1] = version
  writes[#writes + 1] = timeField
  writes[#writes + 1] = now
  writes[#writes + 1] = writerField
  writes[#writes + 1] = ARGV[1]
  result[#result + 1] = valueText
  result[#result + 1] = version
  published[#published + 1] = '["' .. name .. '","' .. valueText .. '",' .. version .. ']'
end
-- The expiry moves once per part of the TTL, not with every message.
local refreshedAt = tonumber(stored[2])
local refresh = refreshedAt == nil or now - refreshedAt >= ttl * ${TTL_REFRESH_FRACTION}
if refresh then
  writes[#writes + 1] = '@e'
  writes[#writes + 1] = now
end
redis.call('HSET', KEYS[1], unpack(writes))
if refresh then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
redis.call(PUBLISH_COMMAND, ARGV[3], ARGV[2] .. ',"t":[' .. time[1] .. ',' .. time[2] .. '],"c":[' .. table.concat(published, ',') .. ']}')
return result
`;

/** A number as Lua source: JavaScript's shortest round-trip form reads back to the same double. */
const luaNumber = (value: number): string => {
  if (!Number.isFinite(value)) throw new Error(`expected a finite number for the commit script, got ${value}`);
  return String(value);
};

/**
 * The commit script for one rig (and publish command): REDIS_COMMIT_SCRIPT with the limiter settings and a lookup of
 * each variable (whole, min, max, cooldown ms and its hash field names) written in as constants.
 * Variable names are `[a-z][a-z0-9_]*` (RigSchema), so they are safe inside Lua strings.
 */
export function redisCommitScript(rig: RigConfig, publishCommand: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH'): string {
  const { limiter } = rig;
  const lines = [
    `local PUBLISH_COMMAND = '${publishCommand}'`,
    `local USER_INTERVAL = ${luaNumber(1000 / limiter.userRate)}`,
    `local USER_BURST = ${luaNumber(limiter.userBurst)}`,
    `local GLOBAL_INTERVAL = ${luaNumber(1000 / limiter.globalRate)}`,
    `local GLOBAL_BURST = ${luaNumber(limiter.globalBurst)}`,
    // Returns whole, min, max, cooldown ms, version/time/writer field names; constants are interned once.
    'local function variable(name)',
    ...rig.variables.map((entry) => {
      const name = entry.name;
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`variable name "${name}" cannot go into the commit script: expected [a-z][a-z0-9_]*`);
      const values = [
        isWholeKind(entry) ? 'true' : 'false',
        luaNumber(lowerBound(entry)),
        luaNumber(upperBound(entry)),
        luaNumber(entry.cooldownMs),
        `'${name}:v'`,
        `'${name}:t'`,
        `'${name}:w'`,
      ];
      return `  if name == '${name}' then return ${values.join(', ')} end`;
    }),
    `  error('the rig has no variable ' .. tostring(name))`,
    'end',
  ];
  return REDIS_COMMIT_SCRIPT.replace(RIG_LINE, lines.join('\n'));
}

// The Lua the state server runs. Time is the server's (TIME), so instances whose clocks
// disagree still share one window. Amounts of USD travel as "%.17g" text: exact doubles.
#include "state/scripts.hpp"

namespace aimo::state::scripts {

namespace {
// What admit and prefetch both read first: the agent, then its windows and budget, trimmed of
// what has expired. ARGV: name, lease ms, window ms, then the script's own.
const std::string agent_state = R"lua(
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'gone'} end
local agent = cjson.decode(raw)
if agent.revoked_at then return {'revoked', agent.revoked_at} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local cutoff = now - window
local function usd(x) return string.format('%.17g', x) end

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
local requests, requests_reset = -1, 0
if agent.rpm then
  requests = redis.call('ZCARD', KEYS[3])
  requests_reset = window
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if oldest[2] then requests_reset = tonumber(oldest[2]) + window - now end
end

local tokens, tokens_reset = -1, 0
if agent.tpm then
  local total = tonumber(redis.call('GET', KEYS[5]) or '0')
  if redis.call('EXISTS', KEYS[4]) == 0 then total = 0 end
  local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', cutoff)
  if #gone > 0 then
    for _, member in ipairs(gone) do total = total - tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', cutoff)
    if total < 0 then total = 0 end
    redis.call('SET', KEYS[5], total, 'PX', window * 2)
    redis.call('PEXPIRE', KEYS[4], window * 2)
  end
  tokens, tokens_reset = total, window
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if oldest[2] then tokens_reset = tonumber(oldest[2]) + window - now end
end

local spent, held = 0, 0
if agent.budget_usd then
  spent = tonumber(redis.call('GET', KEYS[6]) or '0')
  local holds = redis.call('HGETALL', KEYS[2])
  for i = 1, #holds, 2 do
    local amount, expiry = string.match(holds[i + 1], '^(%S+) (%S+)$')
    if tonumber(expiry) <= now then
      redis.call('HDEL', KEYS[2], holds[i])
    else
      held = held + tonumber(amount)
    end
  end
end
)lua";
} // namespace

const Script admit{agent_state + R"lua(
if agent.rpm and requests >= agent.rpm then return {'rpm', requests_reset, agent.rpm} end
if agent.tpm and tokens >= agent.tpm then return {'tpm', tokens, tokens_reset, agent.tpm} end

local reserved, cap = '', -1
if agent.budget_usd then
  if spent >= agent.budget_usd - 1e-12 then return {'spent', usd(spent), usd(agent.budget_usd)} end
  local left = agent.budget_usd - spent - held
  local prompt = tonumber(ARGV[5])
  local completion = tonumber(ARGV[6])
  local price = tonumber(ARGV[7])
  if ARGV[8] == '1' then
    local affordable = math.floor((left - prompt) * 1e6 / price + 1e-9)
    if affordable < 1 then return {'short', usd(left), usd(held), usd(agent.budget_usd)} end
    if completion > affordable then
      completion = affordable
      cap = affordable
    end
  elseif prompt > left + 1e-12 then
    return {'short', usd(left), usd(held), usd(agent.budget_usd)}
  end
  local amount = prompt + completion * price / 1e6
  reserved = usd(amount)
  redis.call('HSET', KEYS[2], ARGV[4], reserved .. ' ' .. (now + lease))
end

redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], window * 2)
return {'ok', reserved, cap, requests, requests_reset, tokens, tokens_reset, agent.rpm or -1,
        agent.tpm or -1}
)lua"};

// Tickets live in the lower half of every limit and hold at most a hundredth of it, so the
// admissions of the upper half (one script each) find what they need. Each counts in the
// request window from the moment it may last be used, so the window never under-counts.
const Script prefetch{agent_state + R"lua(
local n = tonumber(ARGV[6])
if agent.rpm then
  n = math.min(n, math.floor(agent.rpm / 2) - requests,
               math.floor(agent.rpm / 100) - tonumber(ARGV[8]))
end
if agent.tpm and tokens * 2 > agent.tpm then n = 0 end
local amount = tonumber(ARGV[5])
if agent.budget_usd then
  if spent + held > agent.budget_usd / 2 then
    n = 0
  elseif amount > 0 then -- a free model's requests hold nothing
    n = math.min(n, math.floor((agent.budget_usd / 2 - spent - held) / amount + 1e-9),
                 math.floor((agent.budget_usd / 100 - tonumber(ARGV[7])) / amount + 1e-9))
  end
end
if n < 1 then return {'none'} end
local last_use = now + tonumber(ARGV[9])
for i = 1, n do
  local id = ARGV[4] .. i
  if agent.budget_usd then redis.call('HSET', KEYS[2], id, usd(amount) .. ' ' .. (now + lease)) end
  redis.call('ZADD', KEYS[3], last_use, id)
end
redis.call('PEXPIRE', KEYS[3], window * 2)
return {'ok', n, agent.budget_usd and usd(amount) or '', requests, requests_reset, tokens,
        tokens_reset, agent.rpm or -1, agent.tpm or -1}
)lua"};

const Script forget{R"lua(
redis.call('HDEL', KEYS[1], unpack(ARGV))
redis.call('ZREM', KEYS[2], unpack(ARGV))
return 0
)lua"};

const Script settle{R"lua(
local window = tonumber(ARGV[1])
local mark = KEYS[#KEYS]
local last = tonumber(redis.call('GET', mark) or '0')
-- Grouped by agent, so a batch costs a few calls per agent rather than several per request.
local agents, order = {}, {}
local settled, tokens_used = 0, false
for i = 0, (#KEYS - 1) / 4 - 1 do
  local number = tonumber(ARGV[i * 4 + 5])
  if number > last then
    last = number
    settled = settled + 1
    local holds = KEYS[i * 4 + 1]
    local agent = agents[holds]
    if not agent then
      agent = {spent = KEYS[i * 4 + 2], tokens = KEYS[i * 4 + 3], total = KEYS[i * 4 + 4],
               released = {}, costs = {}, members = {}, used = 0}
      agents[holds] = agent
      order[#order + 1] = holds
    end
    local reservation, cost, used = ARGV[i * 4 + 2], tonumber(ARGV[i * 4 + 3]),
      tonumber(ARGV[i * 4 + 4])
    agent.released[#agent.released + 1] = reservation
    if cost > 0 then agent.costs[#agent.costs + 1] = cost end
    if used > 0 then
      agent.members[#agent.members + 1] = reservation .. ':' .. used
      agent.used = agent.used + used
      tokens_used = true
    end
  end
end
local now = nil
if tokens_used then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
for _, holds in ipairs(order) do
  local agent = agents[holds]
  redis.call('HDEL', holds, unpack(agent.released))
  if #agent.costs > 0 then
    local total = tonumber(redis.call('GET', agent.spent) or '0')
    for _, cost in ipairs(agent.costs) do total = total + cost end
    redis.call('SET', agent.spent, string.format('%.17g', total))
  end
  if #agent.members > 0 then
    local scored = {}
    for _, member in ipairs(agent.members) do
      scored[#scored + 1] = now
      scored[#scored + 1] = member
    end
    redis.call('ZADD', agent.tokens, unpack(scored))
    redis.call('PEXPIRE', agent.tokens, window * 2)
    local sum = tonumber(redis.call('GET', agent.total) or '0') + agent.used
    redis.call('SET', agent.total, sum, 'PX', window * 2)
  end
end
redis.call('SET', mark, last, 'PX', 86400000)
return settled
)lua"};

const Script renew{R"lua(
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  if held then
    redis.call('HSET', KEYS[1], ARGV[i], string.match(held, '^(%S+) ') .. ' ' .. expiry)
  end
end
return 0
)lua"};

const Script acquire{R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease, lease_ms, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local cutoff = now - window
local accounts = #KEYS / 4
for a = 0, accounts - 1 do
  local in_flight, requests, used, total = KEYS[a * 4 + 1], KEYS[a * 4 + 2], KEYS[a * 4 + 3],
    KEYS[a * 4 + 4]
  local max, rpm, tpm = tonumber(ARGV[5 + a * 3]), tonumber(ARGV[6 + a * 3]),
    tonumber(ARGV[7 + a * 3])
  if max >= 0 then
    local out = 0
    local all = redis.call('HGETALL', in_flight)
    for i = 1, #all, 2 do
      if tonumber(string.match(all[i + 1], ' (%S+)$')) <= now then
        redis.call('HDEL', in_flight, all[i])
      else
        out = out + 1
      end
    end
    if out >= max then return {'busy'} end
  end
  if rpm >= 0 then
    redis.call('ZREMRANGEBYSCORE', requests, '-inf', cutoff)
    if redis.call('ZCARD', requests) >= rpm then
      local oldest = redis.call('ZRANGE', requests, 0, 0, 'WITHSCORES')
      return {'rpm', tonumber(oldest[2]) + window - now}
    end
  end
  if tpm >= 0 then
    local sum = tonumber(redis.call('GET', total) or '0')
    if redis.call('EXISTS', used) == 0 then sum = 0 end
    local gone = redis.call('ZRANGEBYSCORE', used, '-inf', cutoff)
    for _, member in ipairs(gone) do sum = sum - tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', used, '-inf', cutoff)
    if sum < 0 then sum = 0 end
    redis.call('SET', total, sum, 'PX', window * 2)
    if redis.call('ZCARD', used) > 0 and sum + tokens > tpm then
      local oldest = redis.call('ZRANGE', used, 0, 0, 'WITHSCORES')
      return {'tpm', tonumber(oldest[2]) + window - now}
    end
  end
end
for a = 0, accounts - 1 do
  local in_flight, requests, used, total = KEYS[a * 4 + 1], KEYS[a * 4 + 2], KEYS[a * 4 + 3],
    KEYS[a * 4 + 4]
  if tonumber(ARGV[5 + a * 3]) >= 0 then
    redis.call('HSET', in_flight, lease, '1 ' .. (now + lease_ms))
  end
  if tonumber(ARGV[6 + a * 3]) >= 0 then
    redis.call('ZADD', requests, now, lease)
    redis.call('PEXPIRE', requests, window * 2)
  end
  if tonumber(ARGV[7 + a * 3]) >= 0 then
    redis.call('ZADD', used, now, lease .. ':' .. tokens)
    redis.call('PEXPIRE', used, window * 2)
    redis.call('SET', total, tonumber(redis.call('GET', total) or '0') + tokens, 'PX', window * 2)
  end
end
return {'ok'}
)lua"};

const Script release{R"lua(
local lease, estimated, actual = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for a = 0, #KEYS / 3 - 1 do
  local in_flight, used, total = KEYS[a * 3 + 1], KEYS[a * 3 + 2], KEYS[a * 3 + 3]
  redis.call('HDEL', in_flight, lease)
  if actual >= 0 and actual ~= estimated then
    local score = redis.call('ZSCORE', used, lease .. ':' .. estimated)
    if score then
      redis.call('ZREM', used, lease .. ':' .. estimated)
      redis.call('ZADD', used, score, lease .. ':' .. actual)
      local sum = tonumber(redis.call('GET', total) or '0') + actual - estimated
      if sum < 0 then sum = 0 end
      redis.call('SET', total, sum, 'KEEPTTL')
    end
  end
end
return 0
)lua"};

} // namespace aimo::state::scripts

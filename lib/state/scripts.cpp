// The Lua the state server runs. Time is the server's (TIME), so instances whose clocks
// disagree still share one window. Amounts of USD travel as "%.17g" text: exact doubles.
#include "state/scripts.hpp"

namespace aimo::state::scripts {

const Script admit{R"lua(
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'gone'} end
local agent = cjson.decode(raw)
if agent.revoked_at then return {'revoked', agent.revoked_at} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[8])
local cutoff = now - window
local function usd(x) return string.format('%.17g', x) end

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
local requests, requests_reset = -1, 0
if agent.rpm then
  requests = redis.call('ZCARD', KEYS[3])
  requests_reset = window
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if oldest[2] then requests_reset = tonumber(oldest[2]) + window - now end
  if requests >= agent.rpm then return {'rpm', requests_reset, agent.rpm} end
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
  if total >= agent.tpm then return {'tpm', total, tokens_reset, agent.tpm} end
end

local reserved, cap = '', -1
if agent.budget_usd then
  local spent = tonumber(redis.call('GET', KEYS[6]) or '0')
  if spent >= agent.budget_usd - 1e-12 then return {'spent', usd(spent), usd(agent.budget_usd)} end
  local held = 0
  local holds = redis.call('HGETALL', KEYS[2])
  for i = 1, #holds, 2 do
    local amount, expiry = string.match(holds[i + 1], '^(%S+) (%S+)$')
    if tonumber(expiry) <= now then
      redis.call('HDEL', KEYS[2], holds[i])
    else
      held = held + tonumber(amount)
    end
  end
  local left = agent.budget_usd - spent - held
  local prompt = tonumber(ARGV[3])
  local completion = tonumber(ARGV[4])
  local price = tonumber(ARGV[5])
  if ARGV[6] == '1' then
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
  redis.call('HSET', KEYS[2], ARGV[2], reserved .. ' ' .. (now + tonumber(ARGV[7])))
end

redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('PEXPIRE', KEYS[3], window * 2)
return {'ok', reserved, cap, requests, requests_reset, tokens, tokens_reset, agent.rpm or -1,
        agent.tpm or -1}
)lua"};

const Script settle{R"lua(
if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', 86400000) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local cost = tonumber(ARGV[2])
if cost > 0 then
  local spent = tonumber(redis.call('GET', KEYS[2]) or '0') + cost
  redis.call('SET', KEYS[2], string.format('%.17g', spent))
end
local tokens = tonumber(ARGV[3])
if tokens > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local window = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[3], now, ARGV[1] .. ':' .. tokens)
  redis.call('PEXPIRE', KEYS[3], window * 2)
  local total = tonumber(redis.call('GET', KEYS[4]) or '0') + tokens
  redis.call('SET', KEYS[4], total, 'PX', window * 2)
end
return 1
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

} // namespace aimo::state::scripts

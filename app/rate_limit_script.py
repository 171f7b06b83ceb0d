"""Both budgets of a request charged in Redis in one round trip: one Lua script (run by its
SHA once Redis knows it), where charging them with the `limits` library took three commands
(the user's hit, the tenant's, and a read of the user's window for the headers), about half a
millisecond of CPU per request.

The arithmetic is the `limits` library's sliding-window counter (its acquire_sliding_window
script), so a budget in Redis behaves as the same budget in memory (`MemoryStorage`, the
fallback while Redis is away): two counters per budget, the current window's and the
previous one's; when the current window's time is up it becomes the previous one; a charge
of `units` fits while floor(previous x the share of it still inside the window) + current +
units <= limit. The user's budget first: a user over it is refused without touching the
tenant's. A request the tenant's budget refuses stays charged to its user (the smaller budget:
it only happens when colleagues together have spent the tenant's).

Returns {outcome, previous, previous ttl ms, current, current ttl ms}: the window of the budget
that refused (outcome 0: the user's, 1: the tenant's), or the user's after the charge (2).
"""

from __future__ import annotations

USER_REFUSED, TENANT_REFUSED, CHARGED = 0, 1, 2

# KEYS: user's previous and current window, tenant's previous and current window.
# ARGV: user limit, tenant limit, window seconds, user units, tenant units.
CHARGE_BOTH = """
local expiry = tonumber(ARGV[3]) * 1000

local function window(previous, current)
  local current_ttl = tonumber(redis.call('pttl', current))
  if current_ttl > 0 and current_ttl < expiry then
    redis.call('rename', current, previous)
    redis.call('set', current, 0, 'PX', current_ttl + expiry)
  end
  local previous_count = tonumber(redis.call('get', previous)) or 0
  local previous_ttl = math.max(tonumber(redis.call('pttl', previous)) or 0, 0)
  local current_count = tonumber(redis.call('get', current)) or 0
  current_ttl = math.max(tonumber(redis.call('pttl', current)) or 0, 0)
  return {previous_count, previous_ttl, current_count, current_ttl}
end

local function fits(counts, limit, units)
  local spent = math.floor(counts[1] * counts[2] / expiry) + counts[3]
  return units <= limit and spent + units <= limit
end

local function charge(current, units)
  if redis.call('exists', current) == 1 then
    redis.call('incrby', current, units)
  else
    redis.call('set', current, units, 'PX', expiry * 2)
  end
end

local user = window(KEYS[1], KEYS[2])
local user_units = tonumber(ARGV[4])
if not fits(user, tonumber(ARGV[1]), user_units) then
  return {0, user[1], user[2], user[3], user[4]}
end
charge(KEYS[2], user_units)
local tenant = window(KEYS[3], KEYS[4])
if not fits(tenant, tonumber(ARGV[2]), tonumber(ARGV[5])) then
  return {1, tenant[1], tenant[2], tenant[3], tenant[4]}
end
charge(KEYS[4], tonumber(ARGV[5]))
return {2, user[1], user[2], tonumber(redis.call('get', KEYS[2])),
        math.max(tonumber(redis.call('pttl', KEYS[2])), 0)}
"""


def window_keys(prefix: str, key: str) -> list[str]:
    """A budget's two counters, as the `limits` library names them (one hash slot: braces)."""
    current = f"{prefix}:{{{key}}}"
    return [f"{current}/-1", current]

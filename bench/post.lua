-- wrk script for bench/run.py: POSTs JSON bodies, one per line of the file named after "--",
-- rotating through them; headers come from wrk's -H options. Counts non-2xx answers and answers
-- carrying GraphQL "errors", tracks the smallest and largest body, and prints one line
-- "BENCH_JSON {...}" with counts and latency percentiles (microseconds) when done.
--
--   wrk -t1 -c8 -d15s -s bench/post.lua -H 'authorization: ...' URL -- bodies.jsonl

local threads = {}

function setup(thread)
  -- each thread starts at its own offset, so threads do not ask for the same id in lockstep
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests, index = {}, offset or 0
  non2xx, errors, min_size, max_size = 0, 0, -1, -1
  local file = assert(io.open(args[1], "rb"))
  for line in file:lines() do
    if #line > 0 then
      -- formatted once here: building a request per call would load the generator's core
      table.insert(requests, wrk.format("POST", nil, nil, line))
    end
  end
  file:close()
  assert(#requests > 0, "no request bodies in " .. args[1])
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
  local size = #body
  if min_size < 0 or size < min_size then min_size = size end
  if size > max_size then max_size = size end
end

function done(summary, latency, _requests)
  local totals = { non2xx = 0, errors = 0, min_size = -1, max_size = -1 }
  for _, thread in ipairs(threads) do
    totals.non2xx = totals.non2xx + thread:get("non2xx")
    totals.errors = totals.errors + thread:get("errors")
    local low, high = thread:get("min_size"), thread:get("max_size")
    if low >= 0 and (totals.min_size < 0 or low < totals.min_size) then totals.min_size = low end
    if high > totals.max_size then totals.max_size = high end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"non2xx": %d, "errors": %d, "socket_errors": %d, "min_size": %d, "max_size": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    totals.non2xx, totals.errors, e.connect + e.read + e.write + e.timeout,
    totals.min_size, totals.max_size))
end

-- wrk script of bench/bench_serve.py: POST JSON bodies, one per line of the file named by the
-- WRK_BODIES environment variable, each connection taking them in turn (WRK_DELAY_MS, below,
-- paces them); at the end print the run's exact figures as one JSON line (wrk's own text rounds
-- latencies to three digits).
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "WRK_BODIES names a file without a body")

local prepared = {}
local next_body = 0

init = function(args)
  -- formatted once per thread: the timed loop only hands out ready-made requests
  local headers = { ["Content-Type"] = "application/json" }
  for i, body in ipairs(bodies) do
    prepared[i] = wrk.format("POST", nil, headers, body)
  end
end

request = function()
  next_body = next_body % #prepared + 1
  return prepared[next_body]
end

-- WRK_DELAY_MS > 0 paces each connection: it waits that long after each answer before it sends
-- the next request, so the server sees a steady rate below what it could answer
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if pause > 0 then
  delay = function()
    return pause
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end

-- wrk script for bench/ingest.py: POST a field report per request, each with its own body and
-- Idempotency-Key; prints one JSON line with the figures (like wrk_report.lua).
local counter = 0
local thread_id = 0
local templates = { "casualties", "networks", "general" }

setup = function(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

init = function(args)
  path = args[1]
  token = args[2]
  math.randomseed(os.time() + (tid or 0))
end

request = function()
  counter = counter + 1
  local template = templates[(counter % 3) + 1]
  local figures = "{}"
  if template == "casualties" then
    figures = string.format('{"dead": 0, "absolute": %d, "relative": %d, "evacuated": %d}',
      counter % 4, counter % 9, counter % 50)
  elseif template == "networks" then
    figures = string.format('{"homes_without_power": %d, "roads_closed": %d}',
      (counter * 7) % 5000, counter % 12)
  end
  local lon = 0.60 + math.random() * 0.2
  local lat = 47.33 + math.random() * 0.12
  local body = string.format(
    '{"template": "%s", "text": "Remontée banc %d-%d : hauteur d\'eau relevée, secteur %d.", ' ..
    '"location": {"type": "Point", "coordinates": [%.5f, %.5f]}, "figures": %s}',
    template, tid or 0, counter, counter % 40, lon, lat, figures)
  local headers = {
    ["Host"] = "127.0.0.1",
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("banc-%d-%d-%d", tid or 0, counter, math.random(1, 1e9)),
  }
  return wrk.format("POST", path, headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

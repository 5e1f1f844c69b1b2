-- wrk script for scripts/load-test: each request is a list (60 %), a show (30 %) or a
-- reconnect (10 %) of a random connection. Each reconnect carries its own X-Correlation-Id;
-- the ids of acknowledged ones go to $LOAD_ACKED.<thread>, for the script to find in the log.
-- Errors are counted per thread and summed at the end.
local token = os.getenv("ADMIN_TOKEN")
local ids = {}
for line in io.lines(os.getenv("LOAD_IDS")) do ids[#ids + 1] = line end
local searches = {"sales", "support", "billing", "ops", "crm"}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  writes, reads, errors, sent = 0, 0, 0, 0
  acked = io.open(os.getenv("LOAD_ACKED") .. "." .. id, "w")
end

function request()
  local id = ids[math.random(#ids)]
  local auth = {["Authorization"] = "Bearer " .. token}
  local roll = math.random(100)
  if roll <= 60 then
    local path = "/v1/connections?status=" .. (roll % 2 == 0 and "active" or "all") ..
      "&search=" .. searches[math.random(#searches)] .. "&limit=50"
    return wrk.format("GET", path, auth)
  elseif roll <= 90 then
    return wrk.format("GET", "/v1/connections/" .. id, auth)
  end
  auth["Content-Type"] = "application/json"
  sent = sent + 1
  auth["X-Correlation-Id"] = "load-" .. id .. "-" .. sent
  return wrk.format("POST", "/v1/connections/" .. id .. "/reconnect", auth,
    '{"credentials":{"apiKey":"load-' .. math.random(1000000) .. '"}}')
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
  elseif string.find(body, '"firstPosition"', 1, true) then
    writes = writes + 1
    acked:write(headers["X-Correlation-Id"], "\n")
    acked:flush()
  else
    reads = reads + 1
  end
end

function done(summary, latency, requests)
  local writes, reads, errors = 0, 0, 0
  for _, thread in ipairs(threads) do
    writes = writes + thread:get("writes")
    reads = reads + thread:get("reads")
    errors = errors + thread:get("errors")
  end
  io.write(string.format("LOAD requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "acknowledged_writes=%d reads=%d errors=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    writes, reads, errors,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end

-- wrk script of benchmarks/bench_api.py: sustained order entry with a unique order id per request.
--
--   wrk -t1 -c32 -d60s -s benchmarks/bench_api.lua http://127.0.0.1:PORT -- MODE TOKEN OUTDIR BUDGET
--
-- MODE "orders" posts small client orders; "health" sends bare GET /health (the baseline).
-- Every thread writes the ids of the orders the API accepted to OUTDIR/accepted-N.txt (one a
-- line), so that bench_api.py can compare them with the audit log. After BUDGET orders a thread
-- sends GET /health instead (the run is bounded by count as well as by time). done() prints one
-- line "RESULT {json}" with the counts, the latency percentiles (microseconds) and how many orders
-- each thread sent ("sent": thread id -> n; its ids are W<thread>-1 .. W<thread>-n).

local threads = {}
local accounts = { "C-PENSION-1", "C-HEDGE-1", "C-HEDGE-2" }

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  token = args[2]
  budget = tonumber(args[4])
  sent = 0
  accepted = 0
  refused = 0
  out = io.open(args[3] .. "/accepted-" .. id .. ".txt", "w")
  out:setvbuf("line") -- wrk exits without closing Lua states: write each id through
  health = wrk.format("GET", "/health")
end

function request()
  if mode ~= "orders" or sent >= budget then
    return health
  end
  sent = sent + 1
  local body = string.format(
    '{"order_id":"W%d-%d","account":"%s","symbol":"AAPL","side":"buy","qty":10,"price":190.5,"venue":"XNYS"}',
    id, sent, accounts[sent % 3 + 1]
  )
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if mode ~= "orders" or status ~= 200 then
    return
  end
  local order_id = string.match(body, '"order_id":"([^"]+)"')
  if order_id == nil then
    return
  end
  if string.find(body, '"accepted":true', 1, true) then
    accepted = accepted + 1
    out:write(order_id, "\n")
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local total_accepted, total_refused, sent = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_accepted = total_accepted + thread:get("accepted")
    total_refused = total_refused + thread:get("refused")
    table.insert(sent, string.format('"%d":%d', thread:get("id"), thread:get("sent")))
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"accepted":%d,"refused":%d,"non_2xx":%d,' ..
    '"socket_errors":%d,"p50_us":%d,"p99_us":%d,"sent":{%s}}\n',
    summary.requests, summary.duration, total_accepted, total_refused, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(sent, ",")
  ))
end

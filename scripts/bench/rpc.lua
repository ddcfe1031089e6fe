-- wrk script for every scenario of `npm run bench` (scripts/bench/run.ts):
-- one request shape per run, with the varying part picked at random per
-- request, so that a run exercises many keys rather than one hot cache entry.
-- It owns no measurement logic beyond wrk's own: done() prints wrk's summary
-- as one JSON line that wrk.ts parses, instead of scraping wrk's text report.
--
--   wrk -s rpc.lua URL -- METHOD PATH ROOT_KEY|-|~unknown TEMPLATE SOURCE
--
-- ~unknown sends a fresh root key nobody issued with each request (with SOURCE none).
--
-- TEMPLATE is the body with one %s for the varying value ("-" for no body).
-- SOURCE picks that value per request:
--   file:PATH  a random line of PATH (requests are formatted once, in init)
--   seq:N:PATH the lines of PATH in order from line N+1, wrapping around (read
--              as sent, not held: a pass over a million keys, see large.ts)
--   int:N      "bench_" .. a random integer in 1..N (ratelimit identifiers)
--   random     a fresh random string each request (unknown keys)
--   none       TEMPLATE as it is

local requests = {}
local count = 0
local dynamic = nil

-- 24 random hex digits: a key or root key nobody issued.
local function randomHex()
  return string.format("%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

local function build(method, path, headers, body)
  return wrk.format(method, path, headers, body)
end

function init(args)
  local method, path, rootKey, template, source = args[1], args[2], args[3], args[4], args[5] or "none"
  local headers = {}
  if template ~= "-" then headers["Content-Type"] = "application/json" end
  if rootKey ~= "-" and rootKey ~= "~unknown" then headers["Authorization"] = "Bearer " .. rootKey end
  local function body(value)
    if template == "-" then return nil end
    if value == nil then return template end
    return string.format(template, value)
  end
  -- Seed per thread from the clock and the address of a fresh table.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)

  if source:sub(1, 5) == "file:" then
    for line in io.lines(source:sub(6)) do
      if #line > 0 then
        count = count + 1
        requests[count] = build(method, path, headers, body(line))
      end
    end
    if count == 0 then error("no values in " .. source) end
  elseif source:sub(1, 4) == "seq:" then
    local skip, file = source:match("^seq:(%d+):(.+)$")
    local lines = io.lines(file)
    for _ = 1, tonumber(skip) do
      if lines() == nil then lines = io.lines(file) end
    end
    dynamic = function()
      local line = lines()
      if line == nil or #line == 0 then
        lines = io.lines(file)
        line = lines()
      end
      return build(method, path, headers, body(line))
    end
  elseif source:sub(1, 4) == "int:" then
    local n = tonumber(source:sub(5))
    dynamic = function() return build(method, path, headers, body("bench_" .. math.random(n))) end
  elseif source == "random" then
    dynamic = function()
      return build(method, path, headers, body("unk_" .. randomHex()))
    end
  elseif rootKey == "~unknown" then
    dynamic = function()
      local h = { ["Content-Type"] = headers["Content-Type"] }
      h["Authorization"] = "Bearer unkey_" .. randomHex()
      return build(method, path, h, body(nil))
    end
  else
    count = 1
    requests[1] = build(method, path, headers, body(nil))
  end
end

function request()
  if dynamic then return dynamic() end
  return requests[math.random(count)]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end

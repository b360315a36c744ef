-- wrk script: POST /api/ask with a rotating set of seed-corpus questions (used by bench_http_wrk.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local qs = {"When did Demna apologize?", "Who owns Balenciaga?", "How much was the lawsuit against the set designer?", "Who photographed the portrait of Kim for Balenciaga?", "Why did Balenciaga cut ties with West?", "What is the capital of France?", "How many kids does Kim Kardashian have?", "Who is Balenciaga's creative director?"}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/api/ask", nil, '{"question": "' .. qs[(i % #qs) + 1] .. '"}')
end

done = function(summary, latency, requests)
  io.write(string.format("p50/p95/p99 ms: %.1f / %.1f / %.1f; requests %d; errors %d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end

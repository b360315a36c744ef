-- wrk script: POST /api/ask with a rotating set of seed-corpus questions (used by bench_http_wrk.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local qs = {"When did Demna apologize?", "Who owns Balenciaga?", "How much was the lawsuit against the set designer?", "Who photographed the portrait of Kim for Balenciaga?", "Why did Balenciaga cut ties with West?", "What is the capital of France?", "How many kids does Kim Kardashian have?", "Who is Balenciaga's creative director?"}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/api/ask", nil, '{"question": "' .. qs[(i % #qs) + 1] .. '"}')
end

-- POST one single-use value per request: authorization codes (MODE=code) or refresh
-- tokens (MODE=refresh), read from FILE and shared out between wrk's threads. In refresh
-- mode every response's new refresh token goes back into the pool (rotation), so a pool
-- of a few tokens per connection lasts for the whole run.
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("summary")
local threads, counter = {}, 1
setup = function(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

local pool, head, tail = {}, 1, 0
local mode = os.getenv("MODE")
init = function(args)
	local n = tonumber(os.getenv("THREADS"))
	local i = 0
	for line in io.lines(os.getenv("FILE")) do
		if i % n == id - 1 then
			tail = tail + 1
			pool[tail] = line
		end
		i = i + 1
	end
end

request = function()
	local v = pool[head]
	if v == nil then
		v = "exhausted"
	else
		pool[head] = nil
		head = head + 1
	end
	local body
	if mode == "code" then
		body = "grant_type=authorization_code&code=" .. v .. "&code_verifier=" .. os.getenv("VERIFIER") ..
			"&redirect_uri=" .. os.getenv("REDIRECT") .. "&client_id=" .. os.getenv("CLIENT_ID")
	else
		body = "grant_type=refresh_token&refresh_token=" .. v .. "&client_id=" .. os.getenv("CLIENT_ID")
	end
	return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

response = function(status, headers, body)
	if mode == "refresh" and status == 200 then
		local rt = body:match('"refresh_token":"([^"]+)"')
		if rt then
			tail = tail + 1
			pool[tail] = rt
		end
	end
end

done = function(summary, latency, requests) summary_line(summary, latency) end

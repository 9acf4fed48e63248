-- POST a fixed form body (env BODY) with HTTP Basic credentials (env BASIC, base64).
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("summary")
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if os.getenv("BASIC") and os.getenv("BASIC") ~= "" then
	wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
end
done = function(summary, latency, requests) summary_line(summary, latency) end

-- GET the URL as is (JWKS, metadata).
package.path = os.getenv("BENCH_DIR") .. "/wrk/?.lua;" .. package.path
require("summary")
done = function(summary, latency, requests) summary_line(summary, latency) end

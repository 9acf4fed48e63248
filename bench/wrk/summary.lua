-- The SUMMARY line every bench/wrk script prints: rate, latency percentiles, errors.
function summary_line(summary, latency)
	local s = summary
	local errs = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
	io.write(string.format("SUMMARY rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f reqs=%d non2xx=%d sockerr=%d\n",
		s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, s.requests, s.errors.status, errs))
end

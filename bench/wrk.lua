-- wrk script for bench/run.py: rotate over the request paths listed (one per line) in the
-- file named by BENCH_PATHS_FILE, and print a JSON summary line at the end.
local paths = {}
local index = 0

function init(args)
    local file = assert(io.open(os.getenv("BENCH_PATHS_FILE"), "r"))
    for line in file:lines() do
        if #line > 0 then
            paths[#paths + 1] = line
        end
    end
    file:close()
    -- Threads start at different offsets so they do not walk the list in lock-step.
    index = math.random(#paths) - 1
end

function request()
    index = index % #paths + 1
    return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
        '"non_2xx_3xx": %d, "socket_errors": %d}\n',
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(95), latency:percentile(99),
        errors.status, errors.connect + errors.read + errors.write + errors.timeout
    ))
end

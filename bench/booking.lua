-- wrk script: every request is a new booking with its own email address and
-- its own render token (each form shown books once).
-- Arguments: <form body with EMAIL_PLACEHOLDER and RENDERED_PLACEHOLDER> <run id>
-- <file of render tokens, one a line> <number of wrk threads>. Thread n uses
-- lines n, n + threads, ... Counts bookings that were accepted (a redirect to
-- the request's confirmation page) across threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  template = args[1]
  run_id = args[2]
  local stride = tonumber(args[4])
  tokens = {}
  local line_number = 0
  for line in io.lines(args[3]) do
    if line_number % stride == thread_number - 1 then
      table.insert(tokens, line)
    end
    line_number = line_number + 1
  end
  counter = 0
  accepted = 0
  refused = 0
end

function request()
  counter = counter + 1
  local email = string.format("bench-%s-%d-%d@example.org", run_id, thread_number, counter)
  local encoded = string.gsub(email, "@", "%%40")
  -- Tokens are URL-safe but for ":", which a form body may carry as it is.
  local token = tokens[counter] or "tokens-ran-out"
  -- A function as the replacement: its result is used as it is, "%" included.
  local body = string.gsub(template, "EMAIL_PLACEHOLDER", function() return encoded end)
  body = string.gsub(body, "RENDERED_PLACEHOLDER", function() return token end)
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  local location = headers["Location"] or ""
  if status == 302 and string.find(location, "/consultations/requests/", 1, true) then
    accepted = accepted + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local total_accepted, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_accepted = total_accepted + thread:get("accepted")
    total_refused = total_refused + thread:get("refused")
  end
  io.write(string.format("accepted %d\n", total_accepted))
  io.write(string.format("refused %d\n", total_refused))
end

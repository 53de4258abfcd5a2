-- wrk script for bench/http-load.sh: POST /data/ cmd=set with a token (TOKEN in the environment).
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  local body = "cmd=set&key=bench" .. (n % 10000) .. "&valuedata=world-0123456789abcdef&token=" .. token
  return wrk.format(nil, "/data/", nil, body)
end

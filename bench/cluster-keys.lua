-- wrk script for the cluster load runs: requests go to 100 keys in turn (k0 … k99), so that
-- concurrent reads rarely share one fan-out. The path before "key=" comes from the URL's query.
local counter = 0
local prefix = nil
request = function()
  if prefix == nil then prefix = wrk.path end
  counter = counter + 1
  return wrk.format(nil, prefix .. (counter % 100))
end

-- wrk script for the cluster load runs: every request reads the URL's own path (one hot key),
-- built per request like cluster-keys.lua does, so that both cases cost wrk the same.
request = function()
  return wrk.format(nil, wrk.path)
end

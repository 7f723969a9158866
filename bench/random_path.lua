-- wrk script: each request reads a random id from ids.txt into the path template in PATH_TEMPLATE.
local ids = {}
local template = os.getenv("PATH_TEMPLATE")
local token = os.getenv("BENCH_TOKEN")
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(os.time())

request = function()
  local path = template:gsub("{id}", ids[math.random(#ids)])
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end

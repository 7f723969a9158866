-- wrk script: builds every request from templates given in the environment.
--   METHOD         GET (default) or POST
--   PATH_TEMPLATE  e.g. /v1/projects/{id}
--   BODY_TEMPLATE  optional JSON body, e.g. {"displayName":"Bench {n}"} (sent as application/json)
--   IDS_FILE       optional file of ids, one a line: "{id}" becomes a random one of them
--   BENCH_TOKEN    optional bearer token
--   TOKENS_FILE    optional file of bearer tokens, one a line: each request takes a random one
-- "{n}" becomes a token unique to this wrk run, of letters, digits and _ (so it fits a step name),
-- prefixed with a per-run tag, so the warm-up run and the measured run never repeat a name.
-- Run with -t1: the counter lives in one thread's Lua state.
local method = os.getenv("METHOD") or "GET"
local path_template = os.getenv("PATH_TEMPLATE")
local body_template = os.getenv("BODY_TEMPLATE")
local token = os.getenv("BENCH_TOKEN")
local ids_file = os.getenv("IDS_FILE")
local tokens_file = os.getenv("TOKENS_FILE")

local function read_lines(path)
  local lines = {}
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then lines[#lines + 1] = line end
    end
  end
  return lines
end

local ids = read_lines(ids_file)
local tokens = read_lines(tokens_file)

math.randomseed(os.time())
local tag = string.format("%d_%x", os.time(), math.random(0, 0x7fffffff))
local counter = 0

local headers = {}
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
if body_template and body_template ~= "" then
  headers["Content-Type"] = "application/json"
else
  body_template = nil
end

-- Plain-text replacement: ids and tags hold no "%", so gsub's replacement escapes never apply.
local function fill(template, id, n)
  return (template:gsub("{id}", id):gsub("{n}", n))
end

request = function()
  counter = counter + 1
  local id = #ids > 0 and ids[math.random(#ids)] or ""
  local n = tag .. "_" .. counter
  local body = body_template and fill(body_template, id, n) or nil
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] end
  return wrk.format(method, fill(path_template, id, n), headers, body)
end

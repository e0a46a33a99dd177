--- Progress of Specloom's runs: the work-done progress (`$/progress`) the server sends
--- for plan, generate and validate ("phase 6/11 code generation · task", with the run's
--- percentage), and the `specloom/runEvent` notifications (one per event of the run).
---
--- Shown as it arrives, by `options.progress`: "echo" (the command line, not kept in
--- the message history but for the end), "notify" (`vim.notify`, for notification
--- plugins), false (nothing: e.g. when fidget.nvim shows LSP progress), or a function.

local M = {}

---@class specloom.ProgressEntry
---@field token string|integer
---@field kind "begin"|"report"|"end"
---@field title? string
---@field message? string
---@field percentage? integer
---@field text string what was shown
---@field time number seconds since the plugin loaded

---@type specloom.ProgressEntry[]
M.history = {}
--- At most this many entries are kept in `history` (and `events`).
M.keep = 500

---@type table[]
M.events = {}

---@type table<string|integer, { title: string, message?: string, percentage?: integer, shown: number, phase?: string }>
M.tokens = {}

local uv = vim.loop
local started = uv.hrtime()

---@return number
local function now()
  return (uv.hrtime() - started) / 1e9
end

---@param list table
---@param item any
local function push(list, item)
  table.insert(list, item)
  if #list > M.keep then
    table.remove(list, 1)
  end
end

---@return specloom.Options
local function options()
  return require("specloom.config").options
end

--- "phase 6/11 code generation · task" -> "phase 6/11"
---@param message? string
---@return string|nil
local function phase_of(message)
  return message and message:match("^phase %d+/%d+") or nil
end

--- The text of a progress value, as shown.
---@param state { title: string, message?: string, percentage?: integer }
---@param value table the `$/progress` value
---@return string
function M.format(state, value)
  local text
  if value.kind == "begin" then
    text = state.title
    if value.message and value.message ~= "" then
      text = text .. ": " .. value.message
    end
  elseif value.kind == "end" then
    text = state.title .. ": " .. (value.message or "done")
  else
    text = "Specloom: " .. (value.message or state.message or "")
  end
  if value.kind ~= "end" and value.percentage then
    text = string.format("%s %d%%", text, value.percentage)
  end
  return text
end

---@param text string
---@param value table
---@param token string|integer
---@param force boolean
local function show(text, value, token, force)
  local display = options().progress
  if display == false or display == nil then
    return
  end
  if type(display) == "function" then
    display(text, value, token)
    return
  end
  local level = vim.log.levels.INFO
  if value.kind == "end" and value.message and value.message:match("^failed") then
    level = vim.log.levels.WARN
  end
  if display == "notify" or level ~= vim.log.levels.INFO then
    vim.notify(text, level, { title = "Specloom" })
  elseif force or value.kind ~= "report" then
    -- not in the message history: a run reports hundreds of times
    vim.api.nvim_echo({ { text } }, false, {})
  end
end

--- Handle one `$/progress` value of the Specloom client.
---@param token string|integer
---@param value table
function M.on_progress(token, value)
  if type(value) ~= "table" or not value.kind then
    return
  end
  local state = M.tokens[token]
  if value.kind == "begin" or not state then
    state = { title = value.title or "Specloom", shown = -math.huge }
    M.tokens[token] = state
  end
  if value.message then
    state.message = value.message
  end
  if value.percentage then
    state.percentage = value.percentage
  end
  local text = M.format(state, value)
  push(M.history, {
    token = token,
    kind = value.kind,
    title = state.title,
    message = value.message,
    percentage = value.percentage,
    text = text,
    time = now(),
  })
  local phase = phase_of(value.message)
  local interval = (options().progress_interval_ms or 100) / 1000
  local t = now()
  local force = phase ~= nil and phase ~= state.phase or t - state.shown >= interval
  state.phase = phase or state.phase
  if value.kind ~= "report" or force then
    state.shown = t
    show(text, value, token, force)
  end
  if value.kind == "end" then
    M.tokens[token] = nil
  end
end

--- The `$/progress` handler: Neovim's own (it keeps the client's progress for the
--- statusline and fires `LspProgressUpdate`/`LspProgress`), then the display.
---@param err any
---@param result table
---@param ctx table
---@param config any
function M.progress_handler(err, result, ctx, config)
  local default = vim.lsp.handlers["$/progress"]
  if default then
    pcall(default, err, result, ctx, config)
  end
  if result then
    M.on_progress(result.token, result.value)
  end
end

--- The `specloom/runEvent` handler: kept in `events`, given to `on_run_event`; a
--- failed phase is shown at once.
---@param _ any
---@param event table
---@param ctx table
function M.run_event_handler(_, event, ctx)
  if type(event) ~= "table" then
    return
  end
  push(M.events, event)
  local opts = options()
  if opts.on_run_event then
    local ok, err = pcall(opts.on_run_event, event, ctx and ctx.client_id)
    if not ok then
      vim.notify("Specloom: on_run_event failed: " .. tostring(err), vim.log.levels.ERROR)
    end
  end
  if event.kind == "phase_finished" and event.status == "failed" and opts.progress ~= false then
    local text =
      string.format("Specloom: phase %s %s failed", tostring(event.phase), event.name or "")
    if event.message and event.message ~= "" then
      text = text .. ": " .. event.message
    end
    vim.notify(text, vim.log.levels.WARN, { title = "Specloom" })
  end
end

--- Forget what was recorded.
function M.clear()
  M.history = {}
  M.events = {}
  M.tokens = {}
end

return M

--- Specloom for Neovim: starts the Specloom language server (`specloom lsp`) for spec
--- documents (`*.spec.md`), and runs its commands on the current spec.
---
--- ```lua
--- require("specloom").setup({ trust = false })
--- ```
---
--- Neovim 0.7 and later: `vim.lsp.start` where it exists (0.8+), else
--- `vim.lsp.start_client` and `vim.lsp.buf_attach_client`, one client per workspace root.

local config = require("specloom.config")

local M = {}

--- The server's commands, by the name of their user command.
M.commands = {
  Plan = "specloom.plan",
  Generate = "specloom.generate",
  Validate = "specloom.validate",
  Repair = "specloom.repair",
  Cancel = "specloom.cancel",
  Status = "specloom.status",
}

---@class specloom.Result
---@field command string
---@field result table|boolean|nil
---@field err table|nil
---@field message string what was shown

--- The last answer of each command, by spec URI: `results[uri][command]`.
---@type table<string, table<string, specloom.Result>>
M.results = {}

--- Client ids by workspace root (Neovim 0.7, where `vim.lsp.start` does not exist).
---@type table<string, integer>
local client_ids = {}

local did_setup = false

---@param message string
---@param level? integer
local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = "Specloom" })
end

--- The Specloom clients attached to a buffer.
---@param bufnr? integer
---@return table[]
function M.clients(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.lsp.get_clients then -- 0.10+
    return vim.lsp.get_clients({ bufnr = bufnr, name = "specloom" })
  end
  local found = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "specloom" then
      table.insert(found, client)
    end
  end
  return found
end

--- Send a request through a client, on any Neovim (`client:request` from 0.11).
---@param client table
---@param method string
---@param params table
---@param handler fun(err: table|nil, result: any, ctx: table)
---@param bufnr integer
local function request(client, method, params, handler, bufnr)
  if vim.fn.has("nvim-0.11") == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Whether `bufnr` is a spec buffer (a file, its name matching `pattern`).
---@param bufnr integer
---@return boolean
function M.is_spec_buffer(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= "" then
    return false
  end
  return config.is_spec(vim.api.nvim_buf_get_name(bufnr))
end

local warned_cmd = false

--- Start (or reuse) the server for a spec buffer and attach it. Returns the client id.
---@param bufnr? integer
---@return integer|nil
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not M.is_spec_buffer(bufnr) then
    return nil
  end
  local attached = M.clients(bufnr)[1]
  if attached then
    return attached.id
  end
  local opts = config.options
  local cmd = opts.cmd or {}
  if type(cmd) == "table" and vim.fn.executable(cmd[1] or "") ~= 1 then
    if not warned_cmd then
      warned_cmd = true
      notify(
        string.format(
          "Specloom: the server command %q is not executable (see :checkhealth specloom)",
          tostring(cmd[1])
        ),
        vim.log.levels.ERROR
      )
    end
    return nil
  end
  local client_config = config.client_config(bufnr, opts)
  if vim.lsp.start then -- 0.8+: reuses the client of the same name and root
    local id
    vim.api.nvim_buf_call(bufnr, function()
      id = vim.lsp.start(client_config, { bufnr = bufnr })
    end)
    return id
  end
  local root = client_config.root_dir
  local id = client_ids[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(client_config)
    if not id then
      notify("Specloom: the language server did not start", vim.log.levels.ERROR)
      return nil
    end
    client_ids[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

---@param result table
---@return string
local function describe_output(result)
  local output = result.output
  if type(output) ~= "table" then
    return ""
  end
  local parts = { tostring(output.applied or "none") }
  if type(output.written) == "table" and #output.written > 0 then
    table.insert(parts, #output.written .. " written")
  end
  if type(output.unchanged) == "table" and #output.unchanged > 0 then
    table.insert(parts, #output.unchanged .. " unchanged")
  end
  if type(output.conflicts) == "table" and #output.conflicts > 0 then
    table.insert(parts, #output.conflicts .. " conflicts")
  end
  return " (" .. table.concat(parts, ", ") .. ")"
end

--- The one-line report of a command's answer.
---@param command string e.g. "specloom.generate"
---@param spec string the spec's file name
---@param result any
---@return string message, integer level
function M.describe(command, spec, result)
  local verb = command:gsub("^specloom%.", "")
  local head = string.format("Specloom: %s %s", verb, spec)
  local info, warn = vim.log.levels.INFO, vim.log.levels.WARN
  if command == "specloom.cancel" then
    if result == true then
      return head .. ": the run is being cancelled", info
    end
    return head .. ": no run in flight", info
  end
  if type(result) ~= "table" then
    if command == "specloom.status" then
      return head .. ": no run yet", info
    end
    return head .. ": done", info
  end
  local status = tostring(result.status or "?")
  local text = head .. ": " .. status
  if result.error and result.error ~= "" and result.error ~= vim.NIL then
    text = text .. " (" .. tostring(result.error) .. ")"
  end
  if command == "specloom.plan" then
    text = text
      .. string.format(
        ", %s tasks, %s dependencies, %s levels",
        tostring(result.tasks),
        tostring(result.dependencies),
        tostring(result.levels)
      )
  else
    local files = type(result.files) == "table" and #result.files or 0
    text = text .. string.format(", %d files", files) .. describe_output(result)
    local findings = type(result.findings) == "table" and #result.findings or 0
    if findings > 0 then
      text = text .. string.format(", %d findings", findings)
    end
    if type(result.repairs) == "table" then
      text = text .. string.format(", %d repair attempts", #result.repairs)
    end
    if result.in_flight then
      text = text .. ", running"
    end
  end
  if result.output_dir and result.output_dir ~= vim.NIL then
    text = text .. " -> " .. vim.fn.fnamemodify(tostring(result.output_dir), ":~:.")
  end
  local level = info
  if status == "failed" or status == "cancelled" then
    level = warn
  end
  return text, level
end

--- Conflicts of a run (files you edited that it did not overwrite), one line each.
---@param result any
---@return string|nil
local function describe_conflicts(result)
  if type(result) ~= "table" or type(result.output) ~= "table" then
    return nil
  end
  local conflicts = result.output.conflicts
  if type(conflicts) ~= "table" or #conflicts == 0 then
    return nil
  end
  local lines = { "Specloom: your edits were kept; the generated versions are aside:" }
  for _, conflict in ipairs(conflicts) do
    table.insert(
      lines,
      string.format(
        "  %s (%s): %s",
        conflict.path,
        conflict.reason or "edited",
        conflict.generated or ""
      )
    )
  end
  table.insert(
    lines,
    "Use the quick fixes on each file (Keep my version / Take the generated version)."
  )
  return table.concat(lines, "\n")
end

---@class specloom.RunOptions
---@field bufnr? integer the spec buffer (default: the current one)
---@field on_result? fun(result: any, err: table|nil) called with the command's answer
---@field silent? boolean do not show the answer

--- Run one of the server's commands (`workspace/executeCommand`) on a spec buffer.
---@param command string "specloom.generate", or its short name "generate"
---@param run_opts? specloom.RunOptions
---@return boolean sent
function M.run(command, run_opts)
  run_opts = run_opts or {}
  if not command:match("^specloom%.") then
    command = "specloom." .. command
  end
  local bufnr = run_opts.bufnr
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.clients(bufnr)[1]
  if not client then
    if M.is_spec_buffer(bufnr) and config.options.autostart ~= false then
      M.attach(bufnr)
      client = M.clients(bufnr)[1]
    end
  end
  if not client then
    notify(
      "Specloom: no Specloom language server for this buffer (open a *.spec.md; see :checkhealth specloom)",
      vim.log.levels.WARN
    )
    return false
  end
  local running = command ~= "specloom.cancel" and command ~= "specloom.status"
  if running and vim.bo[bufnr].modified then
    -- the server runs the spec on disk
    vim.api.nvim_buf_call(bufnr, function()
      vim.cmd("silent write")
    end)
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local spec = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":t")
  local params = { command = command, arguments = { uri } }
  request(client, "workspace/executeCommand", params, function(err, result)
    local message, level
    if err then
      message = string.format(
        "Specloom: %s %s failed: %s",
        command:gsub("^specloom%.", ""),
        spec,
        tostring(err.message or err)
      )
      level = vim.log.levels.ERROR
    else
      message, level = M.describe(command, spec, result)
    end
    M.results[uri] = M.results[uri] or {}
    M.results[uri][command] = { command = command, result = result, err = err, message = message }
    if not run_opts.silent then
      notify(message, level)
      local conflicts = not err and describe_conflicts(result)
      if conflicts then
        notify(conflicts, vim.log.levels.WARN)
      end
    end
    local on_result = config.options.on_result
    if on_result then
      pcall(on_result, command, result, err, bufnr)
    end
    if run_opts.on_result then
      run_opts.on_result(result, err)
    end
  end, bufnr)
  return true
end

--- Refresh the code lenses of the spec buffers shown in windows.
function M.refresh_codelens()
  local seen = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local bufnr = vim.api.nvim_win_get_buf(win)
    if not seen[bufnr] and M.clients(bufnr)[1] then
      seen[bufnr] = true
      vim.api.nvim_win_call(win, function()
        pcall(vim.lsp.codelens.refresh)
      end)
    end
  end
end

--- Show the server's code lenses in a spec buffer, refreshed when you enter it, leave
--- insert mode or write it.
---@param bufnr integer
function M.enable_codelens(bufnr)
  local group = vim.api.nvim_create_augroup("specloom_codelens_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      pcall(vim.lsp.codelens.refresh)
    end,
    desc = "Specloom: refresh the code lenses",
  })
  if vim.api.nvim_get_current_buf() == bufnr then
    pcall(vim.lsp.codelens.refresh)
  end
end

local function create_commands()
  local descriptions = {
    Plan = "Specloom: plan the current spec (phases 1 to 5: plan.md, plan.json)",
    Generate = "Specloom: generate the app of the current spec",
    Validate = "Specloom: validate the generated app (phases 7 to 10)",
    Repair = "Specloom: validate with at least one repair attempt",
    Cancel = "Specloom: cancel the run in flight for the current spec",
    Status = "Specloom: the latest run of the current spec",
  }
  for name, command in pairs(M.commands) do
    vim.api.nvim_create_user_command("Specloom" .. name, function()
      M.run(command)
    end, { nargs = 0, desc = descriptions[name] })
  end
end

--- Set the plugin up: options, the autocommands that start the server for spec
--- buffers (unless `autostart = false`), the user commands. Can be called again.
---@param opts? specloom.Options
function M.setup(opts)
  config.set(opts)
  did_setup = true
  create_commands()
  local group = vim.api.nvim_create_augroup("specloom", { clear = true })
  if config.options.autostart == false then
    return
  end
  local function on_event(args)
    M.attach(args.buf)
  end
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
    group = group,
    pattern = "*.spec.md",
    callback = on_event,
    desc = "Specloom: start the language server for a spec",
  })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = { "markdown", "specloom" },
    callback = on_event,
    desc = "Specloom: start the language server for a spec",
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

--- Whether `setup` was called.
---@return boolean
function M.is_setup()
  return did_setup
end

return M

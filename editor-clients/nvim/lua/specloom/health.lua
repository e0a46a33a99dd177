--- `:checkhealth specloom`: Neovim's version, the plugin's setup, the server's command,
--- its Python, and whether the server starts.

local M = {}

-- 0.10+ has vim.health.start/ok/...; 0.7 to 0.9 have require("health").report_*
local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error
local info = health.info or health.report_info

--- Run a command (a list, no shell); its output and exit status.
---@param cmd string[]
---@return string output, integer status
local function run(cmd)
  local output = vim.fn.system(cmd)
  return vim.trim(output or ""), vim.v.shell_error
end

--- The Python interpreter of a server command: `python -m specloom_lsp` names it; for
--- a `specloom` script, its `#!` line does.
---@param cmd string[]
---@return string|nil
local function python_of(cmd)
  if cmd[2] == "-m" then
    return cmd[1]
  end
  local path = vim.fn.exepath(cmd[1])
  if path == "" then
    return nil
  end
  local first = vim.fn.readfile(path, "", 1)[1] or ""
  local interpreter = first:match("^#!%s*(%S+)")
  if interpreter and interpreter:match("python[%d.]*$") then
    return interpreter
  end
  return nil
end

function M.check()
  start("Neovim")
  local version = vim.version()
  local text = string.format("%d.%d.%d", version.major, version.minor, version.patch)
  if vim.fn.has("nvim-0.7") == 1 then
    ok("Neovim " .. text)
  else
    error("Neovim " .. text .. ": Specloom needs 0.7 or later")
  end
  if vim.lsp.start then
    info("the server is started with vim.lsp.start")
  else
    info("the server is started with vim.lsp.start_client (one per workspace root)")
  end

  start("specloom setup")
  local specloom = require("specloom")
  local opts = require("specloom.config").options
  if specloom.is_setup() then
    ok("require('specloom').setup() was called")
  else
    warn("require('specloom').setup() was not called", {
      "Add require('specloom').setup({}) to your configuration",
    })
  end
  local settings = require("specloom.config").settings(opts)
  if opts.autostart == false then
    info(
      'autostart = false: the server is started by vim.lsp.enable("specloom") or another client setup, with its settings'
    )
  elseif next(settings) == nil then
    info("settings: {} (the server's defaults)")
  else
    info("settings: " .. vim.inspect(settings, { newline = " ", indent = "" }))
  end
  if opts.autostart ~= false and settings.trust == nil then
    info(
      "trust is not set: the server asks once per workspace (set trust = true or false to decide)"
    )
  end

  M.check_server(opts)
  M.check_clients()
end

--- The server's command: setup's, or with `autostart = false` the one of
--- `vim.lsp.config("specloom")` (Neovim 0.11+) when there is one.
---@param opts specloom.Options
---@return any cmd, string source
local function server_cmd(opts)
  if opts.autostart == false and vim.lsp.config then
    local ok_config, lsp_config = pcall(function()
      return vim.lsp.config.specloom
    end)
    if ok_config and type(lsp_config) == "table" and lsp_config.cmd then
      return lsp_config.cmd, 'vim.lsp.config("specloom")'
    end
  end
  return opts.cmd, "setup()"
end

---@param opts specloom.Options
function M.check_server(opts)
  start("specloom language server")
  local cmd, source = server_cmd(opts)
  if type(cmd) == "function" then
    info("cmd is a function (" .. source .. "): not checked")
    return
  end
  cmd = cmd or {}
  if type(cmd) ~= "table" or #cmd == 0 then
    error("cmd must be a list, e.g. { 'specloom', 'lsp' }")
    return
  end
  info("cmd (" .. source .. "): " .. table.concat(cmd, " "))
  if vim.fn.executable(cmd[1]) ~= 1 then
    error(string.format("%q is not executable", cmd[1]), {
      "Install Specloom (pip install specloom) in a Python 3.11+ environment",
      "or set cmd = { '/path/to/venv/bin/specloom', 'lsp' } in setup()",
    })
    return
  end
  ok(string.format("%s is executable (%s)", cmd[1], vim.fn.exepath(cmd[1])))

  local python = python_of(cmd)
  if python then
    local out, status =
      run({ python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])" })
    if status ~= 0 then
      error("Python " .. python .. " does not run: " .. out)
    else
      local major, minor = out:match("^(%d+)%.(%d+)")
      if tonumber(major) == 3 and tonumber(minor) >= 11 then
        ok("Python " .. out .. " (" .. python .. ")")
      else
        error("Python " .. out .. " (" .. python .. "): Specloom needs 3.11 or later")
      end
    end
    out, status = run({
      python,
      "-c",
      "import specloom, specloom_lsp; print(specloom.__version__)",
    })
    if status == 0 then
      ok("specloom " .. out .. " and its language server are importable")
    else
      error("specloom_lsp is not importable by " .. python, { out })
    end
  else
    info("the server's Python is not known from cmd (not `python -m ...`, nor a Python script)")
  end

  -- the server's command line answers (the same command, with --help: it exits at once)
  local help_cmd = vim.list_extend(vim.deepcopy(cmd), { "--help" })
  local out, status = run(help_cmd)
  if status == 0 and out:match("specloom lsp") then
    ok("the server answers: " .. table.concat(help_cmd, " "))
  else
    error("the server does not start: " .. table.concat(help_cmd, " ") .. " exited " .. status, {
      out,
    })
  end
end

function M.check_clients()
  start("specloom clients")
  local any = false
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ name = "specloom" })
    or vim.lsp.get_active_clients()
  for _, client in ipairs(clients) do
    if client.name == "specloom" then
      any = true
      local buffers = vim.tbl_keys(client.attached_buffers or {})
      ok(
        string.format(
          "client %d: root %s, %d buffers attached",
          client.id,
          tostring(client.config.root_dir),
          #buffers
        )
      )
    end
  end
  if not any then
    info("no Specloom client is running (open a *.spec.md)")
  end
end

return M

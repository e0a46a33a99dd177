-- End-to-end test of the plugin in a headless Neovim (0.7 and later):
--
--   nvim --headless -u NONE -i NONE --cmd "set rtp^=editor-clients/nvim" \
--     -c "luafile editor-clients/nvim/tests/e2e.lua"
--
-- Copies examples/todo.spec.md into a temporary workspace, opens it with the plugin set
-- up (`trust = false`: phases 1 to 6 only), waits for the server's diagnostics, runs
-- :SpecloomGenerate, and checks the generated files on disk, the progress messages and
-- the run events; then runs :SpecloomGenerate again (nothing changed: no conflict).
-- Exits 0 when all is well (`qa!`), 1 otherwise (`cquit 1`).
--
-- Environment: SPECLOOM_PYTHON (default: python3), the interpreter with specloom_lsp;
-- SPECLOOM_REPO (default: the current directory), the repository; SPECLOOM_E2E_LOG, a
-- file for the server's log; SPECLOOM_E2E_WORKSPACE, the workspace to make (kept
-- afterwards; default: one in Neovim's temporary folder, removed when it exits).

local started = vim.loop.hrtime()
local failures = {}

---@param text string
local function log(text)
  io.stdout:write(string.format("[%6.2fs] %s\n", (vim.loop.hrtime() - started) / 1e9, text))
  io.stdout:flush()
end

---@param ok any
---@param what string
local function check(ok, what)
  if ok then
    log("ok: " .. what)
  else
    log("FAIL: " .. what)
    table.insert(failures, what)
  end
  return ok
end

local function finish()
  if #failures == 0 then
    log("e2e: all checks passed")
    vim.cmd("qa!")
  else
    log(string.format("e2e: %d checks failed: %s", #failures, table.concat(failures, "; ")))
    vim.cmd("cquit 1")
  end
end

local function run()
  local repo = vim.env.SPECLOOM_REPO or vim.fn.getcwd()
  local python = vim.env.SPECLOOM_PYTHON or "python3"
  log(
    "Neovim "
      .. tostring(vim.version().major .. "." .. vim.version().minor .. "." .. vim.version().patch)
  )

  -- a workspace of its own, with one spec
  local workspace = vim.env.SPECLOOM_E2E_WORKSPACE
  if not workspace or workspace == "" then
    workspace = vim.fn.tempname() .. "-specloom-nvim" -- removed when Neovim exits
  end
  vim.fn.mkdir(workspace .. "/.git", "p")
  local spec = workspace .. "/todo.spec.md"
  vim.fn.writefile(vim.fn.readfile(repo .. "/examples/todo.spec.md", "b"), spec, "b")
  local out_dir = workspace .. "/todo-app"
  log("workspace " .. workspace)

  local diagnostics = {} -- uri -> number of publishDiagnostics received
  local cmd = { python, "-m", "specloom_lsp" }
  if vim.env.SPECLOOM_E2E_LOG and vim.env.SPECLOOM_E2E_LOG ~= "" then
    vim.list_extend(cmd, { "--log-file", vim.env.SPECLOOM_E2E_LOG, "--log-level", "DEBUG" })
  end
  local events = {}
  local handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, cfg)
      diagnostics[result.uri] = (diagnostics[result.uri] or 0) + 1
      return vim.lsp.handlers["textDocument/publishDiagnostics"](err, result, ctx, cfg)
    end,
  }
  local on_run_event = function(event)
    table.insert(events, event.kind)
  end
  local route = vim.env.SPECLOOM_E2E_ROUTE or "setup"
  log("route: " .. route)
  if route == "enable" then
    -- Neovim 0.11+: lsp/specloom.lua with vim.lsp.enable, the plugin for its commands
    vim.cmd("filetype on")
    require("specloom").setup({ autostart = false, on_run_event = on_run_event })
    vim.lsp.config("specloom", {
      cmd = cmd,
      settings = { specloom = { trust = false } },
      init_options = { specloom = { trust = false } },
      handlers = handlers,
    })
    vim.lsp.enable("specloom")
  else
    require("specloom").setup({
      cmd = cmd,
      trust = false,
      on_run_event = on_run_event,
      handlers = handlers,
    })
  end

  vim.cmd("edit " .. vim.fn.fnameescape(spec))
  local bufnr = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(bufnr)
  local specloom = require("specloom")

  check(
    vim.wait(15000, function()
      return specloom.clients(bufnr)[1] ~= nil
    end, 20),
    "the server is attached to the spec buffer"
  )
  local client = specloom.clients(bufnr)[1]
  if not client then
    return finish()
  end
  check(
    vim.wait(20000, function()
      return client.initialized ~= false and (diagnostics[uri] or 0) > 0
    end, 20),
    "publishDiagnostics for the spec"
  )
  log(string.format("diagnostics of the spec: %d", #vim.diagnostic.get(bufnr)))
  check(#vim.diagnostic.get(bufnr) == 0, "the todo example compiles without diagnostics")
  local capabilities = client.server_capabilities or client.resolved_capabilities or {}
  local commands = capabilities.executeCommandProvider
      and capabilities.executeCommandProvider.commands
    or {}
  check(vim.tbl_contains(commands, "specloom.generate"), "the server offers specloom.generate")

  check(
    vim.wait(10000, function()
      return #vim.lsp.codelens.get(bufnr) >= 3
    end, 20),
    "code lenses Plan, Generate, Validate"
  )

  -- the user commands exist
  for _, name in ipairs({ "Plan", "Generate", "Validate", "Repair", "Cancel", "Status" }) do
    check(vim.fn.exists(":Specloom" .. name) == 2, ":Specloom" .. name .. " exists")
  end

  -- generate
  local progress = require("specloom.progress")
  progress.clear()
  local clock = vim.loop.hrtime()
  vim.cmd("SpecloomGenerate")
  local done = vim.wait(240000, function()
    return specloom.results[uri] and specloom.results[uri]["specloom.generate"] ~= nil
  end, 50)
  log(string.format("generate answered in %.2f s", (vim.loop.hrtime() - clock) / 1e9))
  if not check(done, "specloom.generate answered") then
    return finish()
  end
  local answer = specloom.results[uri]["specloom.generate"]
  log("message: " .. answer.message)
  check(answer.err == nil, "generate without error: " .. vim.inspect(answer.err))
  local result = answer.result or {}
  log(
    string.format(
      "status %s, %d files, output %s",
      tostring(result.status),
      #(result.files or {}),
      vim.inspect(result.output and result.output.applied)
    )
  )
  check(
    result.status == "incomplete",
    "untrusted run ends incomplete (got " .. tostring(result.status) .. ")"
  )
  check(result.trust and result.trust.trusted == false, "the run was not trusted")
  check(
    result.output and result.output.applied == "applyEdit",
    "the files came as a workspace edit"
  )
  check(
    result.output and (result.output.not_saved_yet == nil or #result.output.not_saved_yet == 0),
    "all files were on disk when the server looked"
  )
  check(#(result.files or {}) > 10, "the run generated files")
  for _, path in ipairs({
    "app/main.py",
    "app/database.py",
    "requirements.txt",
    "tests/conftest.py",
  }) do
    check(vim.fn.filereadable(out_dir .. "/" .. path) == 1, path .. " is on disk")
  end
  local missing = {}
  for _, path in ipairs(result.files or {}) do
    if vim.fn.filereadable(out_dir .. "/" .. path) ~= 1 then
      table.insert(missing, path)
    end
  end
  check(
    #missing == 0,
    "every generated file is on disk (missing: " .. table.concat(missing, ", ") .. ")"
  )
  local edits = require("specloom.edits").history
  local last_edit = edits[#edits]
  check(
    last_edit and last_edit.applied and #last_edit.written > 0,
    "the plugin wrote the edit's files"
  )
  local modified = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].modified then
      table.insert(modified, vim.api.nvim_buf_get_name(b))
    end
  end
  check(#modified == 0, "no modified buffer is left (" .. table.concat(modified, ", ") .. ")")

  -- progress, as it arrived
  local kinds = {}
  for _, entry in ipairs(progress.history) do
    kinds[entry.kind] = (kinds[entry.kind] or 0) + 1
  end
  log(
    string.format(
      "progress: %d begin, %d report, %d end",
      kinds.begin or 0,
      kinds.report or 0,
      kinds["end"] or 0
    )
  )
  local last_phase
  for i, entry in ipairs(progress.history) do
    local phase = entry.text:match("^Specloom: phase (%d+)")
    if i <= 2 or i == #progress.history or (phase and phase ~= last_phase) then
      log("  progress: " .. entry.text)
    end
    last_phase = phase or last_phase
  end
  check(
    (kinds.begin or 0) >= 1 and (kinds.report or 0) >= 1 and (kinds["end"] or 0) >= 1,
    "progress begin, report and end"
  )
  local phase6 = false
  for _, entry in ipairs(progress.history) do
    if entry.text:match("^Specloom: phase 6/11 code generation") and entry.text:match("%d+%%$") then
      phase6 = true
    end
  end
  check(phase6, "a progress message 'Specloom: phase 6/11 code generation N%'")
  check(
    vim.tbl_contains(events, "run_started") and vim.tbl_contains(events, "run_finished"),
    "specloom/runEvent notifications (" .. #events .. ")"
  )

  -- again: nothing changed, nothing to write, no conflict
  specloom.results[uri]["specloom.generate"] = nil
  clock = vim.loop.hrtime()
  vim.cmd("SpecloomGenerate")
  done = vim.wait(240000, function()
    return specloom.results[uri]["specloom.generate"] ~= nil
  end, 50)
  log(string.format("second generate answered in %.2f s", (vim.loop.hrtime() - clock) / 1e9))
  if check(done, "second specloom.generate answered") then
    local again = specloom.results[uri]["specloom.generate"]
    log("message: " .. again.message)
    local output = (again.result or {}).output or {}
    check(again.err == nil and #(output.conflicts or {}) == 0, "the second run has no conflicts")
    check(#(output.written or {}) == 0, "the second run wrote nothing")
  end

  -- status and cancel answer
  specloom.run("status", { bufnr = bufnr, silent = true })
  specloom.run("cancel", { bufnr = bufnr, silent = true })
  check(
    vim.wait(10000, function()
      local r = specloom.results[uri]
      return r["specloom.status"] ~= nil and r["specloom.cancel"] ~= nil
    end, 20),
    "status and cancel answered"
  )
  check(specloom.results[uri]["specloom.cancel"].result == false, "cancel: no run in flight")

  -- :checkhealth specloom
  vim.cmd("checkhealth specloom")
  local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  check(report:match("specloom") and report:match("OK") ~= nil, ":checkhealth specloom ran")
  check(not report:match("ERROR"), ":checkhealth specloom has no error")
  if report:match("ERROR") then
    log(report)
  end
  check(report:match("client %d+: root"), ":checkhealth specloom lists the client")

  -- stop the server
  vim.lsp.stop_client(client.id)
  vim.wait(5000, function()
    return vim.lsp.get_client_by_id(client.id) == nil
  end, 20)
  finish()
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  log("FAIL: the test raised: " .. tostring(err))
  vim.cmd("cquit 1")
end

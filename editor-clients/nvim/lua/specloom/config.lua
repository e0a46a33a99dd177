--- The plugin's options, and the LSP client configuration built from them.
---
--- Works on Neovim 0.7 and later: nothing here needs `vim.fs` or `vim.lsp.start`.

local M = {}

---@class specloom.Settings
---@field specGlob? string which documents are specs (relative to the workspace root)
---@field outputDirectory? string|table<string, string> where a spec's app goes
---@field storeUrl? string the run store
---@field databaseUrl? string a PostgreSQL server for the generated app during verification
---@field trust? boolean whether generated code may run (phases 7 to 10); nil: the server asks
---@field repairAttempts? integer repair attempts of the verify loop (0 to 20)
---@field debounceMs? integer quiet time before a changed spec is compiled (0 to 10000)

---@alias specloom.ProgressDisplay "echo"|"notify"|false|fun(message: string, value: table, token: string|integer)

---@class specloom.Options
---@field cmd? string[] the server's command (default: `{ "specloom", "lsp" }`)
---@field cmd_env? table<string, string> extra environment variables of the server
---@field root_markers? string[] files or folders that mark the workspace root
---@field root_dir? string|fun(bufnr: integer): string|nil the workspace root (default: from `root_markers`)
---@field pattern? string Lua pattern a buffer's name must match to be a spec (default `%.spec%.md$`)
---@field autostart? boolean start the server for spec buffers (default true); false: commands only (e.g. with `vim.lsp.enable("specloom")`)
---@field trust? boolean shortcut for `settings.trust`
---@field settings? specloom.Settings the `specloom` settings, sent as initializationOptions and on workspace/configuration
---@field progress? specloom.ProgressDisplay how progress is shown (default "echo")
---@field progress_interval_ms? integer at most one progress echo per interval, except phase changes (default 100)
---@field save_edits? boolean write the files a server-sent workspace edit changed (default true)
---@field keep_edit_buffers? boolean keep the buffers a workspace edit had to load (default false: they are unloaded after writing)
---@field codelens? boolean show the server's code lenses (Plan, Generate, Validate; test status of flows) in spec buffers (default true)
---@field on_attach? fun(client: table, bufnr: integer)
---@field on_run_event? fun(event: table, client_id: integer) every `specloom/runEvent` notification
---@field on_result? fun(command: string, result: table|nil, err: table|nil, bufnr: integer) every command's answer
---@field capabilities? table merged over Neovim's client capabilities
---@field handlers? table<string, function> LSP handlers, over the plugin's own

---@type specloom.Options
M.defaults = {
  cmd = { "specloom", "lsp" },
  cmd_env = nil,
  root_markers = { ".specloom", ".git" },
  root_dir = nil,
  pattern = "%.spec%.md$",
  autostart = true,
  trust = nil,
  settings = {},
  progress = "echo",
  progress_interval_ms = 100,
  save_edits = true,
  keep_edit_buffers = false,
  codelens = true,
  on_attach = nil,
  on_run_event = nil,
  on_result = nil,
  capabilities = nil,
  handlers = nil,
}

---@type specloom.Options
M.options = vim.deepcopy(M.defaults)

--- Merge `opts` over the defaults and keep them as the current options.
---@param opts? specloom.Options
---@return specloom.Options
function M.set(opts)
  opts = opts or {}
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- lists are replaced, not merged index by index
  if opts.cmd then
    merged.cmd = opts.cmd
  end
  if opts.root_markers then
    merged.root_markers = opts.root_markers
  end
  M.options = merged
  return merged
end

--- The `specloom` settings the server gets: `settings`, with `trust` from the options.
---@param opts? specloom.Options
---@return table
function M.settings(opts)
  opts = opts or M.options
  local settings = vim.deepcopy(opts.settings or {})
  if opts.trust ~= nil then
    settings.trust = opts.trust
  end
  if next(settings) == nil then
    return vim.empty_dict() -- an object, not `[]`, in JSON
  end
  return settings
end

--- Whether a path (or buffer name) is a spec document.
---@param name string
---@param opts? specloom.Options
---@return boolean
function M.is_spec(name, opts)
  opts = opts or M.options
  return name ~= "" and name:match(opts.pattern or M.defaults.pattern) ~= nil
end

---@param path string
---@return boolean
local function exists(path)
  return vim.loop.fs_stat(path) ~= nil
end

--- The innermost folder above `path` holding one of `markers`, or nil.
---@param path string an absolute file name
---@param markers string[]
---@return string|nil
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    for _, marker in ipairs(markers) do
      if exists(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return nil
end

--- The workspace root of a spec buffer: `root_dir`, else the innermost folder with a
--- root marker, else the current directory when the spec is under it, else the spec's
--- folder.
---@param bufnr integer
---@param opts? specloom.Options
---@return string
function M.root_dir(bufnr, opts)
  opts = opts or M.options
  local name = vim.api.nvim_buf_get_name(bufnr)
  if type(opts.root_dir) == "function" then
    local root = opts.root_dir(bufnr)
    if root then
      return root
    end
  elseif type(opts.root_dir) == "string" then
    return vim.fn.fnamemodify(opts.root_dir, ":p"):gsub("/$", "")
  end
  local found = M.find_root(name, opts.root_markers or {})
  if found then
    return found
  end
  local cwd = vim.fn.getcwd()
  local file = vim.fn.fnamemodify(name, ":p")
  if file:sub(1, #cwd + 1) == cwd .. "/" then
    return cwd
  end
  return vim.fn.fnamemodify(name, ":p:h")
end

--- The client capabilities: Neovim's, with `documentChanges` (Neovim can apply them but
--- does not say so; the server sends generated files as one edit only to clients that
--- do), then the user's.
---@param opts? specloom.Options
---@return table
function M.capabilities(opts)
  opts = opts or M.options
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities = vim.tbl_deep_extend("force", capabilities, {
    workspace = {
      applyEdit = true,
      workspaceEdit = {
        documentChanges = true,
        resourceOperations = { "create", "rename", "delete" },
      },
    },
    window = { workDoneProgress = true },
  })
  return vim.tbl_deep_extend("force", capabilities, opts.capabilities or {})
end

--- The language id of a spec buffer: `markdown` (the server's `specGlob` decides
--- which markdown documents are specs), or `specloom` when that is the filetype.
---@param _ integer
---@param filetype string
---@return string
function M.language_id(_, filetype)
  if filetype == "specloom" then
    return "specloom"
  end
  return "markdown"
end

--- The handlers of the Specloom client: progress, run events, workspace edits, over
--- Neovim's own; then the user's `handlers`.
---@param opts? specloom.Options
---@return table<string, function>
function M.handlers(opts)
  opts = opts or M.options
  local progress = require("specloom.progress")
  local edits = require("specloom.edits")
  local handlers = {
    ["$/progress"] = progress.progress_handler,
    ["specloom/runEvent"] = progress.run_event_handler,
    ["workspace/applyEdit"] = edits.apply_edit_handler,
    ["workspace/codeLens/refresh"] = function()
      require("specloom").refresh_codelens()
      return vim.NIL
    end,
  }
  return vim.tbl_extend("force", handlers, opts.handlers or {})
end

--- Client-side commands: a code lens's Plan, Generate, Validate run through the
--- plugin (its report of the answer) rather than straight to the server.
---@return table<string, fun(command: table, ctx: table)>
function M.commands()
  local commands = {}
  for _, name in ipairs({
    "specloom.plan",
    "specloom.generate",
    "specloom.validate",
    "specloom.repair",
  }) do
    commands[name] = function(command, ctx)
      require("specloom").run(command.command, { bufnr = ctx.bufnr })
    end
  end
  return commands
end

--- What the plugin does when the client attaches to a spec buffer: code lenses, then
--- the user's `on_attach`.
---@param opts? specloom.Options
---@return fun(client: table, bufnr: integer)
function M.on_attach(opts)
  return function(client, bufnr)
    local current = opts or M.options
    if current.codelens ~= false then
      require("specloom").enable_codelens(bufnr)
    end
    if current.on_attach then
      current.on_attach(client, bufnr)
    end
  end
end

--- The configuration of `vim.lsp.start` / `vim.lsp.start_client` for a spec buffer.
---@param bufnr integer
---@param opts? specloom.Options
---@return table
function M.client_config(bufnr, opts)
  opts = opts or M.options
  local root = M.root_dir(bufnr, opts)
  local settings = M.settings(opts)
  return {
    name = "specloom",
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = {
      { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") },
    },
    capabilities = M.capabilities(opts),
    handlers = M.handlers(opts),
    init_options = { specloom = settings },
    settings = { specloom = settings },
    get_language_id = M.language_id,
    commands = M.commands(),
    on_attach = M.on_attach(opts),
    flags = { debounce_text_changes = 100 },
  }
end

return M

--- The Specloom language server for Neovim 0.11+ (`vim.lsp.config` / `vim.lsp.enable`):
---
--- ```lua
--- vim.lsp.config("specloom", { settings = { specloom = { trust = false } } })
--- vim.lsp.enable("specloom")
--- require("specloom").setup({ autostart = false }) -- the :Specloom* commands
--- ```
---
--- Starts for markdown buffers whose name ends in `.spec.md` only, rooted at the
--- innermost folder with a root marker (else the spec's folder). With the plugin on the
--- runtimepath, the client gets its progress display, its handling of the generated
--- files' workspace edit and the code lenses' commands.

local root_markers = { ".specloom", ".git" }

local has_plugin, plugin = pcall(require, "specloom.config")

---@type vim.lsp.Config
local config = {
  cmd = { "specloom", "lsp" },
  filetypes = { "markdown", "specloom" },
  root_markers = root_markers,
  ---@param bufnr integer
  ---@param on_dir fun(root: string)
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    if not name:match("%.spec%.md$") then
      return -- not a spec: no client for this buffer
    end
    on_dir(vim.fs.root(bufnr, root_markers) or vim.fs.dirname(name))
  end,
  settings = { specloom = vim.empty_dict() },
  init_options = { specloom = vim.empty_dict() },
  get_language_id = function(_, filetype)
    return filetype == "specloom" and "specloom" or "markdown"
  end,
}

if has_plugin then
  config.capabilities = plugin.capabilities()
  config.handlers = plugin.handlers()
  config.commands = plugin.commands()
  config.on_attach = plugin.on_attach() -- code lenses, then setup()'s on_attach
else
  -- Neovim applies documentChanges but does not say so; the server needs it to send a
  -- run's generated files as one edit
  config.capabilities = {
    workspace = { workspaceEdit = { documentChanges = true } },
  }
end

return config

--- spark-lsp for Neovim: registers the server, turns on inline completion (native on 0.12,
--- extmark ghost text on 0.10/0.11), keeps the last completion's status, and offers commands
--- for the server's code actions.
local M = {}

--- The server's code-action kinds, by the name of the command that requests each.
M.actions = {
  generate = 'refactor.rewrite.spark.generateFunction',
  fill = 'refactor.rewrite.spark.fillTemplate',
  stronger = 'refactor.rewrite.spark.askStronger',
}

local defaults = {
  cmd = { 'spark-lsp' },
  filetypes = {
    'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
    'go', 'rust', 'java', 'c', 'cpp',
  },
  root_markers = { 'spark.toml', '.git' },
  -- The server's settings object, e.g. { fast = { provider = 'ollama', url = '…', model = '…' } }.
  -- Sent as initializationOptions and as the `spark` section of workspace/configuration.
  settings = {},
  inline = {
    enabled = true,
    -- On 0.12, use vim.lsp.inline_completion; false draws the plugin's own ghost text there too.
    native = true,
    -- Ghost text only (0.10/0.11): wait this long after a keystroke before asking the server
    -- (which debounces too, by its completion.debounce_ms, and cancels superseded requests).
    debounce_ms = 20,
    hl_group = 'SparkGhost',
    -- Insert-mode keys; false leaves a key unmapped.
    keys = { accept = '<M-l>', next = '<M-]>', prev = '<M-[>', dismiss = '<C-]>' },
  },
  -- Show a code action's progress (what is generated, for how long) in the message area.
  progress = true,
}

M.config = vim.deepcopy(defaults)

--- The last `spark/status` notification: { tier, model, latencyMs, source }, or nil.
M.status = nil

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

function M.native_inline()
  return M.config.inline.native and vim.lsp.inline_completion ~= nil
    and vim.lsp.inline_completion.enable ~= nil
end

--- Short status text for a statusline: `⚡ fast 42 ms`, or '' before the first completion.
function M.statusline()
  local s = M.status
  if not s then
    return ''
  end
  return ('%s %s %d ms'):format(s.tier == 'strong' and '🚀' or '⚡', s.tier, math.floor(s.latencyMs + 0.5))
end

local function on_status(_, result)
  M.status = result
  vim.g.spark_status = M.statusline()
  vim.api.nvim_exec_autocmds('User', { pattern = 'SparkStatus', modeline = false, data = result })
end

--- What the last completion came to, in words: `answered by qwen in 42 ms`.
function M.describe(s)
  local model = s.model ~= '' and s.model or 'default model'
  local ms = math.floor(s.latencyMs + 0.5)
  local what = ({
    model = ('answered by %s in %d ms'):format(model, ms),
    cache = ('served from cache in %d ms (made earlier by %s)'):format(ms, model),
    none = ('no suggestion at the last place asked (%s, %d ms)'):format(model, ms),
  })[s.source] or ('%s, %d ms'):format(model, ms)
  return ('%s tier: %s'):format(s.tier, what)
end

--- `:SparkStatus`
function M.show_status()
  local s = M.status
  if not s then
    vim.notify('spark-lsp: no completion yet', vim.log.levels.INFO)
    return
  end
  vim.notify('spark-lsp: ' .. M.describe(s), vim.log.levels.INFO)
end

--- Ask for the spark code action of one kind (see M.actions) and apply it: at the cursor, or on
--- lines `first`..`last` (1-based) when given, as for `:'<,'>SparkFill`.
function M.code_action(name, first, last)
  local kind = assert(M.actions[name], 'unknown spark action: ' .. tostring(name))
  local opts = { context = { only = { kind }, diagnostics = {} }, apply = true }
  if first then
    local last_line = vim.api.nvim_buf_get_lines(0, last - 1, last, true)[1]
    opts.range = { start = { first, 0 }, ['end'] = { last, #last_line } }
  end
  vim.lsp.buf.code_action(opts)
end

local function client_config()
  local settings = next(M.config.settings) and M.config.settings or vim.empty_dict()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  return {
    cmd = M.config.cmd,
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = settings,
    settings = { spark = settings },
    capabilities = capabilities,
    handlers = { ['spark/status'] = on_status },
  }
end

local function map_keys(bufnr, actions)
  for name, key in pairs(M.config.inline.keys) do
    if key and actions[name] then
      vim.keymap.set('i', key, function()
        if not actions[name]() then
          -- Nothing to act on: the key does what it did before.
          vim.api.nvim_feedkeys(vim.keycode(key), 'n', false)
        end
      end, { buffer = bufnr, desc = 'spark-lsp: ' .. name .. ' suggestion' })
    end
  end
end

local function native_actions(client, bufnr)
  local inline = vim.lsp.inline_completion
  local filter = { bufnr = bufnr, client_id = client.id }
  local function select(count)
    return function()
      inline.select({ bufnr = bufnr, count = count })
      return true
    end
  end
  return {
    accept = function()
      return inline.get({ bufnr = bufnr })
    end,
    next = select(1),
    prev = select(-1),
    dismiss = function()
      -- Turning it off for the buffer clears the shown item; on again for the next keystroke.
      inline.enable(false, filter)
      inline.enable(true, filter)
      return true
    end,
  }
end

local function on_attach(client, bufnr)
  if not M.config.inline.enabled then
    return
  end
  if M.native_inline() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr, client_id = client.id })
    map_keys(bufnr, native_actions(client, bufnr))
  else
    local ghost = require('spark_lsp.ghost')
    ghost.attach(client, bufnr, M.config.inline)
    map_keys(bufnr, {
      accept = function() return ghost.accept(bufnr) end,
      next = function() return ghost.cycle(bufnr, 1) end,
      prev = function() return ghost.cycle(bufnr, -1) end,
      dismiss = function() return ghost.dismiss(bufnr) end,
    })
  end
end

local function register()
  local config = client_config()
  if has('0.11') then
    vim.lsp.config('spark', config)
    vim.lsp.enable('spark')
    return
  end
  -- 0.10: no vim.lsp.config; start (or reuse) a client for each buffer of a listed filetype.
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('spark_lsp.start', { clear = true }),
    pattern = config.filetypes,
    callback = function(ev)
      vim.lsp.start({
        name = 'spark',
        cmd = config.cmd,
        root_dir = vim.fs.root(ev.buf, config.root_markers) or vim.fn.getcwd(),
        init_options = config.init_options,
        settings = config.settings,
        capabilities = config.capabilities,
        handlers = config.handlers,
      }, { bufnr = ev.buf })
    end,
  })
end

--- SparkGhost: grey and italic, with a 256-colour value too (Neovim's `Comment` has only a
--- truecolour one, so a link to it drew ghost text in the normal colour with 'termguicolors'
--- off, e.g. in tmux). `default`: a colour scheme's or the user's own SparkGhost wins.
function M.define_highlights()
  vim.api.nvim_set_hl(0, 'SparkGhost', { fg = '#808080', ctermfg = 244, italic = true, default = true })
end

--- Configure and enable spark-lsp. `opts` overrides the defaults above, key by key.
function M.setup(opts)
  -- Lists (cmd, filetypes, settings.context.exclude) are replaced, not merged.
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  M.define_highlights()
  vim.api.nvim_create_autocmd('ColorScheme', {
    group = vim.api.nvim_create_augroup('spark_lsp.highlights', { clear = true }),
    callback = M.define_highlights,
  })
  if M.config.progress then
    require('spark_lsp.progress').attach()
  end
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('spark_lsp.attach', { clear = true }),
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == 'spark' then
        on_attach(client, ev.buf)
      end
    end,
  })
  register()
end

return M

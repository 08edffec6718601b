--- spark-lsp's work-done progress ($/progress, through Neovim's LspProgress event) in the message
--- area: what a code action is generating and how long it has run; `:SparkCancel` stops it.
local M = {}

--- Tokens of the progress now running: token -> title.
M.active = {}
--- Every message shown, oldest first (the last 50), for tests and `:messages`-like looks.
M.seen = {}
--- The running action's message for a statusline ('' when none runs).
M.text = ''

local function remember(text)
  table.insert(M.seen, text)
  if #M.seen > 50 then
    table.remove(M.seen, 1)
  end
end

--- The line shown for one progress value.
function M.format(title, value)
  local message = value.message or (value.kind == 'end' and 'done' or '')
  return ('%s: %s'):format(title or 'spark-lsp', message)
end

local function on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  local params = ev.data.params
  if not client or client.name ~= 'spark' or not params or type(params.value) ~= 'table' then
    return
  end
  local token, value = params.token, params.value
  if value.kind == 'begin' then
    M.active[token] = { title = value.title, client_id = client.id }
  end
  local title = M.active[token] and M.active[token].title
  local text = M.format(title, value)
  if value.kind == 'end' then
    M.active[token] = nil
    M.text = ''
  else
    M.text = text
  end
  remember(text)
  vim.g.spark_progress = M.text
  vim.schedule(function()
    -- One screen line: a longer message would stop the editor with a hit-enter prompt.
    local width = math.max(vim.v.echospace, 10)
    local shown = vim.fn.strcharlen(text) > width
      and vim.fn.strcharpart(text, 0, width - 1) .. '…' or text
    vim.api.nvim_echo({ { shown, value.kind == 'end' and 'Normal' or 'MoreMsg' } }, false, {})
  end)
end

--- Cancel every running spark-lsp action (window/workDoneProgress/cancel); how many.
function M.cancel()
  local count = 0
  for token, entry in pairs(M.active) do
    local client = vim.lsp.get_client_by_id(entry.client_id)
    if client then
      client:notify('window/workDoneProgress/cancel', { token = token })
      count = count + 1
    end
  end
  return count
end

function M.attach()
  vim.api.nvim_create_autocmd('LspProgress', {
    group = vim.api.nvim_create_augroup('spark_lsp.progress', { clear = true }),
    callback = on_progress,
  })
end

return M

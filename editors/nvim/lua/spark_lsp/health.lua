--- :checkhealth spark_lsp
local M = {}

function M.check()
  local health = vim.health
  local spark = require('spark_lsp')
  health.start('spark-lsp')
  if vim.fn.has('nvim-0.10') == 0 then
    health.error('Neovim 0.10 or newer is needed')
    return
  end
  if spark.native_inline() then
    health.ok('inline completion: native (vim.lsp.inline_completion)')
  else
    health.ok('inline completion: ghost text drawn by the plugin (Neovim < 0.12)')
  end
  local exe = spark.config.cmd[1]
  if vim.fn.executable(exe) == 1 then
    health.ok(('server: %s'):format(vim.fn.exepath(exe)))
  else
    health.error(('server "%s" not found'):format(exe), {
      "pip install '.[local]' in a spark-lsp checkout", "or set cmd = { '/path/to/spark-lsp' } in setup()",
    })
  end
  local clients = vim.lsp.get_clients({ name = 'spark' })
  if #clients == 0 then
    health.info('no spark-lsp client running (open a file of a supported filetype)')
  end
  for _, client in ipairs(clients) do
    health.ok(('client %d running, root %s'):format(client.id, client.root_dir or '(none)'))
  end
  local status = spark.statusline()
  health.info('last completion: ' .. (status ~= '' and status or 'none yet'))
end

return M

-- Commands only; the server starts once `require('spark_lsp').setup()` has run
-- (lazy.nvim calls it for you when the plugin spec has `opts`).
if vim.g.loaded_spark_lsp then
  return
end
vim.g.loaded_spark_lsp = true

vim.api.nvim_create_user_command('SparkStatus', function()
  require('spark_lsp').show_status()
end, { desc = 'spark-lsp: tier, model and latency of the last completion' })

-- The code actions: at the cursor, or on a range of lines (`:'<,'>SparkFill`).
local actions = {
  SparkGenerate = { 'generate', 'spark-lsp: generate function' },
  SparkFill = { 'fill', 'spark-lsp: fill template' },
  SparkAskStronger = { 'stronger', 'spark-lsp: ask stronger model' },
}
for name, action in pairs(actions) do
  vim.api.nvim_create_user_command(name, function(args)
    if args.range > 0 then
      require('spark_lsp').code_action(action[1], args.line1, args.line2)
    else
      require('spark_lsp').code_action(action[1])
    end
  end, { desc = action[2], range = true })
end

vim.api.nvim_create_user_command('SparkCancel', function()
  local count = require('spark_lsp.progress').cancel()
  vim.notify(('spark-lsp: %d running action(s) cancelled'):format(count), vim.log.levels.INFO)
end, { desc = 'spark-lsp: cancel the running code action' })

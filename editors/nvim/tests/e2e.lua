-- End to end: a real Neovim with the plugin types into a Python file, gets the real spark-lsp's
-- suggestion as ghost text, accepts it with the accept key, and applies a code action.
--
--   FAKE_MODEL_URL=http://127.0.0.1:PORT SPARK_LSP_CMD=spark-lsp \
--     nvim --headless --clean -l editors/nvim/tests/e2e.lua
--
-- This script drives a second, embedded nvim over RPC (as Neovim's own tests do), so keys go
-- through real typeahead, mappings and insert-mode autocommands. Exit code: 0 when all pass.
local plugin_dir = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
local server_cmd = os.getenv('SPARK_LSP_CMD') or 'spark-lsp'
if server_cmd:find('/') then
  server_cmd = vim.fn.fnamemodify(server_cmd, ':p') -- the embedded nvim runs in another dir
end
local fake_url = os.getenv('FAKE_MODEL_URL')
local reply = os.getenv('FAKE_MODEL_REPLY') or 'return a + b'
if not fake_url then
  io.stderr:write('FAKE_MODEL_URL is not set (run through tests/e2e/test_editor_nvim.py)\n')
  os.exit(2)
end

local failures = 0
local function check(name, ok, detail)
  if ok then
    print('ok - ' .. name)
  else
    failures = failures + 1
    print(('not ok - %s%s'):format(name, detail ~= nil and (': ' .. vim.inspect(detail)) or ''))
  end
  return ok
end

local tmp = vim.fn.tempname()
vim.fn.mkdir(tmp, 'p')
local chan = vim.fn.jobstart({
  vim.v.progpath, '--embed', '--headless', '--clean', '-n',
  '--cmd', 'set runtimepath^=' .. vim.fn.fnameescape(plugin_dir),
}, {
  rpc = true,
  cwd = tmp,
  -- Fresh config and state dirs: no user spark.toml, no lsp.log in the home directory.
  env = { XDG_CONFIG_HOME = tmp .. '/config', XDG_STATE_HOME = tmp .. '/state' },
})
assert(chan > 0, 'cannot start an embedded nvim')

--- Run Lua in the embedded nvim; `...` arrives there as `...`.
local function lua(code, ...)
  return vim.fn.rpcrequest(chan, 'nvim_exec_lua', code, { ... })
end
--- Type keys into the embedded nvim, as a user would.
local function keys(text)
  vim.fn.rpcrequest(chan, 'nvim_input', text)
end
local function wait_for(name, fn, timeout_ms)
  local deadline = vim.uv.now() + (timeout_ms or 15000)
  local value = fn()
  while not value and vim.uv.now() < deadline do
    vim.wait(20)
    value = fn()
  end
  return check(name, value, not value and lua('return vim.fn.execute("messages")') or nil)
end
local function line(n)
  return lua('local row = ...; return vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1]', n)
end
local function ghost_text()
  return lua([[local c = require('spark_lsp.ghost').current(0); return c and c.text or vim.NIL]])
end
local function write(name, text)
  local path = tmp .. '/' .. name
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  return path
end
local function open(path)
  lua('vim.cmd.edit(...)', path)
  return wait_for('spark-lsp attaches to ' .. vim.fs.basename(path), function()
    return lua([[return #vim.lsp.get_clients({ bufnr = 0, name = 'spark' }) > 0
      and vim.fn.maparg('<M-l>', 'i') ~= '']])
  end)
end

print('# nvim ' .. tostring(vim.version()))
check('plugin/ loads at startup without errors',
  lua('return vim.g.loaded_spark_lsp == true and vim.fn.exists(":SparkStatus") == 2 and vim.v.errmsg == ""'),
  lua('return vim.v.errmsg'))

lua([[
  local cmd, url = ...
  vim.lsp.set_log_level('info') -- so the server's Info logs reach lsp.log, to check their level
  require('spark_lsp').setup({
    cmd = { cmd },
    settings = {
      fast = { provider = 'ollama', url = url, model = 'test' },
      completion = { debounce_ms = 0 },
    },
    inline = { native = false, debounce_ms = 0 },
  })
]], server_cmd, fake_url)

check('the ghost-text highlight has a 256-colour value (Comment has none in the default colours)',
  lua([[local hl = vim.api.nvim_get_hl(0, { name = 'SparkGhost', link = false })
    return hl.ctermfg ~= nil and hl.fg ~= nil]]),
  lua([[return vim.api.nvim_get_hl(0, { name = 'SparkGhost' })]]))
lua('vim.cmd.colorscheme("default")')
check('... and keeps it after a colour scheme is loaded',
  lua([[return vim.api.nvim_get_hl(0, { name = 'SparkGhost', link = false }).ctermfg ~= nil]]))
check(':SparkStatus says in words that there was no suggestion',
  lua([[local text = require('spark_lsp').describe({ tier = 'fast', model = 'm', latencyMs = 3, source = 'none' })
    return text:find('no suggestion', 1, true) ~= nil and text:find('source none', 1, true) == nil]]))

write('.git', '') -- a root marker
local add = write('add.py', 'def add(a, b):\n   \n')
if open(add) then
  -- Append a space to the 3-space line: the cursor lands on line 2 (1-based), column 4.
  lua('vim.api.nvim_win_set_cursor(0, { 2, 3 })')
  keys('A ')
  wait_for('ghost text shows the model reply', function()
    local text = ghost_text()
    return text ~= vim.NIL and text:find(reply, 1, true)
  end)
  check('the ghost text is an extmark at the cursor', lua([[
    local ns = require('spark_lsp.ghost').namespace
    local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
    local m = marks[1]
    return #marks == 1 and m[2] == 1 and m[3] == 4 and m[4].virt_text[1][1]:find(..., 1, true) ~= nil
  ]], reply), lua('return vim.api.nvim_buf_get_extmarks(0, require("spark_lsp.ghost").namespace, 0, -1, {details=true})'))

  keys('re')
  wait_for('typing its first letters keeps the rest on show', function()
    return line(2) == '    re' and ghost_text() == reply:sub(3)
  end)

  keys('<M-l>')
  wait_for('the accept key inserts the suggestion', function()
    return line(2) == '    ' .. reply
  end)
  check('the cursor ends after the inserted text, still in insert mode',
    lua('return vim.api.nvim_get_mode().mode == "i" and vim.api.nvim_win_get_cursor(0)[2] == #vim.api.nvim_get_current_line()'))

  keys('<Esc>')
  wait_for('spark/status is kept for the statusline', function()
    local status = lua('return vim.g.spark_status')
    return status ~= vim.NIL and status:match('^⚡ fast %d+ ms$')
  end)
  check(':SparkStatus runs', lua('return pcall(vim.cmd.SparkStatus)'))

  -- Dismiss: a fresh line, a suggestion, then the dismiss key.
  lua('vim.api.nvim_buf_set_lines(0, 1, 2, true, { "   " }); vim.api.nvim_win_set_cursor(0, { 2, 3 })')
  keys('A ')
  wait_for('a new suggestion after more typing', function()
    return ghost_text() ~= vim.NIL
  end)
  keys('<C-]>')
  wait_for('the dismiss key hides it', function()
    return ghost_text() == vim.NIL and lua([[
      return #vim.api.nvim_buf_get_extmarks(0, require('spark_lsp.ghost').namespace, 0, -1, {}) == 0]])
  end)
  keys('<Esc>')
end

local stub = write('stub.py', 'def add(a, b):\n    pass\n')
if open(stub) then
  lua('vim.api.nvim_win_set_cursor(0, { 2, 4 })')
  lua('vim.cmd.SparkFill()')
  wait_for(':SparkFill at `pass` applies the fill-template code action', function()
    return line(2) == '    ' .. reply
  end, 30000)
  check('the rest of the file is untouched', line(1) == 'def add(a, b):' and lua(
    'return vim.api.nvim_buf_line_count(0)') == 2, lua('return vim.api.nvim_buf_get_lines(0, 0, -1, true)'))
  wait_for('the action\'s $/progress showed in the message area, begin to end', function()
    return lua([[
      local seen = require('spark_lsp.progress').seen
      local first, last = seen[1] or '', seen[#seen] or ''
      return first:find('Spark: Fill template', 1, true) ~= nil
        and first:find('with test', 1, true) ~= nil and last:find(': done$') ~= nil
        and vim.g.spark_progress == '']])
  end)
end

check('no error messages', lua('return vim.v.errmsg') == '', lua('return vim.fn.execute("messages")'))
local log_path = lua('return vim.lsp.get_log_path()')
local log_file = io.open(log_path, 'r')
local log_text = log_file and log_file:read('*a') or ''
if log_file then
  log_file:close()
end
check("the server's logs reach lsp.log at their level, none as stderr errors",
  log_text:find('"stderr"', 1, true) == nil and log_text:find('[ERROR]', 1, true) == nil
    and log_text:find('indexed', 1, true) ~= nil, log_text)
pcall(vim.fn.rpcrequest, chan, 'nvim_command', 'qall!')
vim.fn.jobwait({ chan }, 5000)
vim.fn.delete(tmp, 'rf')
print(failures == 0 and '# all passed' or ('# %d failed'):format(failures))
os.exit(failures == 0 and 0 or 1)

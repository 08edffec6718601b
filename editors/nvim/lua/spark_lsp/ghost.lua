--- Ghost text for Neovim 0.10/0.11, which have no native inline completion: after a keystroke
--- in insert mode, ask the server for textDocument/inlineCompletion, draw the first item with
--- extmarks (inline for its first line, virtual lines for the rest) and apply it on accept.
local M = {}

local api = vim.api
local util = vim.lsp.util
local ns = api.nvim_create_namespace('spark_lsp.ghost')
local AUTOMATIC, INVOKED = 2, 1 -- lsp.InlineCompletionTriggerKind
local method = 'textDocument/inlineCompletion'
local modern = vim.fn.has('nvim-0.11') == 1 -- client:request(); 0.10 has client.request()

M.namespace = ns

---@class spark.Suggestion
---@field row integer       0-based row of the cursor it was made for
---@field col integer       byte column of that cursor
---@field text string       what goes at the cursor (what the user typed of it is cut off)
---@field tail integer      bytes after the cursor that it replaces
---@field command? lsp.Command

---@class spark.GhostState
---@field client vim.lsp.Client
---@field opts table        the `inline` options of setup()
---@field timer uv.uv_timer_t
---@field generation integer bumped whenever a pending answer becomes stale
---@field request_id? integer
---@field items? spark.Suggestion[]
---@field index integer
---@field tick integer       changedtick when the items were drawn

---@type table<integer, spark.GhostState>
local buffers = {}

--- Buffer 0 is the current one.
local function buf(bufnr)
  return (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
end

local function in_insert_mode()
  return api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

local function plain_text(insert_text)
  if type(insert_text) == 'string' then
    return insert_text
  end
  -- A snippet (lsp.StringValue): show and insert its text with placeholders filled in.
  local ok, text = pcall(function()
    return tostring(require('vim.lsp._snippet_grammar').parse(insert_text.value))
  end)
  return ok and text or insert_text.value
end

--- One item of the server's answer as a suggestion at the cursor, or nil when it does not fit
--- (a range on other lines, or text that does not start with what is already typed).
---@return spark.Suggestion?
local function suggestion(bufnr, client, raw, row, col)
  local text = plain_text(raw.insertText)
  local start_col, end_col = col, col
  if raw.range then
    if raw.range.start.line ~= row or raw.range['end'].line ~= row then
      return nil
    end
    start_col = util._get_line_byte_from_position(bufnr, raw.range.start, client.offset_encoding)
    end_col = util._get_line_byte_from_position(bufnr, raw.range['end'], client.offset_encoding)
    if start_col > col or end_col < col then
      return nil
    end
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1]
    local typed = line:sub(start_col + 1, col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
  end
  if text == '' then
    return nil
  end
  return { row = row, col = col, text = text, tail = end_col - col, command = raw.command }
end

local function clear(bufnr)
  local st = buffers[bufnr]
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
  if st then
    st.items = nil
  end
end

--- Forget any pending answer and cancel its request.
local function cancel(st)
  st.generation = st.generation + 1
  st.timer:stop()
  if st.request_id then
    if modern then
      st.client:cancel_request(st.request_id)
    else
      st.client.cancel_request(st.request_id)
    end
    st.request_id = nil
  end
end

local function render(bufnr)
  local st = buffers[bufnr]
  local item = st.items[st.index]
  api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local hl = st.opts.hl_group
  local lines = vim.split(item.text, '\n', { plain = true })
  if #st.items > 1 then
    lines[#lines] = lines[#lines] .. (' (%d/%d)'):format(st.index, #st.items)
  end
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], hl } }
  end
  api.nvim_buf_set_extmark(bufnr, ns, item.row, item.col, {
    virt_text = { { lines[1], hl } },
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
  st.tick = api.nvim_buf_get_changedtick(bufnr)
end

--- Ask the server for suggestions at the cursor (trigger: 1 invoked, 2 automatic).
function M.request(bufnr, trigger)
  bufnr = buf(bufnr)
  local st = buffers[bufnr]
  if not st or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  cancel(st)
  local generation = st.generation
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local cursor = api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local client = st.client
  local params = util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = trigger or INVOKED }

  local function on_answer(err, result)
    if st.generation ~= generation or not api.nvim_buf_is_valid(bufnr)
      or api.nvim_buf_get_changedtick(bufnr) ~= tick
      or not vim.deep_equal(api.nvim_win_get_cursor(0), cursor) then
      return -- the buffer or cursor moved on: a newer request (or none) is due
    end
    st.request_id = nil
    if err or not result then
      return
    end
    local items = {}
    for _, raw in ipairs(result.items or result) do
      items[#items + 1] = suggestion(bufnr, client, raw, row, col)
    end
    if #items > 0 then
      st.items, st.index = items, 1
      render(bufnr)
    end
  end

  local ok, id
  if modern then
    ok, id = client:request(method, params, on_answer, bufnr)
  else
    ok, id = client.request(method, params, on_answer, bufnr)
  end
  st.request_id = ok and id or nil
end

--- The suggestion on show, or nil.
---@return spark.Suggestion?
function M.current(bufnr)
  bufnr = buf(bufnr)
  local st = buffers[bufnr]
  return st and st.items and st.items[st.index] or nil
end

--- Apply the suggestion on show; false when there is none.
function M.accept(bufnr)
  bufnr = buf(bufnr)
  local st, item = buffers[bufnr], M.current(bufnr)
  if not item then
    return false
  end
  cancel(st)
  clear(bufnr)
  local lines = vim.split(item.text, '\n', { plain = true })
  api.nvim_buf_set_text(bufnr, item.row, item.col, item.row, item.col + item.tail, lines)
  local last_col = (#lines == 1 and item.col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { item.row + #lines, last_col })
  if item.command then
    if modern then
      st.client:exec_cmd(item.command, { bufnr = bufnr })
    else
      st.client.request('workspace/executeCommand', item.command, nil, bufnr)
    end
  end
  return true
end

--- Show the next (delta 1) or previous (-1) suggestion, or ask for some when none is on show.
function M.cycle(bufnr, delta)
  bufnr = buf(bufnr)
  local st = buffers[bufnr]
  if not st then
    return false
  end
  if not st.items then
    M.request(bufnr, INVOKED)
  elseif #st.items > 1 then
    st.index = (st.index - 1 + delta) % #st.items + 1
    render(bufnr)
  end
  return true
end

--- Hide the suggestion and forget pending answers; false when nothing was on show.
function M.dismiss(bufnr)
  bufnr = buf(bufnr)
  local st = buffers[bufnr]
  if not st then
    return false
  end
  local shown = st.items ~= nil
  cancel(st)
  clear(bufnr)
  return shown
end

--- After a keystroke: keep the suggestion if the user typed its beginning, else ask again.
local function on_text_changed(bufnr)
  local st, item = buffers[bufnr], M.current(bufnr)
  local cursor = api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  if item and row == item.row and col > item.col then
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1]
    local typed = line:sub(item.col + 1, col)
    if item.text:sub(1, #typed) == typed and #typed < #item.text then
      item.text, item.col = item.text:sub(#typed + 1), col
      st.items = { item } -- the others did not start with what was typed
      st.index = 1
      render(bufnr)
      return
    end
  end
  cancel(st)
  clear(bufnr)
  local delay = st.opts.debounce_ms
  st.timer:start(delay, 0, vim.schedule_wrap(function()
    if buffers[bufnr] == st and in_insert_mode() then
      M.request(bufnr, AUTOMATIC)
    end
  end))
end

local function on_cursor_moved(bufnr)
  local st, item = buffers[bufnr], M.current(bufnr)
  -- A keystroke moves the cursor too; TextChangedI, which comes next, handles those.
  if item and api.nvim_buf_get_changedtick(bufnr) == st.tick then
    local cursor = api.nvim_win_get_cursor(0)
    if cursor[1] - 1 ~= item.row or cursor[2] ~= item.col then
      M.dismiss(bufnr)
    end
  end
end

function M.detach(bufnr)
  local st = buffers[bufnr]
  if not st then
    return
  end
  cancel(st)
  clear(bufnr)
  st.timer:close()
  buffers[bufnr] = nil
  pcall(api.nvim_del_augroup_by_name, 'spark_lsp.ghost.' .. bufnr)
end

--- Draw the server's suggestions in `bufnr` while in insert mode.
function M.attach(client, bufnr, opts)
  M.detach(bufnr)
  buffers[bufnr] = {
    client = client,
    opts = opts,
    timer = assert(vim.uv.new_timer()),
    generation = 0,
    index = 1,
    tick = -1,
  }
  local group = api.nvim_create_augroup('spark_lsp.ghost.' .. bufnr, { clear = true })
  local function on(events, fn)
    api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = function() fn(bufnr) end })
  end
  on('TextChangedI', on_text_changed)
  on('CursorMovedI', on_cursor_moved)
  on({ 'InsertLeave', 'BufLeave' }, M.dismiss)
  on({ 'BufUnload' }, M.detach)
  api.nvim_create_autocmd('LspDetach', {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      if ev.data.client_id == client.id then
        M.detach(bufnr)
      end
    end,
  })
end

return M

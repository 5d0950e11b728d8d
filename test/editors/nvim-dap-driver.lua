-- Plays a user of nvim-dap through the scenario of editorHarness.ts. Sourced after an init.lua
-- that put nvim-dap on the runtimepath and loaded the shipped launch-configs/nvim-dap.lua.
-- RELAY_TEST_MODE: stdio (adapter `relay`), server (`relay_server`: nvim-dap spawns
-- `relay-dap --server=${port}`), tcp (`relay_tcp`, on RELAY_TEST_PORT instead of 4711).
-- Writes what it saw as JSON to $RELAY_TEST_RESULT, then waits for $RELAY_TEST_RESULT.ack.
local dap = require('dap')
local env = vim.env
local events, problems = {}, {}
local result_file = env.RELAY_TEST_RESULT

local function finish()
  local repl_text = ''
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(buf):match('dap%-repl') then
      repl_text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
    end
  end
  local file = io.open(result_file, 'w')
  file:write(vim.fn.json_encode({ events = events, problems = problems, output = repl_text .. '\n' }))
  file:close()
  vim.wait(120000, function() return vim.loop.fs_stat(result_file .. '.ack') ~= nil end, 50)
  -- Not :qa!, which a pending message can hold at a hit-enter prompt in headless mode.
  os.exit(0)
end

local function wait(what, condition)
  if not vim.wait(60000, condition, 20) then
    table.insert(problems, 'timed out waiting for ' .. what)
    finish()
  end
end

local function seen(event, reason)
  for _, e in ipairs(events) do
    if e[1] == event and (reason == nil or e[2] == reason) then return true end
  end
  return false
end

for _, name in ipairs({ 'stopped', 'exited', 'terminated' }) do
  dap.listeners.after['event_' .. name]['relay-test'] = function(_, body)
    body = body or {}
    table.insert(events, { name, body.reason or body.exitCode or vim.NIL })
  end
end

local exception_info
dap.listeners.after.exceptionInfo['relay-test'] = function(_, err, body)
  exception_info = err and ('error: ' .. (err.message or vim.inspect(err))) or (body or {}).exceptionId
end

local function paused_frame()
  local session = dap.session()
  return session ~= nil and session.current_frame ~= nil
end

local ok, err = pcall(function()
  local mode = env.RELAY_TEST_MODE
  vim.cmd('edit ' .. vim.fn.fnameescape(env.RELAY_TEST_JOB))
  vim.api.nvim_win_set_cursor(0, { tonumber(env.RELAY_TEST_LINE), 0 })
  dap.set_breakpoint()
  local config = dap.configurations.yaml[1]
  if mode == 'server' then
    config = vim.tbl_extend('force', config, { type = 'relay_server' })
  elseif mode == 'tcp' then
    config = dap.configurations.yaml[4]
    dap.adapters.relay_tcp.port = tonumber(env.RELAY_TEST_PORT)
  end
  dap.run(config)
  wait('the pause on entry', function() return seen('stopped', 'entry') end)
  wait('the paused frame', paused_frame)
  -- The console, as typed at its prompt.
  require('dap.repl').open()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win)):match('dap%-repl') then
      vim.api.nvim_set_current_win(win)
    end
  end
  local keys = 'A!echo ' .. env.RELAY_TEST_CONSOLE .. '<CR><Esc>'
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'x', false)
  wait("the console command's output", function()
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_get_name(buf):match('dap%-repl') then
        local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
        if text:find(env.RELAY_TEST_CONSOLE, 1, true) and text:find('exit 0', 1, true) then return true end
      end
    end
    return false
  end)
  dap.step_over()
  wait('the pause after Next', function() return seen('stopped', 'step') end)
  wait('the paused frame', paused_frame)
  dap.continue()
  wait('the breakpoint', function() return seen('stopped', 'breakpoint') end)
  wait('the paused frame', paused_frame)
  dap.continue()
  wait('the failed-step pause', function() return seen('stopped', 'exception') end)
  wait('the paused frame', paused_frame)
  -- nvim-dap asks what the "exception" was, to show it.
  wait('the exception info', function() return exception_info ~= nil end)
  table.insert(events, { 'exceptionInfo', exception_info })
  -- Stop.
  local answered
  dap.disconnect({ terminateDebuggee = true }, function(e)
    answered = e and ('disconnect failed: ' .. (e.message or vim.inspect(e))) or 'ok'
  end)
  wait('the answer to disconnect', function() return answered ~= nil end)
  if answered ~= 'ok' then table.insert(problems, answered) end
end)
if not ok then table.insert(problems, 'error: ' .. tostring(err)) end
finish()

-- Plays a user of nvim-dap through the scenario of editorHarness.ts. Sourced after an init.lua
-- that put nvim-dap on the runtimepath and loaded the shipped launch-configs/nvim-dap.lua.
-- RELAY_TEST_MODE: stdio (adapter `relay`), server (`relay_server`: nvim-dap spawns
-- `relay-dap --server=${port}`), tcp (`relay_tcp`, on RELAY_TEST_PORT instead of 4711).
-- RELAY_TEST_DEBUG_SCRIPT set: the `!debug` scenario instead (debug_scenario below).
-- Writes what it saw as JSON to $RELAY_TEST_RESULT, then waits for $RELAY_TEST_RESULT.ack.
local dap = require('dap')
local env = vim.env
local events, problems = {}, {}
local result_file = env.RELAY_TEST_RESULT
-- The errors nvim-dap shows the user (a request the adapter refused), from the `!debug` scenario on.
local notify, watch_errors = vim.notify, false
vim.notify = function(message, level, ...)
  if watch_errors and level == vim.log.levels.ERROR then table.insert(problems, 'error shown: ' .. message) end
  return notify(message, level, ...)
end
-- Filled by the `!debug` scenario: what the child session showed.
local child_seen = vim.NIL

local function repl_text()
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(buf):match('dap%-repl') then
      return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
    end
  end
  return ''
end

local function finish()
  local file = io.open(result_file, 'w')
  file:write(vim.fn.json_encode({ events = events, problems = problems, output = repl_text() .. '\n', child = child_seen }))
  file:close()
  vim.wait(120000, function() return vim.loop.fs_stat(result_file .. '.ack') ~= nil end, 50)
  -- Not :qa!, which a pending message can hold at a hit-enter prompt in headless mode.
  os.exit(0)
end

local function wait(what, condition)
  if not vim.wait(60000, condition, 20) then
    table.insert(problems, 'timed out waiting for ' .. what .. ', having seen ' .. vim.fn.json_encode(events))
    finish()
  end
end

local function seen(event, reason)
  for _, e in ipairs(events) do
    if e[1] == event and (reason == nil or e[2] == reason) then return true end
  end
  return false
end

local child_ids = {}
for _, name in ipairs({ 'stopped', 'exited', 'terminated' }) do
  dap.listeners.before['event_' .. name]['relay-test'] = function(session)
    -- Before: `terminated` closes the session, which lets go of its parent.
    if session.parent ~= nil then child_ids[session.id] = true end
  end
  dap.listeners.after['event_' .. name]['relay-test'] = function(session, body)
    body = body or {}
    -- A child session's events are told apart: `child stopped`, `child exited`, …
    local prefix = child_ids[session.id] and 'child ' or ''
    table.insert(events, { prefix .. name, body.reason or body.exitCode or vim.NIL })
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

--- Stop (disconnect, terminating the job); its answer must come.
local function stop()
  local answered
  dap.disconnect({ terminateDebuggee = true }, function(e)
    answered = e and ('disconnect failed: ' .. (e.message or vim.inspect(e))) or 'ok'
  end)
  wait('the answer to disconnect', function() return answered ~= nil end)
  if answered ~= 'ok' then table.insert(problems, answered) end
end

--- Types `text` at the console's prompt, as a user does.
local function type_in_console(text)
  require('dap.repl').open()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win)):match('dap%-repl') then
      vim.api.nvim_set_current_win(win)
    end
  end
  local keys = 'A' .. text .. '<CR><Esc>'
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'x', false)
end

--- `!debug PYTHON script.py` typed in the paused job's console: nvim-dap opens the child session
--- itself (startDebugging), stops at the breakpoint set in script.py, shows its locals; Continue
--- runs the program to its end, and the job's console answers with its exit code.
local function debug_scenario(config)
  watch_errors = true
  local script = env.RELAY_TEST_DEBUG_SCRIPT
  vim.cmd('edit ' .. vim.fn.fnameescape(script))
  vim.api.nvim_win_set_cursor(0, { tonumber(env.RELAY_TEST_DEBUG_LINE), 0 })
  dap.set_breakpoint()
  dap.run(config)
  wait('the pause on entry', function() return seen('stopped', 'entry') end)
  wait('the paused frame', paused_frame)
  local parent = dap.session()
  type_in_console('!debug ' .. env.RELAY_TEST_DEBUG_PYTHON .. ' ' .. vim.fn.fnamemodify(script, ':t'))
  wait('the child session to stop', function() return seen('child stopped') end)
  local child = select(2, next(parent.children))
  wait("the child's paused frame", function() return child.current_frame ~= nil end)
  -- The job stays paused, so nvim-dap keeps it in focus: the user picks the child (the sessions
  -- widget does this) to look at it and to continue it.
  dap.set_session(child)
  local locals
  wait("the child's locals", function()
    for _, scope in ipairs(child.current_frame.scopes or {}) do
      if scope.name == 'Locals' and scope.variables then locals = scope.variables end
    end
    return locals ~= nil
  end)
  local frame = child.current_frame
  child_seen = {
    stoppedAt = { frame.source and frame.source.path or vim.NIL, frame.line, frame.name },
    a = locals.a and locals.a.value or vim.NIL,
    b = locals.b and locals.b.value or vim.NIL,
    -- The windows nvim-dap shows the stop in (the console keeps the focus): file and cursor line.
    windows = {},
  }
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win))
    if not name:match('dap%-repl') then
      table.insert(child_seen.windows, { name, vim.api.nvim_win_get_cursor(win)[1] })
    end
  end
  dap.continue()
  -- `raise SystemExit(7)` is an uncaught exception, where nvim-dap's default filters (debugpy's
  -- "Uncaught Exceptions") stop; the user continues once more.
  wait('the child session to stop again or end', function()
    return seen('child stopped', 'exception') or seen('child terminated')
  end)
  if not seen('child terminated') then
    -- nvim-dap asks what the exception was, to show it; the user reads it, then continues.
    wait('the exception info', function() return exception_info ~= nil end)
    child_seen.exception = exception_info
    dap.continue()
  end
  wait('the child session to end', function() return seen('child terminated') end)
  dap.set_session(parent)
  wait("the job console's answer", function() return repl_text():find('exit %d+') ~= nil end)
  stop()
end

local ok, err = pcall(function()
  local mode = env.RELAY_TEST_MODE
  if env.RELAY_TEST_DEBUG_SCRIPT then
    local config = dap.configurations.yaml[1]
    if mode == 'server' then config = vim.tbl_extend('force', config, { type = 'relay_server' }) end
    -- The job file, not `${file}`: the buffer in front is script.py.
    config = vim.tbl_extend('force', config, { program = env.RELAY_TEST_JOB })
    return debug_scenario(config)
  end
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
  type_in_console('!echo ' .. env.RELAY_TEST_CONSOLE)
  wait("the console command's output", function()
    local text = repl_text()
    return text:find(env.RELAY_TEST_CONSOLE, 1, true) ~= nil and text:find('exit 0', 1, true) ~= nil
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
  stop()
end)
if not ok then table.insert(problems, 'error: ' .. tostring(err)) end
finish()

-- relay-dap for nvim-dap. Put this in your Neovim config after require('dap'),
-- with `relay-dap` on your PATH (npm install -g relay-dap, or a clone's dist/cli/main.js).
local dap = require('dap')

-- Use by default: nvim-dap starts relay-dap and speaks DAP over its stdin/stdout.
dap.adapters.relay = {
  type = 'executable',
  command = 'relay-dap',
  args = {},
}

-- Use when you want the adapter's log on stderr, or stdio does not suit you: nvim-dap starts
-- relay-dap on a free TCP port it chooses and connects to it. --exit-with-client ends that
-- adapter with its session (or with Neovim): nvim-dap does not stop what it started.
dap.adapters.relay_server = {
  type = 'server',
  port = '${port}',
  executable = {
    command = 'relay-dap',
    args = { '--server=${port}', '--exit-with-client' },
  },
}

-- Use to connect to an adapter that is already running on a fixed port (`npm start`: 4711).
dap.adapters.relay_tcp = {
  type = 'server',
  host = '127.0.0.1',
  port = 4711,
}

-- Use on a shared machine for a server adapter that only you can reach: nvim-dap starts
-- relay-dap on a Unix domain socket in a private directory and connects to it. (Not
-- nvim-dap's `${pipe}`: that is a name directly in /tmp, where relay-dap refuses to create
-- a socket; the directory must be yours and 0700, and relay-dap creates it so.) Needs an
-- nvim-dap with `pipe` adapters (since mid-2023).
dap.adapters.relay_socket = function(callback)
  local socket = string.format(
    '%s/relay-dap/%d-%d.sock',
    vim.fn.stdpath('run'),
    vim.fn.getpid(),
    (vim.uv or vim.loop).hrtime()
  )
  callback({
    type = 'pipe',
    pipe = socket,
    executable = { command = 'relay-dap', args = { '--socket', socket, '--exit-with-client' } },
  })
end

-- Use to connect to an adapter already running on a socket:
-- `relay-dap --socket ~/.relay-dap/dap.sock` in a terminal.
dap.adapters.relay_pipe = {
  type = 'pipe',
  pipe = vim.fn.expand('~/.relay-dap/dap.sock'),
}

-- Configurations for YAML buffers (job files and workflows). `type` picks the adapter above.
dap.configurations.yaml = {
  {
    type = 'relay',
    request = 'launch',
    name = 'relay-dap: this job file or workflow',
    program = '${file}',
    stopOnEntry = true,
  },
  {
    type = 'relay',
    request = 'launch',
    name = 'relay-dap: this job file, in the container',
    program = '${file}',
    relayDir = '${workspaceFolder}/.relay',
    cwd = '/workspace',
  },
  {
    type = 'relay',
    request = 'attach',
    name = 'relay-dap: attach to a relay',
    relayDir = '${workspaceFolder}/.relay',
  },
  {
    type = 'relay_tcp',
    request = 'launch',
    name = 'relay-dap: through the adapter on port 4711',
    program = '${file}',
  },
}

-- Any buffer: one shell command (asked for when you start).
dap.configurations.sh = {
  {
    type = 'relay',
    request = 'launch',
    name = 'relay-dap: run a command',
    command = function()
      return vim.fn.input('Command: ', 'make test')
    end,
  },
}

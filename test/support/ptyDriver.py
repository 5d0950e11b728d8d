# Runs a command in a real pseudo-terminal for a test: the test's bytes on this process's
# stdin go to the terminal as typed, the terminal's output comes out on stdout, and SIGUSR1
# resizes the terminal to the rows and columns written in the file named by $PTY_SIZE_FILE
# (the kernel then sends SIGWINCH to the command, as a terminal emulator's resize does).
# Exits with the command's exit code. Usage: python3 ptyDriver.py ROWS COLS COMMAND...
import fcntl, os, pty, select, signal, struct, sys, termios

rows, cols, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.execvp(argv[0], argv)


def resize(_signum, _frame):
    with open(os.environ["PTY_SIZE_FILE"]) as f:
        r, c = (int(x) for x in f.read().split())
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))


signal.signal(signal.SIGUSR1, resize)
stdin_open = True
while True:
    try:
        r, _, _ = select.select([master] + ([0] if stdin_open else []), [], [])
    except InterruptedError:
        continue
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 65536)
        if not data:
            stdin_open = False
        else:
            os.write(master, data)
status = os.waitpid(pid, 0)[1]
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))

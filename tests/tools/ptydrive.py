#!/usr/bin/env python3
"""Run a command on a terminal of our own, as a person at a terminal would.

bats has no terminal, so the tty tests run skiff under this driver: a new
pty whose slave is the command's stdin, stdout, stderr and controlling
terminal (the command leads the foreground process group, as a shell's job
does). Steps are done in order, each once the output so far matches its
regular expression:

  --rows R --cols C        the window size to start with (default 24x80)
  --expect RE --send TEXT  type TEXT (Python escapes: \\r, \\x03 = Ctrl-C)
  --expect RE --resize RxC resize the window (the kernel sends SIGWINCH)
  --expect RE --signal SIG send the command a signal (TERM, INT, ...)
  --expect RE --check-raw  note whether the terminal is in raw mode now

At the end it prints the command's output, then lines saying
`ptydrive: exit=N`, `ptydrive: restored=yes|no` (the terminal's mode is the
one it had before the command ran) and, after --check-raw,
`ptydrive: raw=yes|no`. Exits 0 unless the driver itself failed (a step
whose output never came, the deadline); the exit code is in the output.
"""
import argparse
import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def parse_args(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=24)
    p.add_argument("--cols", type=int, default=80)
    p.add_argument("--deadline", type=float, default=40.0)
    p.add_argument("--settle", type=float, default=0.3,
                   help="pause after a resize, so the SIGWINCH is handled first")
    p.add_argument("command", nargs=argparse.REMAINDER)
    steps, rest, pending = [], [], None
    it = iter(argv)
    for arg in it:
        if arg == "--expect":
            pending = next(it)
        elif arg in ("--send", "--resize", "--signal"):
            steps.append((pending, arg[2:], next(it)))
            pending = None
        elif arg == "--check-raw":
            steps.append((pending, "check-raw", None))
            pending = None
        else:
            rest.append(arg)
            if arg == "--":
                rest.extend(it)
                break
    args = p.parse_args(rest)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        p.error("no command")
    return args, steps


def main():
    args, steps = parse_args(sys.argv[1:])
    master, slave = os.openpty()
    set_size(slave, args.rows, args.cols)
    before = termios.tcgetattr(slave)

    def become_terminal_leader():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(args.command, stdin=slave, stdout=slave, stderr=slave,
                             preexec_fn=become_terminal_leader, close_fds=True)
    out = b""
    matched_upto = 0
    deadline = time.monotonic() + args.deadline
    failure = None
    raw_seen = None
    status = None

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            out += data

    while True:
        if status is None:
            status = child.poll()
        if steps and status is None:
            pattern, action, value = steps[0]
            m = re.search(pattern.encode(), out[matched_upto:]) if pattern else True
            if m:
                if pattern:
                    matched_upto += m.end()
                steps.pop(0)
                if action == "send":
                    os.write(master, codecs.decode(value, "unicode_escape").encode("latin-1"))
                elif action == "resize":
                    rows, cols = (int(x) for x in value.lower().split("x"))
                    set_size(master, rows, cols)
                    time.sleep(args.settle)
                elif action == "signal":
                    child.send_signal(getattr(signal, "SIG" + value.upper()))
                elif action == "check-raw":
                    mode = termios.tcgetattr(slave)
                    raw_seen = not (mode[3] & (termios.ICANON | termios.ECHO | termios.ISIG))
                continue
        if status is not None:
            # What the command wrote last is still in the pty.
            before_len = -1
            while len(out) != before_len:
                before_len = len(out)
                pump(0.2)
            break
        if time.monotonic() > deadline:
            failure = "deadline of %gs reached" % args.deadline
            if steps:
                failure += "; still waiting for /%s/" % steps[0][0]
            child.kill()
            status = child.wait()
            break
        pump(0.1)

    after = termios.tcgetattr(slave)
    sys.stdout.write(out.decode("utf-8", "replace"))
    if not out.endswith(b"\n"):
        sys.stdout.write("\n")
    print("ptydrive: exit=%d" % (status if status >= 0 else 128 - status))
    print("ptydrive: restored=%s" % ("yes" if after == before else "no"))
    if raw_seen is not None:
        print("ptydrive: raw=%s" % ("yes" if raw_seen else "no"))
    if steps and failure is None:
        failure = "the command ended before /%s/ came" % steps[0][0]
    if failure:
        print("ptydrive: FAILED: %s" % failure)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

package cli

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal pair with the terminal side in raw mode,
// as a serial adapter would present it: no echo, no line editing.
func openPty() (master, tty *os.File, err error) {
	master, tty, err = pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("sim: opening a pseudo-terminal: %w", err)
	}
	t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err == nil {
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		err = unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, t)
	}
	if err != nil {
		master.Close()
		tty.Close()
		return nil, nil, fmt.Errorf("sim: setting the terminal to raw mode: %w", err)
	}
	return master, tty, nil
}

// pollable returns f as a file in non-blocking mode, which Go's poller
// serves: Close from another goroutine then ends a pending Read. f is
// closed.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	f.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sim: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

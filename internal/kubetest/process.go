package kubetest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one control-plane component running as a child process.
type process struct {
	name    string
	bin     string
	args    []string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// start runs the process with its output appended to its log file. The
// child gets its own process group (so stop reaches anything it spawns) and
// SIGKILL when its parent dies, because t.Cleanup does not run after a
// test-timeout panic and an orphaned apiserver would hold ports and memory.
func (p *process) start() error {
	logf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== %s %s starting\n", time.Now().Format(time.RFC3339), p.name)
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return nil
}

// running reports whether the process has not exited.
func (p *process) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the process group and SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.exited
	}
	p.cmd = nil
}

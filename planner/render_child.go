package planner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// addressSpaceHeadroom is how much address space, beyond what the Go
// runtime has mapped at start, the child may map per byte of its memory
// limit. The runtime reserves heap arenas ahead of use, so address space
// grows faster than resident memory; 2x leaves the RSS watchdog in charge
// for normal growth while RLIMIT_AS stops a runaway allocation the
// watchdog has not sampled yet.
const addressSpaceHeadroom = 2

// RunRenderChild is the render child's main: it reads a request on stdin,
// renders, and writes the result on stdout. It must run in a process of its
// own: it caps that process's address space and disables its network.
func RunRenderChild(stdin io.Reader, stdout io.Writer) error {
	req, repo, err := readRequest(stdin)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return writeResponse(stdout, renderResponse{Problems: []wireProblem{{Message: le.msg}}}, Limits{})
		}
		return err
	}
	lim := Limits(req.Limits).withDefaults()
	if err := capAddressSpace(lim.MemoryBytes * addressSpaceHeadroom); err != nil {
		return err
	}
	// krusty fetches http(s) resources with a fresh http.Client on the
	// default transport; the pre-scan refuses such references, and this
	// makes sure that even one it missed cannot reach the network. This
	// process does nothing else, so replacing the global is safe here.
	http.DefaultTransport = &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("network access is disabled during renders")
		},
	}
	// Anything a library prints must not corrupt the response: stdout here
	// is the writer passed in, the process's own standard output goes to
	// standard error (which the parent only reads for crash reports).
	os.Stdout = os.Stderr
	var objs []Object
	var probs []Problem
	if req.Helm != nil {
		objs, probs = RenderHelmInProcess(repo, *req.Helm, lim)
	} else {
		objs, probs = RenderInProcess(repo, req.EnvPath, lim)
	}
	return writeResponse(stdout, toWire(objs, probs), lim)
}

func writeResponse(w io.Writer, resp renderResponse, lim Limits) error {
	data, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("render child: encode result: %w", err)
	}
	if lim.MaxRepoBytes > 0 && int64(len(data)) > lim.maxOutputBytes() {
		data, _ = json.Marshal(renderResponse{Problems: []wireProblem{{Message: errOutputTooBig(lim.maxOutputBytes()).Error()}}})
	}
	_, err = w.Write(data)
	return err
}

// capAddressSpace sets RLIMIT_AS to what is mapped now plus extra, so an
// allocation past it fails ("out of memory") instead of growing the child
// until the machine swaps.
func capAddressSpace(extra int64) error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil // not Linux: the parent's watchdog still applies
	}
	var vmKB int64
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			vmKB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	limit := uint64(vmKB<<10 + extra)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		return fmt.Errorf("render child: limit address space: %w", err)
	}
	return nil
}

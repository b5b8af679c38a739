package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// controlSocket is the running sandbox's control endpoint, a Unix socket
// in its state directory: `--push` talks to it. A socket rather than a
// port, so only this machine's user can push and nothing needs a number.
const controlSocket = "control.sock"

type controlServer struct {
	srv  *http.Server
	path string
}

func startControl(path string, s *Sandbox) (*controlServer, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /push", func(w http.ResponseWriter, r *http.Request) {
		res, err := s.push(r.FormValue("message"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
	c := &controlServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, path: path}
	go c.srv.Serve(l)
	return c, nil
}

func (c *controlServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.srv.Shutdown(ctx)
	os.Remove(c.path)
}

// requestPush asks the sandbox running with state directory dir to push
// its working copy.
func requestPush(ctx context.Context, dir, message string) (pushResult, error) {
	sock := dir + "/" + controlSocket
	if _, err := os.Stat(sock); err != nil {
		return pushResult{}, fmt.Errorf("no sandbox running with state in %s (start one with `make sandbox`)", dir)
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://sandbox/push?message="+url.QueryEscape(message), nil)
	if err != nil {
		return pushResult{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return pushResult{}, fmt.Errorf("reach the sandbox: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return pushResult{}, errors.New(strings.TrimSpace(string(msg)))
	}
	var res pushResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return pushResult{}, fmt.Errorf("sandbox answer: %w", err)
	}
	return res, nil
}

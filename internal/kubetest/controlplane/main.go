// Command controlplane is one binary holding every process of a kubetest
// control plane, selected by its first argument:
//
//	controlplane apiserver --etcd-dir DIR --etcd-client-port N --etcd-peer-port N [kube-apiserver flags]
//	controlplane controller-manager [kube-controller-manager flags]
//	controlplane scheduler [kube-scheduler flags]
//	controlplane kwok [kwok flags]
//
// One binary instead of four links once (the link of k8s.io/kubernetes is the
// slow part of a cold build) and is cached as one file. It lives in its own Go
// module so the main module never depends on k8s.io/kubernetes.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: controlplane apiserver|controller-manager|scheduler|kwok [flags]")
		os.Exit(2)
	}
	role, args := os.Args[1], os.Args[2:]
	var err error
	switch role {
	case "apiserver":
		err = runAPIServer(args)
	case "controller-manager":
		err = runControllerManager(args)
	case "scheduler":
		err = runScheduler(args)
	case "kwok":
		err = runKwok(args)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "controlplane %s: %v\n", role, err)
		os.Exit(1)
	}
}

// takeFlags removes our own --name=value flags from args and returns them
// with the rest, which go to the wrapped component's own flag parsing.
func takeFlags(args []string, names ...string) (map[string]string, []string) {
	ours := map[string]string{}
	var rest []string
next:
	for _, a := range args {
		for _, n := range names {
			if v, ok := strings.CutPrefix(a, "--"+n+"="); ok {
				ours[n] = v
				continue next
			}
		}
		rest = append(rest, a)
	}
	return ours, rest
}

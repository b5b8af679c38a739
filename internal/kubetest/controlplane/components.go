package main

import (
	"os"

	"k8s.io/component-base/cli"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func runControllerManager(args []string) error {
	cmd := controllermanager.NewControllerManagerCommand()
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
	return nil
}

func runScheduler(args []string) error {
	cmd := scheduler.NewSchedulerCommand()
	cmd.SetArgs(args)
	os.Exit(cli.Run(cmd))
	return nil
}

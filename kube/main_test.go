package kube

import (
	"testing"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// cluster is the control plane shared by the package's tests.
var cluster *kubetest.Cluster

func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }

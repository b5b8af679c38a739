package ops

import (
	"testing"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// cluster is the control plane the package's tests plan against.
var cluster *kubetest.Cluster

func TestMain(m *testing.M) {
	kubetest.Main(m, &cluster)
}

# tugboat — see README.md. Every target works on a fresh clone: what a target
# needs (control-plane binaries, GitHub's API description) it fetches itself.
export GOTOOLCHAIN := local
GO ?= go

.PHONY: test sandbox cluster bench lint testdata controlplane

# The control plane (kube-apiserver + etcd, controller-manager, scheduler,
# kwok) is built once from internal/kubetest/controlplane and cached under the
# user cache dir. Building it here, before `go test`, keeps parallel test
# binaries from each cold-building it inside go test's timeout.
controlplane:
	$(GO) run ./internal/kubetest/cmd/prebuild

testdata:
	bash hack/testdata.sh

test: controlplane testdata
	$(GO) test -timeout 30m ./...

# Until the full sandbox lands: one local control plane, up until Ctrl-C.
sandbox: controlplane
	$(GO) run ./internal/kubetest/cmd/localcluster -name sandbox -kubeconfig $(CURDIR)/.cache/kubeconfig

cluster: controlplane
	$(GO) run ./internal/kubetest/cmd/localcluster -kubeconfig $(or $(KUBECONFIG_OUT),$(CURDIR)/.cache/kubeconfig)

bench: controlplane testdata
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

lint:
	$(GO) vet ./...
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

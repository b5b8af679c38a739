# tugboat — see README.md. Every target works on a fresh clone: what a target
# needs (control-plane binaries, GitHub's API description) it fetches itself.
export GOTOOLCHAIN := local
GO ?= go

.PHONY: test sandbox cluster bench lint testdata controlplane image

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

# tugboat end to end on this machine: two local clusters (staging, prod) with
# examples/ deployed, the GitHub emulator with an open pull request, and the
# real bot; up until Ctrl-C. SANDBOX_FLAGS=--script checks it and exits (CI).
sandbox: controlplane testdata
	$(GO) run ./cmd/sandbox $(SANDBOX_FLAGS)

cluster: controlplane
	$(GO) run ./internal/kubetest/cmd/localcluster -kubeconfig $(or $(KUBECONFIG_OUT),$(CURDIR)/.cache/kubeconfig)

bench: controlplane testdata
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

lint:
	$(GO) vet ./...
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# tugboat's image as an OCI image layout in .cache/image/layout, built with
# go-containerregistry: no Docker daemon, no registry. Push it with e.g.
# `crane push .cache/image/layout ghcr.io/acme/tugboat:v0.1.0`.
image:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o .cache/image/bot ./cmd/bot
	rm -rf .cache/image/layout
	$(GO) run ./internal/ociimage/cmd/build -binary .cache/image/bot -out .cache/image/layout \
		-revision "$$(git rev-parse HEAD 2>/dev/null)"

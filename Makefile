# chartsync: `make demo` runs the main job on the embedded example; `make test` runs the tests.
SWIFT ?= swift
BIN := .build/debug/chartsync
RELEASE_BIN := .build/release/chartsync

.PHONY: deps build release demo test test-release bench example-repo clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build --product chartsync

release: deps
	$(SWIFT) build -c release --product chartsync

# The main job on the embedded example repository (no network needed).
demo: build
	$(BIN) search --repo examples/repo hello-web --versions --devel
	$(BIN) search --repo examples/repo hello-web --version '~1.0'
	$(BIN) search --repo examples/repo hello-worker --json

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The same tests against an optimized build (release-only miscompiles have been seen).
test-release: deps
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing
	$(SWIFT) test -c release -Xswiftc -enable-testing --skip-build

bench: release
	bash scripts/bench-index.sh

# Rebuild examples/repo from examples/src (commit the result).
example-repo: build
	bash scripts/build-example-repo.sh

clean:
	rm -rf .build

